#!/usr/bin/env bash
# bench.sh: whole-process figures for `make bench`, measured interleaved in
# one run against reference programs built the same way (static, stripped):
#   baseline  reads a 2 KB JSON file and prints one field (tools/procbench/baseline)
#   kongfx    the least a kong + fx program costs (tools/procbench/kongfx)
#   libraries kongfx linked with every library stella's start-up links,
#             none called: the floor under stella (kongfx -tags libraries)
#   scrypt    one scrypt derivation with the file store's parameters (tools/procbench/scryptonly)
# and `stella version`, and `stella auth token` from a cached, valid session
# in the encrypted file store and (where a Secret Service can be started) in
# the keychain, each with its key in the kernel key cache (-cached, the
# default KeyCacheTTL) and without it (STELLA_KEY_CACHE_TTL=0: scrypt, or a
# D-Bus round trip, in every process). Run it inside scripts/with-keyring.sh
# for the keychain rows. The cached keys are dropped at the end (logout).
#
#   ROUNDS=N        rounds per group (default 60)
#   CASES=REGEXP    only the rows whose names match (the baseline always runs)
#   VS=PATH         another stella binary (say, a branch's): each stella row
#                   gets a twin NAME@vs in the same interleaved run
#   FLEET=0         skip the fleet cache figures (scripts/bench-fleet.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-60}
CASES=${CASES:-.}
VS=${VS:-}

. scripts/lib.sh

# The reference programs are built as make build builds stella: static and
# stripped (-s -w), so that every row pays the same for its file.
export CGO_ENABLED=0
go build -ldflags "-s -w" -o "$work/baseline" ./tools/procbench/baseline
go build -ldflags "-s -w" -o "$work/kongfx" ./tools/procbench/kongfx
go build -ldflags "-s -w" -tags libraries -o "$work/libraries" ./tools/procbench/kongfx
go build -ldflags "-s -w" -o "$work/scrypt" ./tools/procbench/scryptonly
go build -o "$work/procbench" ./tools/procbench
python3 - "$work/tok.json" <<'PY' 2>/dev/null || printf '{"access_token":"%s","token_type":"DPoP","expires_in":3600,"pad":"%s"}' "$(head -c 1500 /dev/zero | tr '\0' a)" "$(head -c 440 /dev/zero | tr '\0' b)" >"$work/tok.json"
import json, sys
json.dump({"access_token": "a" * 1500, "token_type": "DPoP", "expires_in": 3600, "pad": "b" * 440}, open(sys.argv[1], "w"))
PY

start_authority
printf 'operator\n' >"$work/password"
chmod 600 "$work/password"
export STELLA_AUTHORITY_URL="$issuer" STELLA_BACKEND_URL="$issuer" STELLA_CLIENT_ID=stella-cli \
  STELLA_SCOPE="openid offline_access packs.read" STELLA_USERNAME=operator STELLA_PASSWORD_FILE="$work/password" \
  STELLA_CONFIG_DIR="$work/cfg" STELLA_CACHE_PASSPHRASE=bench-passphrase NO_COLOR=1

stella="$PWD/bin/stella"
STELLA_TOKEN_STORAGE=file "$stella" auth login --password >/dev/null 2>&1
# Two groups, each interleaved with its own baseline: a scrypt process
# sweeps 32 MiB through the caches, and in one rotation whichever process
# follows it (a 2 ms start-up more than the baseline) pays for that.
startup=("baseline=$work/baseline $work/tok.json" "kongfx=$work/kongfx version"
  "libraries=$work/libraries version" "stella-version=$stella version"
  "token-file-cached=STELLA_TOKEN_STORAGE=file $stella auth token"
  "header-file-cached=STELLA_TOKEN_STORAGE=file $stella auth header --url $issuer/api/v1/me")
keychain=
if STELLA_TOKEN_STORAGE=keychain STELLA_CONFIG_DIR="$work/kc" "$stella" auth login --password >/dev/null 2>&1; then
  keychain=1
  startup+=("token-keychain-cached=STELLA_TOKEN_STORAGE=keychain STELLA_CONFIG_DIR=$work/kc $stella auth token"
    "token-keychain=STELLA_KEY_CACHE_TTL=0 STELLA_TOKEN_STORAGE=keychain STELLA_CONFIG_DIR=$work/kc $stella auth token")
else
  echo "bench: no keychain here (run under scripts/with-keyring.sh for the keychain row)" >&2
fi
scrypt=("baseline=$work/baseline $work/tok.json" "scrypt-only=$work/scrypt"
  "token-file=STELLA_KEY_CACHE_TTL=0 STELLA_TOKEN_STORAGE=file $stella auth token")

# rows NAME=COMMAND...: the baseline, the rows CASES selects, and with VS
# each stella row again with the other binary.
rows() {
  local r out=("$1")
  shift
  for r in "$@"; do
    [[ "${r%%=*}" =~ $CASES ]] || continue
    out+=("$r")
    if [ -n "$VS" ] && [[ "$r" == *"$stella "* ]]; then
      out+=("${r%%=*}@vs=${r#*=}")
      out[-1]=${out[-1]//"$stella "/"$VS "}
    fi
  done
  [ "${#out[@]}" -eq 1 ] || "$work/procbench" -n "$ROUNDS" "${out[@]}"
}
echo "start-up ($(uptime | sed 's/.*load/load/')):"
rows "${startup[@]}"
echo
echo "scrypt (the file store) ($(uptime | sed 's/.*load/load/')):"
rows "${scrypt[@]}"
# Drop the keys this run put in the kernel keyring with their sessions.
STELLA_TOKEN_STORAGE=file "$stella" auth logout --force >/dev/null 2>&1 || true
[ -z "$keychain" ] || STELLA_TOKEN_STORAGE=keychain STELLA_CONFIG_DIR="$work/kc" "$stella" auth logout --force >/dev/null 2>&1 || true
echo
[ "${FLEET:-1}" = 0 ] || scripts/bench-fleet.sh
