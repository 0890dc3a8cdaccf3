# Sourced by the CI scripts (preview.sh, up.sh, drift.sh): the project's
# environment (scripts/env.sh), the stack's passphrase rule, the policy pack and
# the folder the reports go to. Nothing here talks to GitHub: the workflows in
# .github/workflows call these scripts, and `npm test` runs them against the local
# cluster (test/e2e/pipeline.test.ts).
#
# Env:
#   ISTIO_MESH_POLICY_PACK  policy pack directory, enforced by preview.sh and up.sh
#                           (default <repo>/policy; it must exist)
#   ISTIO_MESH_CI_OUT       where the diff, the event log and the markdown summary go
#                           (default <repo>/artifacts/ci)
#   ISTIO_MESH_GRAFANA_ADMIN_PASSWORD  when set, becomes the stack's secret
#                           istio-mesh:grafanaAdminPassword before the run (from the
#                           CI's secret store; never on a command line)
#   GITHUB_ACTIONS, GITHUB_STEP_SUMMARY  set by GitHub Actions: the state backend must
#                           then be given, and the summary is appended to the job's.
# Exit status 2 from any of them: the script could not run (bad input, said why).

ci_fail() { echo "istio-mesh ci: $*" >&2; exit 2; }

# On a runner the checkout, and with it the default state folder (.pulumi-state),
# is thrown away after the job: every run would see a stack that deployed nothing.
if [[ "${GITHUB_ACTIONS:-}" == true && -z "${PULUMI_BACKEND_URL:-}" ]]; then
  ci_fail "PULUMI_BACKEND_URL is not set; on a CI runner the stacks' state must live in a backend that outlives the job (s3://..., azblob://..., gs://..., or Pulumi Cloud: https://api.pulumi.com)."
fi

# shellcheck source=scripts/env.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/env.sh"
cd "$PROJECT_DIR"
# A secret missing from the CI's store arrives as an empty variable. An empty
# passphrase is what the local cluster's stacks use; for any other stack it counts
# as none, so use_stack_passphrase refuses it instead of encrypting with it.
if [[ -z "${PULUMI_CONFIG_PASSPHRASE:-}" && -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]]; then
  unset PULUMI_CONFIG_PASSPHRASE
fi

CI_OUT="${ISTIO_MESH_CI_OUT:-$PROJECT_DIR/artifacts/ci}"
mkdir -p "$CI_OUT"
# The event log (one JSON engine event a line) is how the summary learns which
# resources change; the CLI offers `--event-log` only with debug commands on, as
# the Automation API runs it.
export PULUMI_DEBUG_COMMANDS=true

# ci_stack STACK: refuses a missing or malformed stack name before anything runs,
# and applies the passphrase rule of scripts/env.sh (real stacks bring their own).
ci_stack() {
  local stack="${1:-}"
  [[ -n "$stack" ]] || ci_fail "no stack given; usage: $(basename "$0") STACK"
  [[ "$stack" =~ ^[A-Za-z0-9_.-]+$ ]] || ci_fail "stack \"$stack\" is not a stack name (letters, digits, _ . - only)"
  use_stack_passphrase "$stack" || exit 2
  [[ -f "Pulumi.$stack.yaml" ]] || ci_fail "stack $stack has no Pulumi.$stack.yaml in $PROJECT_DIR; its settings are what the pipeline applies"
  ci_stack_secrets "$stack"
}

# ci_stack_secrets STACK: secrets kept in the CI's store become the stack's
# Pulumi secrets, encrypted in the runner's copy of Pulumi.STACK.yaml. The value
# goes through stdin, never the command line (visible in the process list).
ci_stack_secrets() {
  if [[ -n "${ISTIO_MESH_GRAFANA_ADMIN_PASSWORD:-}" ]]; then
    printf '%s' "$ISTIO_MESH_GRAFANA_ADMIN_PASSWORD" |
      pulumi config set --secret istio-mesh:grafanaAdminPassword --stack "$1" >/dev/null ||
      ci_fail "could not store ISTIO_MESH_GRAFANA_ADMIN_PASSWORD as the secret istio-mesh:grafanaAdminPassword of stack $1"
  fi
}

# ci_policy_pack: the policy pack directory, absolute. A missing pack stops the
# script: a pipeline whose gate silently vanished would pass every change.
ci_policy_pack() {
  local dir="${ISTIO_MESH_POLICY_PACK:-$PROJECT_DIR/policy}"
  [[ -d "$dir" ]] || ci_fail "policy pack directory $dir does not exist (ISTIO_MESH_POLICY_PACK); previews and updates run only with the policy pack enforced. Point ISTIO_MESH_POLICY_PACK at the pack, or add it at policy/."
  [[ -f "$dir/PulumiPolicy.yaml" ]] || ci_fail "policy pack directory $dir has no PulumiPolicy.yaml (ISTIO_MESH_POLICY_PACK); it is not a Pulumi policy pack."
  (cd "$dir" && pwd)
}

# ci_build: the stacks run the program built ahead of time (bin/).
ci_build() {
  [[ -d node_modules ]] || ci_fail "node_modules is missing; run npm ci first"
  npm run --silent build
}

# ci_gated STACK: the checks before a preview or an update under the policy
# pack: the stack (ci_stack), the build, and the pack, whose absolute path it
# puts in CI_POLICY_PACK.
ci_gated() {
  ci_stack "$1"
  CI_POLICY_PACK="$(ci_policy_pack)" || exit 2
  ci_build || exit 2
}

# ci_pulumi KIND STACK ARG...: `pulumi ARG...` of STACK with the diff, its text
# in $CI_OUT/KIND-STACK.txt and the engine's events in KIND-STACK.events.jsonl
# (what ci_summarize reads). Returns pulumi's exit status.
ci_pulumi() {
  local kind="$1" stack="$2"
  shift 2
  pulumi "$@" --stack "$stack" --diff --color never --suppress-progress \
    --event-log "$CI_OUT/$kind-$stack.events.jsonl" >"$CI_OUT/$kind-$stack.txt" 2>&1
}

# ci_summarize KIND STACK EXIT_CODE: writes $CI_OUT/KIND-STACK.md from the event
# log and the text output, appends it to the job summary on GitHub, and prints
# "<changes> <violations> <errors>" for the caller.
ci_summarize() {
  local kind="$1" stack="$2" code="$3"
  local md="$CI_OUT/$kind-$stack.md" counts
  counts="$(node "$PROJECT_DIR/bin/scripts/ci/summarize.js" --kind "$kind" --stack "$stack" --exit-code "$code" \
    --events "$CI_OUT/$kind-$stack.events.jsonl" --output "$CI_OUT/$kind-$stack.txt" --markdown "$md")" ||
    ci_fail "could not summarize $CI_OUT/$kind-$stack.events.jsonl"
  if [[ -n "${GITHUB_STEP_SUMMARY:-}" ]]; then cat "$md" >>"$GITHUB_STEP_SUMMARY"; fi
  echo "$counts"
}
