#!/usr/bin/env bash
# Offline checks of the Terraform code (no cloud account, no provider download):
#
#   1. terraform fmt -check -recursive (and the example tfvars)
#   2. modules/cloud-init: terraform init -backend=false, validate, test
#   3. render both cloud-configs with sample values and `bash -n` every script
#      they install (shellcheck too, when it is installed)
#   4. checks/: npm ci, then the schema check of every .tf file against the
#      Hyperstack provider schema, then its self-tests (node --test)
#   5. the whole configuration with provider resources replaced by stand-ins
#      (checks/standin-plan.mjs): init, validate, apply to a temporary local
#      state, follow-up plans, assertions on the wiring
#
# Steps 1-3 and 5 need terraform. When it is missing they are skipped with a
# loud warning and step 4 still runs; set REQUIRE_TERRAFORM=1 to fail instead.
# Exit code: 0 when every step that ran passed, 1 otherwise.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$here"

export CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1 TF_INPUT=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

failed=()
step() {
  local name=$1
  shift
  echo
  echo "==> $name"
  if "$@"; then
    echo "--> ok: $name"
  else
    echo "--> FAILED: $name"
    failed+=("$name")
    return 1
  fi
}

tf_fmt() {
  terraform fmt -check -recursive -diff "$here" || return 1
  # terraform fmt only looks at .tf/.tfvars/.tftest.hcl: check the example as .tfvars.
  cp "$here/terraform.tfvars.example" "$work/example.tfvars"
  terraform fmt -check -diff "$work/example.tfvars"
}

tf_cloud_init() {
  # Own data dir, so the work tree stays clean.
  export TF_DATA_DIR="$work/cloud-init.terraform"
  terraform -chdir=modules/cloud-init init -backend=false -input=false >"$work/init.log" 2>&1 ||
    { cat "$work/init.log"; return 1; }
  terraform -chdir=modules/cloud-init validate -no-color || return 1
  terraform -chdir=modules/cloud-init test -no-color
}

tf_render_scripts() {
  export TF_DATA_DIR="$work/render.terraform"
  local state="$work/render.tfstate" dir="$work/scripts" n=0 f
  terraform -chdir=checks/render init -backend=false -input=false >"$work/render-init.log" 2>&1 ||
    { cat "$work/render-init.log"; return 1; }
  terraform -chdir=checks/render apply -auto-approve -no-color -state="$state" >"$work/render-apply.log" 2>&1 ||
    { cat "$work/render-apply.log"; return 1; }
  mkdir -p "$dir"
  terraform -chdir=checks/render output -state="$state" -json scripts >"$work/scripts.json" || return 1
  node -e '
    const fs = require("fs"), path = require("path");
    const [json, dir] = process.argv.slice(1);
    for (const [key, text] of Object.entries(JSON.parse(fs.readFileSync(json, "utf8")))) {
      fs.writeFileSync(path.join(dir, key.replace(/[^A-Za-z0-9._-]+/g, "_")), text);
    }' "$work/scripts.json" "$dir" || return 1
  local rc=0
  for f in "$dir"/*; do
    n=$((n + 1))
    if bash -n "$f"; then
      echo "bash -n ok: $(basename "$f")"
    else
      echo "bash -n FAILED: $(basename "$f")"
      rc=1
    fi
    if command -v shellcheck >/dev/null 2>&1; then
      shellcheck -s bash "$f" || rc=1
    fi
  done
  if [ "$n" -lt 6 ]; then
    echo "expected at least 6 rendered scripts, found $n"
    return 1
  fi
  command -v shellcheck >/dev/null 2>&1 || echo "(shellcheck not installed: only bash -n was run)"
  return $rc
}

npm_ci() {
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "node and npm are required for the schema check"
    return 1
  fi
  (cd checks && npm ci --no-audit --no-fund --loglevel=error)
}

schema_check() {
  node checks/check-schema.mjs || return 1
  (cd checks && node --test)
}

standin_run() {
  unset TF_DATA_DIR
  node checks/standin-plan.mjs
}

have_terraform=0
command -v terraform >/dev/null 2>&1 && have_terraform=1

if [ "$have_terraform" = 1 ]; then
  terraform version 2>/dev/null | sed -n 1p  # sed reads to the end: no SIGPIPE under pipefail
  step "terraform fmt -check -recursive" tf_fmt
  step "cloud-init module: init, validate, test" tf_cloud_init
  step "rendered cloud-init scripts: bash -n (and shellcheck)" tf_render_scripts
else
  cat >&2 <<'EOF'

##############################################################################
#                                                                            #
#  WARNING: terraform is NOT installed -- fmt, validate, terraform test,     #
#  the cloud-init rendering and the stand-in run are SKIPPED.                #
#  Only the schema check (node) runs.                                        #
#  Install Terraform >= 1.6 (1.11 in CI) to run everything.                  #
#                                                                            #
##############################################################################

EOF
  if [ "${REQUIRE_TERRAFORM:-0}" = 1 ]; then
    failed+=("terraform is missing (REQUIRE_TERRAFORM=1)")
  fi
fi

if step "npm ci in checks/" npm_ci; then
  step "schema check (node, @cdktf/hcl2json) and its self-tests" schema_check
  if [ "$have_terraform" = 1 ]; then
    step "whole configuration with stand-in resources: validate, apply, plan" standin_run
  fi
fi

echo
if [ ${#failed[@]} -gt 0 ]; then
  echo "terraform checks FAILED:"
  printf '  - %s\n' "${failed[@]}"
  exit 1
fi
if [ "$have_terraform" = 1 ]; then
  echo "terraform checks passed"
else
  echo "terraform checks passed, but the terraform steps were SKIPPED (terraform is not installed)" >&2
fi
