#!/usr/bin/env bash
# What is installed, at which versions, and is it ready: compares the stack's
# outputs with the cluster. Exits non-zero when anything is missing or not ready.
# Usage: scripts/status.sh [--stack NAME] [--kubeconfig FILE]
# The stack's kubernetes:kubeconfig, when it holds contents, reaches kubectl through a
# file only this user can read (KUBECONFIG), never through a command line.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/env.sh
source "$here/env.sh"
cd "$PROJECT_DIR"
stack=local
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  [[ "${args[i]}" == "--stack" ]] && stack="${args[i + 1]:-}"
done
use_stack_passphrase "$stack"
[[ -f bin/scripts/status.js ]] || npm run --silent build
exec node bin/scripts/status.js "$@"
