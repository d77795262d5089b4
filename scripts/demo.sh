#!/usr/bin/env bash
# make demo: start the development Authority on loopback and walk through a
# session with the real binary. Everything lives in a temporary directory
# that is removed at the end; nothing touches ~/.stellaops.
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/lib.sh

step() { if [ -t 2 ] && [ -z "${NO_COLOR:-}" ]; then printf '\n\033[1m$ %s\033[0m\n' "$*" >&2; else printf '\n$ %s\n' "$*" >&2; fi; }

start_authority
echo "Development Authority listening at $issuer (test infrastructure; see tools/devauthority)." >&2

printf 'stella-ci-secret\n' >"$work/ci.secret"
chmod 600 "$work/ci.secret"
export STELLA_CONFIG_DIR="$work/cfg"
export STELLA_AUTHORITY_URL="$issuer"
export STELLA_BACKEND_URL="$issuer"
export STELLA_CLIENT_ID=stella-ci
export STELLA_CLIENT_SECRET_FILE="$work/ci.secret"
export STELLA_SCOPE="packs.read packs.run"
export STELLA_TOKEN_STORAGE=file
export STELLA_CACHE_PASSPHRASE="demo-passphrase-not-for-real-use"

stella=./bin/stella
step "stella auth login            # client credentials: a client secret is configured"
$stella auth login
step "stella auth status           # no network: what is stored, until when, where"
$stella auth status
step "stella auth whoami           # identity and token claims"
$stella auth whoami
step "stella api GET /api/v1/jobs  # an authenticated backend call"
$stella api GET /api/v1/jobs
step "stella auth logout           # revoke at the Authority, delete the session"
$stella auth logout
step "stella auth status           # no session; exit 0: the client credentials sign in on the next command"
out=$($stella auth status)
printf '%s\n' "$out"
case $out in ready:*) ;; *) echo "expected \"ready: …\" after logout" >&2; exit 1 ;; esac
step "stella --json auth status    # the same for a CI pre-flight"
$stella --json auth status | grep '"state"'
printf '\nDemo finished: signed in, called the backend, signed out.\n' >&2
