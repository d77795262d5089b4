#!/usr/bin/env bash
# bench-fleet.sh: the shared fleet cache (TokenStorage: redis) for
# `make bench`, called by bench.sh.
#  1. Authority token requests for N = 1, 50, 200 simulated runners (each
#     its own HOME and config directory), all starting at once, with and
#     without the shared cache.
#  2. Whole-process time of `stella api GET /api/v1/me`, interleaved in one
#     run (tools/procbench): warm shared cache, warm local caches (file
#     store; keychain where a Secret Service answers), and a cold start that
#     asks the Authority every time.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-60}
if ! command -v redis-server >/dev/null 2>&1; then
  echo "bench-fleet: redis-server is not installed (apt-get install -y redis-server): skipped" >&2
  exit 0
fi

. scripts/lib.sh
redis_pid=
trap 'kill "$redis_pid" 2>/dev/null || true; cleanup' EXIT
export CGO_ENABLED=0
[ -x "$work/procbench" ] || go build -o "$work/procbench" ./tools/procbench

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$work" >"$work/redis.log" 2>&1 &
redis_pid=$!
for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.05; done

start_authority
printf 'stella-ci-secret\n' >"$work/ci.secret"
chmod 600 "$work/ci.secret"
export STELLA_AUTHORITY_URL="$issuer" STELLA_BACKEND_URL="$issuer" STELLA_CLIENT_ID=stella-ci \
  STELLA_CLIENT_SECRET_FILE="$work/ci.secret" STELLA_SCOPE="packs.read" NO_COLOR=1 \
  STELLA_TOKEN_CACHE_URL="redis://127.0.0.1:$port" STELLA_CACHE_PASSPHRASE=bench-passphrase
stella="$PWD/bin/stella"

grants() { curl -fsS "$issuer/admin/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["grants"].get("client_credentials",0))'; }

# runners N STORAGE: N stellas at once, each on its own "host".
runners() {
  local n=$1 storage=$2 i
  local pids=()
  for i in $(seq "$n"); do
    HOME="$work/runner-$i" STELLA_CONFIG_DIR="$work/runner-$i/cfg" STELLA_TOKEN_STORAGE="$storage" \
      "$stella" api GET /api/v1/me >/dev/null 2>>"$work/runners.err" &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || { echo "bench-fleet: a runner failed:" >&2; tail -5 "$work/runners.err" >&2; exit 1; }; done
}

echo "token requests at the Authority per N jobs (one token lifetime):"
printf '%8s %16s %16s %10s\n' N "without cache" "shared cache" ratio
for n in 1 50 200; do
  redis-cli -p "$port" flushall >/dev/null
  rm -rf "$work"/runner-*
  a=$(grants); runners "$n" memory; b=$(grants)
  rm -rf "$work"/runner-*
  runners "$n" redis; c=$(grants)
  printf '%8d %16d %16d %9.0f×\n' "$n" $((b - a)) $((c - b)) "$(python3 -c "print(($b-$a)/max(1,$c-$b))")"
done

# Warm caches for the timed commands: one job fills each.
mkdir -p "$work/shared" "$work/file"
HOME="$work/shared" STELLA_CONFIG_DIR="$work/shared/cfg" STELLA_TOKEN_STORAGE=redis "$stella" api GET /api/v1/me >/dev/null
HOME="$work/file" STELLA_CONFIG_DIR="$work/file/cfg" STELLA_TOKEN_STORAGE=file "$stella" api GET /api/v1/me >/dev/null
cmds=()
mkdir -p "$work/kc"
if HOME="$work/kc" STELLA_CONFIG_DIR="$work/kc/cfg" STELLA_TOKEN_STORAGE=keychain "$stella" api GET /api/v1/me >/dev/null 2>&1; then
  cmds+=("warm-keychain=HOME=$work/kc STELLA_CONFIG_DIR=$work/kc/cfg STELLA_TOKEN_STORAGE=keychain $stella api GET /api/v1/me")
else
  echo "bench-fleet: no keychain here (run under scripts/with-keyring.sh for the keychain row)" >&2
fi
cmds+=("warm-file=HOME=$work/file STELLA_CONFIG_DIR=$work/file/cfg STELLA_TOKEN_STORAGE=file $stella api GET /api/v1/me"
  "warm-shared=HOME=$work/shared STELLA_CONFIG_DIR=$work/shared/cfg STELLA_TOKEN_STORAGE=redis $stella api GET /api/v1/me"
  "cold=HOME=$work/cold STELLA_CONFIG_DIR=$work/cold/cfg STELLA_TOKEN_STORAGE=memory $stella api GET /api/v1/me")
mkdir -p "$work/cold"
echo
echo "stella api GET /api/v1/me, whole process (ratios to the first row):"
"$work/procbench" -n "$ROUNDS" "${cmds[@]}"
