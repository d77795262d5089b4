#!/usr/bin/env bash
# with-keyring.sh CMD [ARGS...] runs CMD in a private D-Bus session with an
# unlocked gnome-keyring (Secret Service) whose keyrings live in a temporary
# directory, so keychain tests use a real Secret Service and never touch the
# user's own keyring. Needs dbus-run-session and gnome-keyring-daemon
# (Debian: dbus, gnome-keyring).
set -euo pipefail
if [[ "${1:-}" != "--inner" ]]; then
  for tool in dbus-run-session gnome-keyring-daemon; do
    command -v "$tool" >/dev/null || { echo "with-keyring: $tool not found (apt-get install dbus gnome-keyring)" >&2; exit 127; }
  done
  export STELLA_KEYRING_HOME
  STELLA_KEYRING_HOME=$(mktemp -d)
  trap 'rm -rf "$STELLA_KEYRING_HOME"' EXIT
  dbus-run-session -- "$0" --inner "$@"
  exit $?
fi
shift
export XDG_DATA_HOME="$STELLA_KEYRING_HOME/data" XDG_RUNTIME_DIR="$STELLA_KEYRING_HOME/run"
mkdir -p "$XDG_DATA_HOME" "$XDG_RUNTIME_DIR"
chmod 700 "$XDG_RUNTIME_DIR"
# --unlock with a password on stdin creates and unlocks the login keyring.
eval "$(printf 'stella-test-keyring' | gnome-keyring-daemon --unlock --components=secrets)" >/dev/null
export GNOME_KEYRING_CONTROL
"$@"
