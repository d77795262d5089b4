# lib.sh is sourced by demo.sh and bench.sh: a temporary work directory that
# is removed on exit, and the development Authority started on loopback.

work=$(mktemp -d)
authority_pid=
cleanup() {
  [ -n "$authority_pid" ] && kill "$authority_pid" 2>/dev/null && wait "$authority_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# start_authority [FLAGS...] starts bin/devauthority and sets $issuer.
start_authority() {
  ./bin/devauthority -addr 127.0.0.1:0 "$@" >"$work/authority.out" 2>"$work/authority.log" &
  authority_pid=$!
  for _ in $(seq 100); do
    [ -s "$work/authority.out" ] && break
    sleep 0.05
  done
  issuer=$(head -n1 "$work/authority.out")
  [ -n "$issuer" ] || { echo "the development Authority did not start:" >&2; cat "$work/authority.log" >&2; exit 1; }
}
