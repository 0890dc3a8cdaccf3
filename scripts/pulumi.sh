#!/usr/bin/env bash
# `npm run pulumi -- <args>`: any pulumi command against this project's stacks,
# from any shell, with what the other scripts use: the toolchain's CLI on PATH,
# the project's state backend and PULUMI_HOME, no update checks or plugin
# downloads (scripts/env.sh), and the passphrase rules of use_stack_passphrase.
# A bare `pulumi` in a fresh shell finds no CLI, or another backend, or asks for
# a passphrase the local stack does not have.
#
# The stack a command is about: --stack/-s, else the one `stack init|select|rm`
# names, else the selected one. A real stack without PULUMI_CONFIG_PASSPHRASE(_FILE)
# stops here with the fix, except in a terminal, where the CLI asks for it, and
# for commands that read no secrets (stack ls/select, version, ...).
#
# Usage: scripts/pulumi.sh ARGS...   e.g. scripts/pulumi.sh preview --stack prod
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/env.sh
source "$here/env.sh"
cd "$PROJECT_DIR"

if [[ $# -eq 0 ]]; then
  echo "usage: npm run pulumi -- <pulumi arguments>   e.g. npm run pulumi -- preview --stack prod" >&2
  exit 2
fi
command -v pulumi >/dev/null || {
  echo "pulumi: no pulumi CLI in $TOOLCHAIN_BIN or on PATH; run: npm run toolchain" >&2
  exit 2
}

# The command words before the first flag, e.g. "stack select" or "up".
words=()
for a in "$@"; do
  [[ "$a" == -* ]] && break
  words+=("$a")
done
stack=""
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[i]}" in
    --stack | -s) stack="${args[i + 1]:-}" ;;
    --stack=* | -s=*) stack="${args[i]#*=}" ;;
  esac
done
if [[ -z "$stack" && "${words[0]:-}" == "stack" ]]; then
  case "${words[1]:-}" in init | select | rm) stack="${words[2]:-}" ;; esac
fi

# Commands that never decrypt or encrypt a secret.
needs_secrets=true
case "${words[*]:-}" in
  "" | version | about | whoami | login* | logout* | plugin* | help* | "stack ls" | "stack select"* | "stack rm"* | "stack --show-name") needs_secrets=false ;;
esac

if $needs_secrets; then
  # Only when no stack was named: the selected one (none selected is the CLI's to report).
  [[ -n "$stack" ]] || stack="$(pulumi stack --show-name 2>/dev/null || true)"
  if [[ -n "$stack" ]] && ! use_stack_passphrase "$stack" 2>/dev/null; then
    if [[ -t 0 ]]; then
      echo "pulumi: stack $stack: no PULUMI_CONFIG_PASSPHRASE in the environment; the CLI will ask for it" >&2
    else
      use_stack_passphrase "$stack" || exit 2
    fi
  fi
fi

# Pulumi runs the program as JavaScript from bin/ (Pulumi.yaml typescript: false):
# commands that run it get an incremental build first.
case "${words[0]:-}" in
  up | update | preview | pre | import | watch) build_program >&2 ;;
  refresh | destroy) if [[ " $* " == *" --run-program"* ]]; then build_program >&2; fi ;;
esac

exec pulumi "$@"
