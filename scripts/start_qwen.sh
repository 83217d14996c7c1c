#!/usr/bin/env bash
# Starts qwen-chat in the background without systemd (development, or a quick try on the Pi),
# with a pid file and a log file. Stop it with scripts/stop_qwen.sh.
#
# Uses config/local.yaml when it exists (unless QWEN_CONFIG is set); other QWEN_* variables are
# passed through. Files (relative to the project root unless QWEN_RUN_DIR / QWEN_LOG_DIR are set):
#   run/qwen-chat.pid    the service's pid
#   logs/service.log     its output (the runner and tokenizer logs are beside it)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/service-pid.sh
source "$ROOT/scripts/service-pid.sh"
LOG_DIR="${QWEN_LOG_DIR:-logs}"
LOG_FILE="$LOG_DIR/service.log"

case "${1:-}" in
  -h | --help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  '') ;;
  *) echo "start_qwen: ERROR: unknown argument: $1 (try --help)" >&2; exit 1 ;;
esac


if pid="$(running_pid)"; then
  echo "start_qwen: already running (pid $pid); logs: $LOG_FILE"
  exit 0
fi

if [ -z "${QWEN_CONFIG:-}" ] && [ -f config/local.yaml ]; then
  export QWEN_CONFIG="$ROOT/config/local.yaml"
fi
mkdir -p -- "$RUN_DIR" "$LOG_DIR"
log_offset=0
[ -f "$LOG_FILE" ] && log_offset="$(wc -c <"$LOG_FILE")"

nohup "$ROOT/scripts/start_service.sh" >>"$LOG_FILE" 2>&1 </dev/null &
pid=$!
echo "$pid" >"$PID_FILE"

# Best effort: catches a start that failed at once (no build, no node). A bad configuration is
# reported a moment later in the log (exit status 2).
if ! kill -0 "$pid" 2>/dev/null; then
  rm -f -- "$PID_FILE"
  echo "start_qwen: ERROR: qwen-chat exited at once; see $LOG_FILE:" >&2
  tail -n 20 "$LOG_FILE" >&2
  exit 1
fi
echo "start_qwen: started (pid $pid); logs: $LOG_FILE"

# The URL comes from the service's own answer (its "listening on" line), so it is the port that
# config/local.yaml or QWEN_PORT really set. Listening is not ready: the model loads after that.
url=""
for _ in $(seq 1 150); do
  url="$(tail -c "+$((log_offset + 1))" "$LOG_FILE" 2>/dev/null | sed -n 's/^qwen-chat listening on \(http:[^ ;]*\).*/\1/p' | head -n 1)"
  [ -n "$url" ] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.2
done
if [ -z "$url" ] && ! kill -0 "$pid" 2>/dev/null; then
  rm -f -- "$PID_FILE"
  echo "start_qwen: ERROR: qwen-chat stopped during start-up; see $LOG_FILE:" >&2
  tail -n 20 "$LOG_FILE" >&2
  exit 1
fi
if [ -z "$url" ]; then
  echo "start_qwen: not listening yet after 30 s; follow $LOG_FILE"
  exit 0
fi
url="${url/\/\/0.0.0.0:/\/\/127.0.0.1:}"
echo "start_qwen: listening on $url; the model loads in about 30 s (\"READY\" in $LOG_FILE)"
echo "start_qwen: check: curl $url/health/ready"

