# Shared steps of scripts/chat and scripts/test: each installs what it needs, once.
# shellcheck shell=bash
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${HUBBUB_VENV:-$ROOT/.venv}"
PY="$VENV/bin/python"

# Each step with the time the script has run so far (bash's SECONDS), to see where a run's time goes.
log() { printf '\033[1m==> [%d:%02d] %s\033[0m\n' $((SECONDS / 60)) $((SECONDS % 60)) "$*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    log "need root for: $*"; return 1; fi
}

# Debian/Ubuntu packages, installed only when a command is missing.
ensure_apt() {
  local missing=()
  local pair cmd pkg
  # Each argument is command:package; the package is installed when the command is missing
  # (the command __missing__ is never there: for packages checked by the caller).
  for pair in "$@"; do
    cmd="${pair%%:*}"; pkg="${pair#*:}"
    if ! command -v "$cmd" >/dev/null 2>&1; then missing+=("$pkg"); fi
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if ! command -v apt-get >/dev/null; then
    log "please install: ${missing[*]}"; return 1
  fi
  log "installing ${missing[*]}"
  as_root apt-get update -qq
  local recommends=--no-install-recommends
  # Browsers come with what their packagers recommend (fonts, themes): tested that way.
  [ "${APT_WITH_RECOMMENDS:-}" = 1 ] && recommends=--install-recommends
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$recommends" "${missing[@]}" >/dev/null
}

ensure_python() {
  if [ ! -x "$PY" ]; then
    log "creating $VENV"
    python3 -m venv "$VENV"
  fi
  local stamp="$VENV/.hubbub-$1-$(cat "$ROOT/backend/requirements$2.lock" "$ROOT/backend/pyproject.toml" | sha256sum | cut -c1-16)"
  if [ ! -e "$stamp" ]; then
    log "installing Python packages ($1)"
    "$PY" -m pip install -q --upgrade pip >/dev/null
    "$PY" -m pip install -q -r "$ROOT/backend/requirements$2.lock"
    "$PY" -m pip install -q --no-deps -e "$ROOT/backend"
    touch "$stamp"
  fi
}

# Builds the UI into the package's static folder, which the server serves at /.
build_ui() {
  if ! command -v npm >/dev/null; then
    ensure_apt node:nodejs npm:npm
  fi
  (
    cd "$ROOT/frontend"
    if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
      log "installing UI packages"
      npm ci --no-audit --no-fund --loglevel=error
    fi
    log "building the UI"
    npm run --silent build
  )
}
