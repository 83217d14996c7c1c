# shellcheck shell=bash
# Sourced by start_qwen.sh and stop_qwen.sh: where the service's pid file is, and whether the
# pid in it is still our service (pids get reused, so a stale file must never name a stranger).
RUN_DIR="${QWEN_RUN_DIR:-run}"
PID_FILE="$RUN_DIR/qwen-chat.pid"

# Prints the service's pid and succeeds only when the pid file names a live qwen-chat.
running_pid() {
  local pid
  [ -f "$PID_FILE" ] || return 1
  pid="$(tr -dc '0-9' <"$PID_FILE")"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -Eq 'dist/apps/qwen-chat/src/main\.js|scripts/start_service\.sh' || return 1
  echo "$pid"
}
