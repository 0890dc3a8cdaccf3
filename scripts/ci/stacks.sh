#!/usr/bin/env bash
# The environment stacks the pipeline previews and deploys, as a JSON list for a
# workflow matrix, in deployment order: dev, staging (if present), any other,
# prod last. A stack is a Pulumi.<stack>.yaml in the project; the local cluster's
# stacks (local, and the tests' and benchmarks' own) are never deployed from CI.
#
# Usage: scripts/ci/stacks.sh [PROJECT_DIR]   -> ["dev","prod"]
set -euo pipefail
dir="${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
first=() middle=() last=()
for file in "$dir"/Pulumi.*.yaml; do
  [[ -e "$file" ]] || continue
  stack="${file##*/Pulumi.}"
  stack="${stack%.yaml}"
  case "$stack" in
    local | e2e* | smoke | bench | bench-scale) ;;
    dev) first=(dev "${first[@]}") ;;
    staging) first+=(staging) ;;
    prod) last+=(prod) ;;
    *) middle+=("$stack") ;;
  esac
done
all=("${first[@]}" "${middle[@]}" "${last[@]}")
[[ ${#all[@]} -gt 0 ]] || { echo "istio-mesh ci: no environment stack (Pulumi.<stack>.yaml) in $dir" >&2; exit 2; }
printf '%s\n' "${all[@]}" | node -e 'console.log(JSON.stringify(require("fs").readFileSync(0, "utf8").trim().split("\n")))'
