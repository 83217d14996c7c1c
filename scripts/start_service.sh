#!/usr/bin/env bash
# The systemd unit's ExecStart (also used by start_qwen.sh): loads the card's driver environment
# from /etc/profile, then replaces itself with node, so the supervisor (systemd) sees, signals and
# restarts the real service process. Runs from the install root: config/default.yaml is found
# there, and relative paths in the configuration are taken from it.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
readonly MAIN=dist/apps/qwen-chat/src/main.js
# V8 flags for a small long-lived server: 1 MB young semi-spaces (V8 keeps 32 MB of them resident
# otherwise) and an old generation allowed to grow 20 % past the live heap between full collections:
# ~91 MB idle instead of ~111, and flat after bursts (docs/benchmarks.md, rows 5 and 6). The demo
# (package.json) and the benchmark (test/bench/service-process.ts) use the same list; a spec checks it.
readonly NODE_FLAGS=(--max-semi-space-size=1 --heap-growing-percent=20)

# /etc/profile resets PATH: remember which node we were started with.
NODE_BIN="$(command -v node || true)"

if [ -r /etc/profile ]; then
  # Profile scripts are not written for `set -eu`; the AXCL driver adds its library path there.
  set +eu
  # shellcheck source=/dev/null
  . /etc/profile >/dev/null
  set -eu
fi

[ -n "$NODE_BIN" ] || NODE_BIN="$(command -v node || true)"
if [ -z "$NODE_BIN" ]; then
  echo "start_service: ERROR: node is not installed (Node.js >= 20 is needed; see scripts/setup.sh)" >&2
  exit 1
fi
if [ ! -f "$MAIN" ]; then
  echo "start_service: ERROR: $ROOT/$MAIN is missing: build first (npm run build, or scripts/setup.sh)" >&2
  exit 1
fi

if ! "$NODE_BIN" "${NODE_FLAGS[@]}" -e '' 2>/dev/null; then
  # A V8 flag can disappear in a future Node: start anyway, with V8's defaults (more memory).
  echo "start_service: WARNING: node $("$NODE_BIN" --version) refuses ${NODE_FLAGS[*]}; starting without them" >&2
  exec "$NODE_BIN" "$MAIN" "$@"
fi
exec "$NODE_BIN" "${NODE_FLAGS[@]}" "$MAIN" "$@"
