#!/usr/bin/env bash
# Benchmarks (not tests): figures only, never assertions.
#   npm run bench              both tables below, one after the other, in one run
#                              (about 15 minutes for the ratios + 15 for the scale)
#   npm run bench -- --ratios  scripts/bench.ts: this stack against the Helm chain and istioctl
#                              on the cluster of `npm run cluster:up` (started if needed);
#                              ~5 minutes per run (BENCH_RUNS, default 3)
#   npm run bench -- --scale   scripts/bench-scale.ts: cost against N namespaces, workloads
#                              and nodes (BENCH_SCALE_SIZES, default 10,100,500), on a
#                              cluster of its own (.cluster-scale), started per N
#   npm run bench -- --scale --big-cluster   scripts/bench-bigcluster.ts: preview and up with
#                              thousands of pods the stack does not manage (BENCH_BIG_PODS,
#                              default 0,2500,10000), and the program's cluster reads
#   npm run bench -- --scale --migration     scripts/bench-migration.ts: restarts per minute of a
#                              canary move (BENCH_MIGRATION_SIZES, default 100,500, batch 50)
#                              against a kubectl rollout restart loop
#   npm run bench -- --breakdown  scripts/bench-breakdown.ts: where the seconds of one fresh
#                              `pulumi up` and one no-op preview go, from the engine's events
#   npm run bench -- --flat    scripts/bench-flat.ts: the stack against the same objects
#                              registered flat from a bare program (what the stack's
#                              structure costs, and the floor below it); ~15 minutes
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/env.sh
source "$here/env.sh"
cd "$PROJECT_DIR"
use_local_passphrase
mode="${1:-all}"
scale_mode="${2:-}"
case "$mode" in
  all | --ratios | --breakdown | --flat) scale_mode="" ;;
  --scale) ;;
  *)
    echo "bench: unknown mode '$mode'; use --ratios, --scale [--big-cluster|--migration], --breakdown, --flat or nothing (ratios, then scale)" >&2
    exit 2
    ;;
esac
case "$scale_mode" in
  "" | --big-cluster | --migration) ;;
  *)
    echo "bench: unknown scale mode '$scale_mode'; use --scale, --scale --big-cluster or --scale --migration" >&2
    exit 2
    ;;
esac
# The benchmark also runs istioctl install, which `npm run up` does not need.
bash "$PROJECT_DIR/scripts/toolchain.sh" up istioctl >/dev/null
if [[ "$mode" == --scale ]]; then
  # The scale mode starts clusters of its own; the local one is not needed.
  build_program
  case "$scale_mode" in
    --big-cluster) exec node bin/scripts/bench-bigcluster.js ;;
    --migration) exec node bin/scripts/bench-migration.js ;;
  esac
  exec node bin/scripts/bench-scale.js
fi
prepare_local_cluster
case "$mode" in
  --breakdown) exec node bin/scripts/bench-breakdown.js ;;
  --flat) exec node bin/scripts/bench-flat.js ;;
  --ratios) exec node bin/scripts/bench.js ;;
esac
node bin/scripts/bench.js
echo
node bin/scripts/bench-scale.js
