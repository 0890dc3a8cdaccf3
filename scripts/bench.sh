#!/usr/bin/env bash
# Benchmark (not a test): see scripts/bench.ts. Uses the cluster of `npm run
# cluster:up` (started if needed); takes ~5 minutes per run (BENCH_RUNS, default 3).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/env.sh
source "$here/env.sh"
cd "$PROJECT_DIR"
prepare_local_cluster
exec node bin/scripts/bench.js
