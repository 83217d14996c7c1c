#!/usr/bin/env bash
# Sets qwen-chat up from a fresh clone. Safe to run again (that is also how you update).
#
# Usage: scripts/setup.sh [--system] [--prefix DIR] [--skip-models] [--no-start]
#
# Without --system (development, in this checkout):
#   checks Node.js >= 20 and the build tools, runs npm ci and the build, downloads the model
#   (scripts/download_models.sh) and creates config/local.yaml from the template (an existing
#   one is never overwritten). Then start it with scripts/start_qwen.sh.
#
# With --system (the Raspberry Pi; needs root, re-runs itself with sudo):
#   the same in the install directory (/opt/qwen), plus the `qwen` system user (added to the
#   group that owns the card's /dev/axcl* nodes), /var/log/qwen and /run/qwen, and the systemd
#   unit qwen-chat.service, enabled at boot and (re)started.
#
# Options:
#   --system        install as a systemd service (see above)
#   --prefix DIR    install directory for --system (default /opt/qwen, or $QWEN_INSTALL_DIR)
#   --skip-models   do not run scripts/download_models.sh
#   --no-start      --system: install and enable the unit, but do not (re)start it now
#   -h, --help      this text
set -euo pipefail

readonly MIN_NODE_MAJOR=20
readonly SERVICE_NAME=qwen-chat
readonly SERVICE_USER=qwen
readonly LOG_DIR=/var/log/qwen
readonly RUN_DIR=/run/qwen
readonly UNIT_DIR=/etc/systemd/system
# Copied into the install directory: everything but build output, downloads, local state.
readonly COPY_EXCLUDES=(.git node_modules dist models logs run tmp coverage .cache config/local.yaml)

say() { printf 'setup: %s\n' "$*"; }
warn() { printf 'setup: WARNING: %s\n' "$*" >&2; }
die() {
  printf 'setup: ERROR: %s\n' "$*" >&2
  exit 1
}
usage() { sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; }

SELF="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")"
ROOT="$(cd "$(dirname "$SELF")/.." && pwd)"
ORIGINAL_ARGS=("$@")

system=0
skip_models=0
start_now=1
install_dir="${QWEN_INSTALL_DIR:-/opt/qwen}"
while [ $# -gt 0 ]; do
  case "$1" in
    --system) system=1 ;;
    --skip-models) skip_models=1 ;;
    --no-start) start_now=0 ;;
    --prefix)
      [ $# -ge 2 ] || die "--prefix needs a directory"
      install_dir="$2"
      shift
      ;;
    --prefix=*) install_dir="${1#--prefix=}" ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown option: $1" ;;
  esac
  shift
done
case "$install_dir" in
  /*) install_dir="${install_dir%/}" ;;
  *) die "--prefix must be an absolute path, got '$install_dir'" ;;
esac

# --- prerequisites: all reported at once, with the exact command that installs them --------------
check_prerequisites() {
  local missing_packages=() problems=() version major
  if ! command -v node >/dev/null 2>&1; then
    problems+=("Node.js is not installed: qwen-chat needs Node.js >= $MIN_NODE_MAJOR.")
  else
    version="$(node --version 2>/dev/null || true)"
    major="${version#v}"
    major="${major%%.*}"
    if ! [[ "$major" =~ ^[0-9]+$ ]] || [ "$major" -lt "$MIN_NODE_MAJOR" ]; then
      problems+=("Node.js ${version:-of unknown version} is too old: qwen-chat needs Node.js >= $MIN_NODE_MAJOR.")
    fi
  fi
  if [ "${#problems[@]}" -eq 0 ] && ! command -v npm >/dev/null 2>&1; then
    problems+=("npm is missing (it comes with Node.js; on Debian: sudo apt install npm).")
  fi
  if [ "${#problems[@]}" -gt 0 ]; then
    problems+=("Install Node.js $MIN_NODE_MAJOR LTS, e.g. from NodeSource:
    curl -fsSL https://deb.nodesource.com/setup_${MIN_NODE_MAJOR}.x | sudo -E bash - && sudo apt install -y nodejs
  (Raspberry Pi OS Bookworm's own nodejs package is 18: too old.)")
  fi
  # node-pty is compiled on install: it needs a C++ compiler, make and python3 (node-gyp).
  command -v g++ >/dev/null 2>&1 || missing_packages+=(build-essential)
  command -v make >/dev/null 2>&1 || missing_packages+=(build-essential)
  command -v python3 >/dev/null 2>&1 || missing_packages+=(python3)
  if [ "$skip_models" -eq 0 ]; then
    command -v git >/dev/null 2>&1 || missing_packages+=(git)
    git lfs version >/dev/null 2>&1 || missing_packages+=(git-lfs)
  fi
  if [ "${#missing_packages[@]}" -gt 0 ]; then
    mapfile -t missing_packages < <(printf '%s\n' "${missing_packages[@]}" | sort -u)
    local command="sudo apt install -y ${missing_packages[*]}"
    [[ " ${missing_packages[*]} " != *" git-lfs "* ]] || command+=" && git lfs install"
    problems+=("Missing build tools or git tools; install them with:
    $command")
  fi
  if [ "$system" -eq 1 ] && ! command -v systemctl >/dev/null 2>&1; then
    problems+=("--system needs systemd (systemctl not found); use scripts/start_qwen.sh instead.")
  fi
  if [ "${#problems[@]}" -gt 0 ]; then
    printf 'setup: ERROR: %s\n' "${problems[@]}" >&2
    exit 1
  fi
  say "node $(node --version), npm $(npm --version 2>/dev/null || echo '?'): ok"
}

# --- steps shared by both modes --------------------------------------------------------------------
build() { # $1 = directory holding package.json
  say "installing npm dependencies in $1 (npm ci; compiles node-pty, takes a few minutes on a Pi)"
  (cd "$1" && npm ci --no-audit --no-fund) || die "npm ci failed (see above); fix it and run setup again"
  say "building"
  (cd "$1" && npm run build) || die "the build failed (see above)"
}

download_models() { # $1 = root
  if [ "$skip_models" -eq 1 ]; then
    say "skipping the model download (--skip-models)"
    return
  fi
  "$1/scripts/download_models.sh" || die "the model download failed (see above); run setup again to resume"
}

create_local_config() { # $1 = root, $2 = group allowed to read it (optional)
  local config="$1/config/local.yaml" template="$1/deploy/config/local.example.yaml"
  if [ -e "$config" ]; then
    say "keeping the existing $config"
    return
  fi
  [ -f "$template" ] || die "the template $template is missing"
  install -m 0640 "$template" "$config"
  [ -z "${2:-}" ] || chgrp "$2" "$config"
  say "created $config (commented; edit it to set API keys, the port…)"
}

# --- --system only ----------------------------------------------------------------------------------
# Groups owning the card's device nodes, other than root (never add the service user to root).
device_node_groups() {
  local node
  for node in /dev/axcl* /dev/ax*; do
    [ -c "$node" ] && stat -c '%G' -- "$node"
  done | sort -u | grep -vx root || true
}

ensure_service_user() {
  if ! getent group "$SERVICE_USER" >/dev/null; then
    groupadd --system "$SERVICE_USER"
    say "created the group $SERVICE_USER"
  fi
  if ! id "$SERVICE_USER" >/dev/null 2>&1; then
    useradd --system --gid "$SERVICE_USER" --home-dir "$install_dir" --no-create-home \
      --shell /usr/sbin/nologin --comment 'qwen-chat service' "$SERVICE_USER"
    say "created the system user $SERVICE_USER"
  fi
  local groups group nodes
  nodes="$(compgen -G '/dev/ax*' | tr '\n' ' ' || true)"
  if [ -z "$nodes" ]; then
    warn "no /dev/ax* device nodes: is the AXCL driver installed and the card seen (axcl-smi)? The service will report the runner as failed until it is."
    return
  fi
  groups="$(device_node_groups)"
  if [ -z "$groups" ]; then
    warn "the card's device nodes ($nodes) belong to the root group: unless their mode lets others read and write them, the $SERVICE_USER user cannot open them (see README, 'device-node permissions')."
  fi
  for group in $groups; do
    if id -nG "$SERVICE_USER" | tr ' ' '\n' | grep -qx "$group"; then
      say "$SERVICE_USER is already in the group $group that owns the card's device nodes"
    else
      usermod -aG "$group" "$SERVICE_USER"
      say "added $SERVICE_USER to the group $group that owns the card's device nodes"
    fi
  done
}

copy_sources() {
  if [ "$(cd "$ROOT" && pwd -P)" = "$(mkdir -p "$install_dir" && cd "$install_dir" && pwd -P)" ]; then
    say "installing in place ($install_dir)"
    return
  fi
  say "copying the sources to $install_dir"
  if command -v rsync >/dev/null 2>&1; then
    local excludes=() item
    for item in "${COPY_EXCLUDES[@]}"; do excludes+=("--exclude=/$item"); done
    rsync -rlt --delete --chmod=u+rwX,go+rX,go-w "${excludes[@]}" "$ROOT/" "$install_dir/"
  else
    local excludes=() item
    for item in "${COPY_EXCLUDES[@]}"; do excludes+=("--exclude=./$item"); done
    # Without rsync: drop the old source folders first so deleted files do not linger.
    rm -rf -- "$install_dir/apps" "$install_dir/libs" "$install_dir/scripts" "$install_dir/test" "$install_dir/deploy"
    tar -C "$ROOT" "${excludes[@]}" -cf - . | tar -C "$install_dir" --no-same-owner -xf -
  fi
}

install_unit() {
  local unit="$UNIT_DIR/$SERVICE_NAME.service"
  install -d -o "$SERVICE_USER" -g "$SERVICE_USER" -m 0750 "$LOG_DIR" "$RUN_DIR"
  sed "s#/opt/qwen#$install_dir#g" "$install_dir/deploy/systemd/$SERVICE_NAME.service" >"$unit.new"
  chmod 0644 "$unit.new"
  mv -f "$unit.new" "$unit"
  # model.log and tokenizer.log stay open while the service runs: rotate them with copytruncate.
  if [ -d /etc/logrotate.d ]; then
    install -m 0644 "$install_dir/deploy/logrotate/$SERVICE_NAME" "/etc/logrotate.d/$SERVICE_NAME"
  fi
  systemctl daemon-reload
  systemctl enable "$SERVICE_NAME" >/dev/null
  say "installed and enabled $unit"
  if [ "$start_now" -eq 1 ]; then
    systemctl restart "$SERVICE_NAME"
    say "(re)started $SERVICE_NAME; loading the model takes about 30 seconds"
  fi
}

# The URL of the configured port (config/local.yaml, as the unit loads it), from the service's own config loader.
configured_url() { # $1 = root
  local url
  url="$(cd "$1" && { QWEN_CONFIG="$1/config/local.yaml" node dist/scripts/configured-url.js 2>/dev/null || true; })"
  if [[ "$url" == http://* ]]; then echo "$url"; else echo "http://127.0.0.1:<server.port of $1/config/local.yaml>"; fi
}

print_next_steps() {
  cat <<EOF

qwen-chat is installed in $install_dir and starts at boot. Check it with:
  systemctl status $SERVICE_NAME
  journalctl -u $SERVICE_NAME -f      # "READY" once the model is loaded
  curl $(configured_url "$install_dir")/health
Runner and tokenizer logs: $LOG_DIR/model.log, $LOG_DIR/tokenizer.log
Settings: $install_dir/config/local.yaml (then: sudo systemctl restart $SERVICE_NAME)
Update: git pull && ./scripts/setup.sh --system
EOF
}

# --- main -------------------------------------------------------------------------------------------
check_prerequisites

if [ "$system" -eq 0 ]; then
  build "$ROOT"
  download_models "$ROOT"
  create_local_config "$ROOT"
  if [ "$skip_models" -eq 1 ]; then
    cat <<EOF

Built, but the model was not downloaded (--skip-models): the service cannot load it yet.
Download it with ./scripts/download_models.sh, then start it with ./scripts/start_qwen.sh.
Without the card, try the emulator instead: npm run demo
EOF
    exit 0
  fi
  cat <<EOF

Ready. Start it in the background with ./scripts/start_qwen.sh (stop: ./scripts/stop_qwen.sh;
it prints the URL of the port set in config/local.yaml), or install it as a service on the Pi
with ./scripts/setup.sh --system.
EOF
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || die "--system needs root: run it as root"
  say "--system needs root: re-running with sudo"
  exec sudo -- env QWEN_INSTALL_DIR="$install_dir" \
    ${QWEN_MODEL_REPO_URL:+QWEN_MODEL_REPO_URL="$QWEN_MODEL_REPO_URL"} \
    ${QWEN_MODEL_COMMIT:+QWEN_MODEL_COMMIT="$QWEN_MODEL_COMMIT"} \
    "$SELF" "${ORIGINAL_ARGS[@]}"
fi

ensure_service_user
copy_sources
build "$install_dir"
download_models "$install_dir"
create_local_config "$install_dir" "$SERVICE_USER"
install_unit
print_next_steps
