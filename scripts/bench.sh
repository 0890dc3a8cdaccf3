#!/usr/bin/env bash
# Benchmarks (not tests): figures only, never assertions.
#   npm run bench              scripts/bench.ts: this stack against the Helm chain and istioctl
#                              on the cluster of `npm run cluster:up` (started if needed);
#                              ~5 minutes per run (BENCH_RUNS, default 3)
#   npm run bench -- --breakdown  scripts/bench-breakdown.ts: where the seconds of one fresh
#                              `pulumi up` and one no-op preview go, from the engine's events
#   npm run bench -- --scale   scripts/bench-scale.ts: cost against N namespaces, workloads
#                              and nodes (BENCH_SCALE_SIZES, default 10,100,500), on a
#                              cluster of its own (.cluster-scale), started per N
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/env.sh
source "$here/env.sh"
cd "$PROJECT_DIR"
use_stack_passphrase bench
if [[ "${1:-}" == "--scale" ]]; then
  (cd "$PROJECT_DIR" && { [[ -d node_modules ]] || npm ci --no-audit --no-fund; } && npm run --silent build)
  bash "$PROJECT_DIR/scripts/toolchain.sh" >/dev/null
  exec node bin/scripts/bench-scale.js
fi
# The benchmark also runs istioctl install, which `npm run up` does not need.
bash "$PROJECT_DIR/scripts/toolchain.sh" up istioctl >/dev/null
prepare_local_cluster
[[ "${1:-}" == "--breakdown" ]] && exec node bin/scripts/bench-breakdown.js
exec node bin/scripts/bench.js
