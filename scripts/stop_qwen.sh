#!/usr/bin/env bash
# Stops the qwen-chat started by scripts/start_qwen.sh, gracefully: SIGTERM lets it finish or
# cancel the request in flight, send "q" to the runner and stop the tokenizer. Only if it is
# still alive after QWEN_STOP_TIMEOUT seconds (default 30) is it killed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/service-pid.sh
source "$ROOT/scripts/service-pid.sh"
TIMEOUT="${QWEN_STOP_TIMEOUT:-30}"

case "${1:-}" in
  -h | --help) sed -n '2,4p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  '') ;;
  *) echo "stop_qwen: ERROR: unknown argument: $1 (try --help)" >&2; exit 1 ;;
esac
[[ "$TIMEOUT" =~ ^[0-9]+$ ]] || { echo "stop_qwen: ERROR: QWEN_STOP_TIMEOUT must be whole seconds" >&2; exit 1; }

if [ ! -f "$PID_FILE" ]; then
  echo "stop_qwen: not running (no $PID_FILE)"
  exit 0
fi
if ! pid="$(running_pid)"; then
  echo "stop_qwen: not running (removing the stale $PID_FILE)"
  rm -f -- "$PID_FILE"
  exit 0
fi

echo "stop_qwen: stopping qwen-chat (pid $pid)…"
kill -TERM "$pid"
deadline=$((SECONDS + TIMEOUT))
while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do
  sleep 0.2
done
if kill -0 "$pid" 2>/dev/null; then
  echo "stop_qwen: still running after ${TIMEOUT}s: killing it (and its runner and tokenizer)" >&2
  pkill -KILL -P "$pid" 2>/dev/null || true
  kill -KILL "$pid" 2>/dev/null || true
fi
rm -f -- "$PID_FILE"
echo "stop_qwen: stopped"
