#!/usr/bin/env node
// Offline end-to-end run of the whole configuration with stand-ins.
//
// `terraform validate` and `plan` need the Hyperstack and random providers,
// which cannot be downloaded here. This script copies the root module and the
// two VM modules to a temporary directory as Terraform JSON, replacing every
// provider resource with a built-in `terraform_data` that keeps the arguments
// and fakes the computed attributes (id, floating_ip, fixed_ip, result), and
// rewrites references to them. The provider-free cloud-init module is used as
// it is. Then, with terraform.tfvars.example as input, it runs init, validate,
// apply (terraform_data only touches local state) and two follow-up plans, and
// asserts on the wiring:
//
//   - no dependency cycle: inference VMs, gateway VM, vLLM firewall rules
//   - outputs: console URL, OpenAI base URL, replica endpoints, admin key
//   - the gateway's cloud-init lists every replica endpoint
//   - the vLLM port is open to the gateway's floating IP /32 only, SSH to the
//     operator's CIDR only, the gateway port to gateway_allowed_cidr
//   - adding a replica creates one VM and replaces the gateway (its cloud-init
//     changed); changing a model's vLLM arguments replaces that model's VM
//
// The fakes derive addresses from a hash of the arguments, so a replaced VM
// "gets" a new address, as it would on Hyperstack.

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { parse } from "@cdktf/hcl2json";

const here = path.dirname(fileURLToPath(import.meta.url));
const tfRoot = path.resolve(here, "..");
const META = ["count", "for_each", "depends_on", "lifecycle", "provider", "provisioner", "connection"];

// Computed attributes faked per stand-in type; H is a hex hash of the arguments.
const FAKES = {
  hyperstack_core_virtual_machine: {
    id: "parseint(substr(H, 0, 6), 16)",
    floating_ip: '"203.0.113.${parseint(substr(H, 0, 2), 16) % 254 + 1}"',
    fixed_ip: '"10.0.${parseint(substr(H, 2, 2), 16)}.${parseint(substr(H, 4, 2), 16) % 254 + 1}"',
    status: '"ACTIVE"',
  },
  hyperstack_core_virtual_machine_sg_rule: { id: "parseint(substr(H, 0, 6), 16)", status: '"ACTIVE"' },
  hyperstack_core_environment: { id: "parseint(substr(H, 0, 6), 16)" },
  hyperstack_core_keypair: { id: "parseint(substr(H, 0, 6), 16)", fingerprint: "substr(H, 0, 32)" },
  random_password: { id: '"none"', result: '"standin${substr(H, 0, 26)}"' },
};

const unwrap = (s) => {
  const m = /^\$\{([\s\S]*)\}$/.exec(s);
  return m ? m[1] : s;
};

/** Splits a template without directives into HCL expressions: "literal" and tostring((expr)). */
function splitTemplate(t, where) {
  const parts = [];
  let lit = "";
  let i = 0;
  while (i < t.length) {
    if (t.startsWith("$${", i) || t.startsWith("%%{", i)) {
      lit += t.slice(i, i + 3);
      i += 3;
    } else if (t.startsWith("%{", i)) {
      throw new Error(`${where}: template directives are not supported in stand-in arguments`);
    } else if (t.startsWith("${", i)) {
      let depth = 1;
      let j = i + 2;
      let quote = false;
      for (; j < t.length && depth > 0; j++) {
        const c = t[j];
        if (quote) {
          if (c === "\\") j++;
          else if (c === '"') quote = false;
        } else if (c === '"') quote = true;
        else if (c === "{") depth++;
        else if (c === "}") depth--;
      }
      if (depth !== 0) throw new Error(`${where}: unbalanced interpolation in ${JSON.stringify(t)}`);
      if (lit) parts.push(JSON.stringify(lit));
      lit = "";
      parts.push(`tostring((${t.slice(i + 2, j - 1)}))`);
      i = j;
    } else {
      lit += t[i++];
    }
  }
  if (lit) parts.push(JSON.stringify(lit));
  return parts;
}

/** A JSON value from hcl2json as an HCL expression (supports the forms the modules use). */
function toExpr(value, where) {
  if (typeof value === "string") {
    const m = /^\$\{([\s\S]*)\}$/.exec(value);
    if (m && !m[1].includes("${")) return `(${m[1]})`;
    if (!value.includes("${") && !value.includes("%{")) return JSON.stringify(value);
    return `join("", [${splitTemplate(value, where).join(", ")}])`;
  }
  if (Array.isArray(value)) return `[${value.map((v, i) => toExpr(v, `${where}[${i}]`)).join(", ")}]`;
  if (value && typeof value === "object") {
    return `{ ${Object.entries(value).map(([k, v]) => `${JSON.stringify(k)} = ${toExpr(v, `${where}.${k}`)}`).join(", ")} }`;
  }
  return JSON.stringify(value);
}

/** Rewrites references to stand-in resources inside every string of a value. */
function rewrite(value, standins, { whole = false } = {}) {
  if (typeof value === "string") {
    return value.replace(/\b([a-z][a-z0-9]*_[a-z0-9_]+)\.([A-Za-z_][\w-]*)((?:\[[^\]]*\])?)/g, (all, type, name, idx) => {
      if (!standins.has(`${type}.${name}`)) return all;
      return `terraform_data.${type}__${name}${idx}${whole ? "" : ".output"}`;
    });
  }
  if (Array.isArray(value)) return value.map((v) => rewrite(v, standins, { whole }));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, rewrite(v, standins, { whole })]));
  }
  return value;
}

async function convertModule(srcDir, dstDir) {
  const parsed = [];
  for (const f of fs.readdirSync(srcDir).filter((f) => f.endsWith(".tf")).sort()) {
    const file = path.join(srcDir, f);
    parsed.push(await parse(file, fs.readFileSync(file, "utf8")));
  }
  const standins = new Set();
  for (const json of parsed) {
    if (json.data) throw new Error(`${srcDir}: data sources are not supported by the stand-in run`);
    for (const [type, byName] of Object.entries(json.resource || {})) {
      if (type === "terraform_data") continue;
      if (!FAKES[type]) throw new Error(`${srcDir}: no stand-in for resource type ${type}`);
      for (const name of Object.keys(byName)) standins.add(`${type}.${name}`);
    }
  }

  const out = { terraform: { required_version: ">= 1.6" }, variable: {}, output: {}, locals: {}, module: {}, resource: {}, check: {} };
  for (const json of parsed) {
    for (const [name, [body]] of Object.entries(json.variable || {})) {
      const v = { ...body };
      if (v.type) v.type = unwrap(v.type);
      out.variable[name] = v;
    }
    for (const [name, [body]] of Object.entries(json.output || {})) out.output[name] = rewrite(body, standins);
    for (const block of json.locals || []) Object.assign(out.locals, rewrite(block, standins));
    for (const [name, [body]] of Object.entries(json.module || {})) out.module[name] = rewrite(body, standins);
    for (const [name, [body]] of Object.entries(json.check || {})) out.check[name] = rewrite(body, standins);
    for (const [type, byName] of Object.entries(json.resource || {})) {
      for (const [name, [body]] of Object.entries(byName)) {
        const meta = Object.fromEntries(Object.entries(body).filter(([k]) => META.includes(k)));
        const args = Object.fromEntries(Object.entries(body).filter(([k]) => !META.includes(k)));
        if (meta.depends_on) meta.depends_on = rewrite(meta.depends_on.map(unwrap), standins, { whole: true });
        if (meta.lifecycle) {
          meta.lifecycle = meta.lifecycle.map((lc) => {
            const l = rewrite(lc, standins);
            if (l.replace_triggered_by) l.replace_triggered_by = l.replace_triggered_by.map(unwrap);
            if (l.ignore_changes) l.ignore_changes = l.ignore_changes.map(unwrap);
            return l;
          });
        }
        if (type === "terraform_data") {
          out.resource.terraform_data ??= {};
          out.resource.terraform_data[name] = { ...rewrite(args, standins), ...meta };
          continue;
        }
        const argsExpr = toExpr(rewrite(args, standins), `${type}.${name}`);
        const hash = `sha256(join("|", [${JSON.stringify(`${type}.${name}`)}, jsonencode(${argsExpr})]))`;
        const h = `try(nonsensitive(${hash}), ${hash})`;
        const fakes = Object.entries(FAKES[type]).map(([k, e]) => `${k} = ${e.replaceAll("H", h)}`).join(", ");
        out.resource.terraform_data ??= {};
        out.resource.terraform_data[`${type}__${name}`] = { input: `\${merge({ ${fakes} }, ${argsExpr})}`, ...meta };
      }
    }
  }
  for (const k of Object.keys(out)) if (Object.keys(out[k]).length === 0) delete out[k];
  fs.mkdirSync(dstDir, { recursive: true });
  fs.writeFileSync(path.join(dstDir, "standin.tf.json"), JSON.stringify(out, null, 2));
}

function copyDir(src, dst) {
  fs.cpSync(src, dst, { recursive: true, filter: (p) => ![".terraform", ".terraform.lock.hcl"].includes(path.basename(p)) });
}

function tf(work, args, { json = false } = {}) {
  const r = spawnSync("terraform", [`-chdir=${work}`, ...args], {
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, CHECKPOINT_DISABLE: "1", TF_IN_AUTOMATION: "1", TF_INPUT: "0", TF_DATA_DIR: path.join(work, ".terraform") },
  });
  if (r.status !== 0) {
    throw new Error(`terraform ${args.join(" ")} failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
  }
  return json ? JSON.parse(r.stdout) : r.stdout;
}

/** All resources of a state's module tree, flattened. */
function stateResources(state) {
  const out = [];
  const walk = (m) => {
    for (const r of m.resources || []) out.push(r);
    for (const c of m.child_modules || []) walk(c);
  };
  walk(state.values.root_module);
  return out;
}

const byAddress = (resources, suffix) => resources.filter((r) => r.address.endsWith(suffix));
const actionsOf = (plan, address) => plan.resource_changes.find((c) => c.address === address)?.change.actions.join(",") ?? "absent";

export async function run({ keep = false, log = console.log } = {}) {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "tf-standin-"));
  try {
    await convertModule(tfRoot, work);
    for (const m of ["inference-vm", "gateway-vm"]) await convertModule(path.join(tfRoot, "modules", m), path.join(work, "modules", m));
    copyDir(path.join(tfRoot, "modules", "cloud-init"), path.join(work, "modules", "cloud-init"));
    fs.copyFileSync(path.join(tfRoot, "terraform.tfvars.example"), path.join(work, "terraform.tfvars"));
    const example = await parse("terraform.tfvars", fs.readFileSync(path.join(work, "terraform.tfvars"), "utf8"));

    tf(work, ["init", "-backend=false", "-input=false", "-no-color"]);
    tf(work, ["validate", "-no-color"]);
    log("stand-in: init and validate ok");
    tf(work, ["apply", "-auto-approve", "-no-color", "-state=state.tfstate"]);
    const state = tf(work, ["show", "-json", "state.tfstate"], { json: true });
    const outputs = state.values.outputs;
    const resources = stateResources(state);

    // Outputs.
    const gatewayVm = byAddress(resources, 'module.gateway.terraform_data.hyperstack_core_virtual_machine__this')[0];
    assert.ok(gatewayVm, "the gateway VM exists");
    const gw = gatewayVm.values.output;
    assert.equal(outputs.console_url.value, `http://${gw.floating_ip}:5001/`);
    assert.equal(outputs.openai_base_url.value, `http://${gw.floating_ip}:5001/v1`);
    assert.equal(outputs.admin_api_key.sensitive, true);
    assert.match(outputs.admin_api_key.value, /^[A-Za-z0-9]{16,}$/);
    const endpoints = outputs.replica_endpoints.value;
    assert.deepEqual(Object.keys(endpoints).sort(), Object.values(example.models).map((m) => m.model).sort());
    for (const list of Object.values(endpoints)) {
      assert.equal(list.length, 1);
      assert.match(list[0], /^http:\/\/203\.0\.113\.\d+:8000$/);
    }
    log(`stand-in: outputs ok (console ${outputs.console_url.value})`);

    // VMs: flavors, images, names, floating IPs.
    const vms = byAddress(resources, ".terraform_data.hyperstack_core_virtual_machine__this");
    assert.equal(vms.length, 1 + Object.keys(example.models).length);
    for (const vm of vms) {
      const v = vm.values.output;
      assert.equal(v.assign_floating_ip, true);
      assert.equal(v.environment_name, example.environment_name);
      assert.equal(v.key_name, example.key_name);
      const isGateway = vm.address.startsWith("module.gateway.");
      assert.equal(v.flavor_name, isGateway ? "n1-cpu-medium" : "n1-RTX-A6000x1", vm.address);
      assert.match(v.user_data, /^#cloud-config\n/);
    }

    // The gateway's cloud-init registers every replica.
    for (const e of Object.values(endpoints).flat()) {
      assert.ok(gw.user_data.includes(e), `gateway cloud-init lists ${e}`);
    }

    // Firewall rules.
    const rules = resources
      .filter((r) => r.address.includes("terraform_data.hyperstack_core_virtual_machine_sg_rule__"))
      .map((r) => ({ address: r.address, ...r.values.output }));
    const vmOf = (modulePrefix) => vms.find((vm) => vm.address.startsWith(`${modulePrefix}.`)).values.output;
    for (const r of rules) {
      assert.equal(r.direction, "ingress");
      assert.equal(r.ethertype, "IPv4");
      assert.equal(r.protocol, "tcp");
      assert.equal(r.port_range_min, r.port_range_max);
      let m;
      if ((m = /^(module\.inference\["[^"]+"\])\.terraform_data\.hyperstack_core_virtual_machine_sg_rule__ssh$/.exec(r.address))) {
        assert.equal(r.virtual_machine_id, vmOf(m[1]).id, `${r.address} is attached to its VM`);
        assert.equal(r.port_range_min, 22);
        assert.equal(r.remote_ip_prefix, example.ssh_allowed_cidr);
      } else if ((m = /^terraform_data\.hyperstack_core_virtual_machine_sg_rule__vllm\[("[^"]+")\]$/.exec(r.address))) {
        assert.equal(r.virtual_machine_id, vmOf(`module.inference[${m[1]}]`).id, `${r.address} is attached to its VM`);
        assert.equal(r.port_range_min, 8000);
        assert.equal(r.remote_ip_prefix, `${gw.floating_ip}/32`, "vLLM is open to the gateway only");
      } else if ((m = /^module\.gateway\.terraform_data\.hyperstack_core_virtual_machine_sg_rule__this\["(ssh|gateway)"\]$/.exec(r.address))) {
        assert.equal(r.virtual_machine_id, gw.id, `${r.address} is attached to the gateway`);
        assert.equal(r.port_range_min, m[1] === "ssh" ? 22 : 5001);
        assert.equal(r.remote_ip_prefix, m[1] === "ssh" ? example.ssh_allowed_cidr : example.gateway_allowed_cidr);
      } else {
        assert.fail(`unexpected rule ${r.address}`);
      }
    }
    assert.equal(rules.length, 2 * vms.length, "an SSH rule and a service rule per VM");
    log(`stand-in: ${vms.length} VMs and ${rules.length} firewall rules wired as expected`);

    // Adding a replica: one new VM, the gateway replaced, the others untouched.
    const [firstKey, ...otherKeys] = Object.keys(example.models);
    const more = structuredClone(example.models);
    more[firstKey].replicas = 2;
    fs.writeFileSync(path.join(work, "more.tfvars.json"), JSON.stringify({ models: more }));
    tf(work, ["plan", "-no-color", "-state=state.tfstate", "-var-file=more.tfvars.json", "-out=more.plan"]);
    const planMore = tf(work, ["show", "-json", "more.plan"], { json: true });
    const vmAddr = (key) => `module.inference["${key}"].terraform_data.hyperstack_core_virtual_machine__this`;
    const gwAddr = "module.gateway.terraform_data.hyperstack_core_virtual_machine__this";
    assert.equal(actionsOf(planMore, vmAddr(`${firstKey}-1`)), "create");
    assert.match(actionsOf(planMore, gwAddr), /delete,create|create,delete/, "the gateway is replaced to register the new replica");
    assert.equal(actionsOf(planMore, vmAddr(`${firstKey}-0`)), "no-op");
    for (const k of otherKeys) assert.equal(actionsOf(planMore, vmAddr(`${k}-0`)), "no-op");
    log("stand-in: adding a replica creates one VM and replaces the gateway");

    // Changing a model's vLLM arguments replaces that model's VM (and so its rules).
    const changed = structuredClone(example.models);
    const lastKey = otherKeys.at(-1) ?? firstKey;
    changed[lastKey].vllm_args = [...(changed[lastKey].vllm_args || []), "--enforce-eager"];
    fs.writeFileSync(path.join(work, "changed.tfvars.json"), JSON.stringify({ models: changed }));
    tf(work, ["plan", "-no-color", "-state=state.tfstate", "-var-file=changed.tfvars.json", "-out=changed.plan"]);
    const planChanged = tf(work, ["show", "-json", "changed.plan"], { json: true });
    assert.match(actionsOf(planChanged, vmAddr(`${lastKey}-0`)), /delete,create|create,delete/);
    for (const rule of [
      `module.inference["${lastKey}-0"].terraform_data.hyperstack_core_virtual_machine_sg_rule__ssh`,
      `terraform_data.hyperstack_core_virtual_machine_sg_rule__vllm["${lastKey}-0"]`,
    ]) {
      assert.match(actionsOf(planChanged, rule), /delete,create|create,delete/, rule);
    }
    if (lastKey !== firstKey) assert.equal(actionsOf(planChanged, vmAddr(`${firstKey}-0`)), "no-op");
    log("stand-in: changing vLLM arguments replaces that VM and its firewall rules");
  } finally {
    if (keep) log(`stand-in work directory kept: ${work}`);
    else fs.rmSync(work, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    await run({ keep: process.argv.includes("--keep") });
    console.log("stand-in run: OK");
  } catch (e) {
    console.error(`stand-in run FAILED: ${e.stack || e}`);
    process.exit(1);
  }
}
