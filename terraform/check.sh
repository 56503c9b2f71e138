#!/usr/bin/env bash
# Offline checks of the Terraform code (no cloud account, no provider download):
#
#   1. terraform fmt -check -recursive (and the example tfvars)
#   2. modules/cloud-init: terraform init -backend=false, validate, test
#   3. render every cloud-config with sample values (checks/render): `bash -n`
#      every script they install (shellcheck too, when installed), verify the
#      systemd units (systemd-analyze, when installed), and check that
#      conf/lb/haproxy.cfg is what the root module's template renders; then
#      the load-balancer examples: haproxy -c and nginx -t, when installed
#   4. checks/: npm ci, then the schema check of every .tf file against the
#      Hyperstack provider schema, then the self-tests (node --test: the
#      schema check, the gateway's cluster and health scripts against a
#      private redis-server and a local HTTP server, the load-balancer
#      examples in front of two stand-in gateways when haproxy/nginx exist)
#   5. the whole configuration with provider resources replaced by stand-ins
#      (checks/standin-plan.mjs): init, validate, apply to temporary local
#      states (one gateway, TLS, three gateways), follow-up plans, assertions
#      on the wiring and the firewall
#
# Steps 1-3 and 5 need terraform. When it is missing they are skipped with a
# loud warning and step 4 still runs; set REQUIRE_TERRAFORM=1 to fail instead.
# Optional tools that are missing (shellcheck, systemd-analyze, haproxy,
# nginx, openssl) are named in the output; under CI=true, redis-server and
# redis-cli are required by the node tests.
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

render_apply() {
  export TF_DATA_DIR="$work/render.terraform"
  terraform -chdir=checks/render init -backend=false -input=false >"$work/render-init.log" 2>&1 ||
    { cat "$work/render-init.log"; return 1; }
  terraform -chdir=checks/render apply -auto-approve -no-color -state="$work/render.tfstate" >"$work/render-apply.log" 2>&1 ||
    { cat "$work/render-apply.log"; return 1; }
}

# render_output NAME FILE: the JSON of one output of checks/render.
render_output() {
  TF_DATA_DIR="$work/render.terraform" terraform -chdir=checks/render output -state="$work/render.tfstate" -json "$1" >"$2"
}

tf_render_scripts() {
  render_apply || return 1
  local dir="$work/scripts" n=0 f
  mkdir -p "$dir"
  render_output scripts "$work/scripts.json" || return 1
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
  if [ "$n" -lt 16 ]; then
    echo "expected at least 16 rendered scripts, found $n"
    return 1
  fi
  command -v shellcheck >/dev/null 2>&1 || echo "(shellcheck not installed: only bash -n was run)"
  return $rc
}

tf_render_units() {
  local dir="$work/units"
  mkdir -p "$dir"
  render_output units "$work/units.json" || return 1
  node -e '
    const fs = require("fs"), path = require("path");
    const [json, dir] = process.argv.slice(1);
    for (const [kind, units] of Object.entries(JSON.parse(fs.readFileSync(json, "utf8")))) {
      fs.mkdirSync(path.join(dir, kind));
      for (const [name, text] of Object.entries(units)) fs.writeFileSync(path.join(dir, kind, name), text);
    }' "$work/units.json" "$dir" || return 1
  if ! command -v systemd-analyze >/dev/null 2>&1; then
    echo "(systemd-analyze not installed: the units were not verified)"
    return 0
  fi
  local rc=0 kind out
  for kind in "$dir"/*; do
    # The scripts the units run and the units they need (docker, mariadb, ...)
    # are installed on the VMs, not here; anything else is a finding.
    out=$(cd "$kind" && systemd-analyze verify --man=no ./* 2>&1 |
      grep -v -e 'is not executable: No such file or directory' -e 'Unit [A-Za-z0-9@_.-]*\.service not found\.')
    if [ -n "$out" ]; then
      echo "systemd-analyze verify FAILED for $(basename "$kind"):"
      echo "$out"
      rc=1
    else
      echo "systemd-analyze verify ok: $(basename "$kind") ($(cd "$kind" && echo ./* | sed 's#\./##g'))"
    fi
  done
  return $rc
}

lb_examples() {
  local rc=0 tmp="$work/lb"
  mkdir -p "$tmp"
  render_output load_balancer_example "$tmp/example.json" || return 1
  node -e '
    const fs = require("fs");
    const [json, conf] = process.argv.slice(1);
    const rendered = JSON.parse(fs.readFileSync(json, "utf8"));
    if (rendered !== fs.readFileSync(conf, "utf8")) {
      console.error(conf + " is not what templates/haproxy.cfg.tftpl renders (checks/render output load_balancer_example); render it again");
      process.exit(1);
    }
    console.log(conf + " matches the template");' "$tmp/example.json" "$here/../conf/lb/haproxy.cfg" || rc=1

  if command -v haproxy >/dev/null 2>&1; then
    haproxy -c -f "$here/../conf/lb/haproxy.cfg" || rc=1
    if command -v openssl >/dev/null 2>&1; then
      # The TLS variant (what the load_balancer_haproxy_cfg output gives when
      # the gateways serve HTTPS), with a throwaway certificate.
      openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=lb.example -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null || return 1
      cat "$tmp/cert.pem" "$tmp/key.pem" >"$tmp/inference-gateway.pem"
      cp "$tmp/cert.pem" "$tmp/inference-gateway-ca.pem"
      render_output load_balancer_tls_example "$tmp/tls.json" || return 1
      node -e '
        const fs = require("fs");
        const [json, dir] = process.argv.slice(1);
        const text = JSON.parse(fs.readFileSync(json, "utf8")).replaceAll("/etc/haproxy/certs/", dir + "/").replaceAll("/etc/haproxy/", dir + "/");
        fs.writeFileSync(dir + "/haproxy-tls.cfg", text);' "$tmp/tls.json" "$tmp" || return 1
      haproxy -c -f "$tmp/haproxy-tls.cfg" || rc=1
    else
      echo "(openssl not installed: the TLS variant of the HAProxy configuration was not checked)"
    fi
  else
    echo "(haproxy not installed: conf/lb/haproxy.cfg was not checked with haproxy -c)"
  fi
  if command -v nginx >/dev/null 2>&1; then
    mkdir -p "$tmp/nginx"
    nginx -t -e stderr -p "$tmp/nginx" -c "$here/../conf/lb/nginx.conf" || rc=1
  else
    echo "(nginx not installed: conf/lb/nginx.conf was not checked with nginx -t)"
  fi
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
  if step "rendered cloud-init scripts: bash -n (and shellcheck)" tf_render_scripts; then
    step "rendered systemd units: systemd-analyze verify" tf_render_units
    step "load-balancer examples (conf/lb/)" lb_examples
  fi
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
