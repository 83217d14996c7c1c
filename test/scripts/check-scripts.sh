#!/usr/bin/env bash
# CI check of the install scripts and the systemd unit (called from .ci/run):
#   - shellcheck on every shell script of the project;
#   - systemd-analyze verify on deploy/systemd/qwen-chat.service, where systemd-analyze exists
#     (its warnings fail the check too: systemd only warns about bad keys, then ignores them).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

command -v shellcheck >/dev/null 2>&1 || { echo "check-scripts: shellcheck is not installed" >&2; exit 1; }
mapfile -t scripts < <(
  { find scripts deploy test .ci -type f -name '*.sh' -not -path '*/node_modules/*'; echo .ci/run; } | sort -u
)
echo "shellcheck: ${#scripts[@]} scripts"
shellcheck --severity=style "${scripts[@]}"

if ! command -v systemd-analyze >/dev/null 2>&1; then
  echo "systemd-analyze not found: skipping the unit check"
  exit 0
fi
tmp="$(mktemp -d)"
trap 'rm -rf -- "$tmp"' EXIT
# The unit names /opt/qwen; point it at this checkout so the ExecStart check sees a real file.
sed "s#/opt/qwen#$PWD#g" deploy/systemd/qwen-chat.service >"$tmp/qwen-chat.service"
if ! output="$(systemd-analyze verify "$tmp/qwen-chat.service" 2>&1)" || [ -n "$output" ]; then
  printf '%s\n' "$output" >&2
  echo "check-scripts: systemd-analyze verify found problems in deploy/systemd/qwen-chat.service" >&2
  exit 1
fi
echo "systemd-analyze verify: deploy/systemd/qwen-chat.service ok"
