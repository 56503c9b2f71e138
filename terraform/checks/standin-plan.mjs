#!/usr/bin/env node
// Offline end-to-end run of the whole configuration with stand-ins.
//
// `terraform validate` and `plan` need the Hyperstack and random providers,
// which cannot be downloaded here. This script copies the root module and the
// three VM modules to a temporary directory as Terraform JSON, replacing every
// provider resource with a built-in `terraform_data` that keeps the arguments
// and fakes the computed attributes (id, floating_ip, fixed_ip, result), and
// rewrites references to them. The provider-free cloud-init module is used as
// it is. Then, with terraform.tfvars.example as input, it runs init, validate,
// applies three scenarios to their own local states (terraform_data only
// touches local state) and follow-up plans, and asserts:
//
//   one gateway (the example as it is)
//   - no dependency cycle; outputs (URLs, private replica endpoints, keys)
//   - each replica's API key is in its vLLM's env file (VLLM_API_KEY) and in
//     the gateway's registration next to its endpoint, in no other VM
//   - every firewall rule, as "VM ports source", equals what the VMs'
//     addresses call for: SSH from ssh_allowed_cidrs, the gateway port from
//     gateway_allowed_cidr, vLLM from the gateway's private address /32 only
//     (never 0.0.0.0/0), and nothing else
//   - adding a replica creates one VM and replaces the gateway; changing vLLM
//     arguments replaces that VM and its rules; ssh_allowed_cidrs = [] removes
//     the SSH rules and nothing else
//   TLS (certificate files)
//   - https URLs, TLS_CERT_FILE/TLS_KEY_FILE and the files in the cloud-init;
//     a renewed certificate replaces nothing; TLS off replaces the gateway
//   three gateways
//   - a data VM; the same rule check, with Hazelcast/event-bus rules between
//     the gateways and MariaDB/Redis open to them only; the cluster script from
//     the cloud-init run once per gateway against a private redis-server gives
//     each its own CLUSTER_HOST and the member list; a new database password
//     replaces the gateways, not the data VM; a fourth gateway adds only itself
//
// The fakes derive addresses from a hash of the arguments (without those whose
// changes the resource ignores), so a replaced VM "gets" a new address, as it
// would on Hyperstack.

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { parse } from "@cdktf/hcl2json";
import { redisMissing, startRedis } from "./redis-helper.mjs";

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
  // result: see rewrite(), it must differ per instance.
  random_password: { id: '"none"' },
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

/**
 * Replaces "<type>.<name>" and an optional index ("[...]", brackets may nest)
 * with what fn(type, name, index) returns; null keeps the text.
 */
function replaceRefs(text, fn) {
  const re = /\b([a-z][a-z0-9]*_[a-z0-9_]+)\.([A-Za-z_][\w-]*)/g;
  let out = "";
  let last = 0;
  let m;
  while ((m = re.exec(text))) {
    let end = re.lastIndex;
    if (text[end] === "[") {
      let depth = 0;
      let j = end;
      for (; j < text.length; j++) {
        if (text[j] === "[") depth++;
        else if (text[j] === "]" && --depth === 0) break;
      }
      if (depth === 0) end = j + 1;
    }
    const replacement = fn(m[1], m[2], text.slice(re.lastIndex, end));
    if (replacement === null) continue;
    out += text.slice(last, m.index) + replacement;
    last = end;
    re.lastIndex = end;
  }
  return out + text.slice(last);
}

/** Rewrites references to stand-in resources inside every string of a value. */
function rewrite(value, standins, { whole = false } = {}) {
  if (typeof value === "string") {
    return replaceRefs(value, (type, name, idx) =>
      standins.has(`${type}.${name}`) ? `terraform_data.${type}__${name}${idx}${whole ? "" : ".output"}` : null,
    )
      // A password differs per instance, also between instances of one module
      // (whose arguments are the same): take it from the stand-in's random id.
      .replace(
        /\bterraform_data\.random_password__([A-Za-z_][\w-]*)((?:\[[^\]]*\])?)\.output\.result\b/g,
        (all, name, idx) => `join("", ["standin", substr(replace(terraform_data.random_password__${name}${idx}.id, "-", ""), 0, 26)])`,
      );
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
          const standin = type !== "terraform_data";
          meta.lifecycle = meta.lifecycle.map((lc) => {
            const l = rewrite(lc, standins);
            if (l.replace_triggered_by) l.replace_triggered_by = l.replace_triggered_by.map(unwrap);
            // A stand-in keeps the resource's arguments in its input.
            if (l.ignore_changes) l.ignore_changes = l.ignore_changes.map(unwrap).map((a) => (standin ? `input.${a}` : a));
            return l;
          });
        }
        if (type === "terraform_data") {
          out.resource.terraform_data ??= {};
          out.resource.terraform_data[name] = { ...rewrite(args, standins), ...meta };
          continue;
        }
        const argsExpr = toExpr(rewrite(args, standins), `${type}.${name}`);
        // Attributes the resource ignores changes of do not change what the
        // provider made either (a VM keeps its addresses): leave them out of H.
        const ignored = new Set([].concat(body.lifecycle || []).flatMap((l) => [].concat(l.ignore_changes || []).map(unwrap)));
        const hashed = Object.fromEntries(Object.entries(args).filter(([k]) => !ignored.has(k)));
        const hashExpr = toExpr(rewrite(hashed, standins), `${type}.${name}`);
        const hash = `sha256(join("|", [${JSON.stringify(`${type}.${name}`)}, jsonencode(${hashExpr})]))`;
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

const actionsOf = (plan, address) => plan.resource_changes.find((c) => c.address === address)?.change.actions.join(",") ?? "absent";
const replaced = /delete,create|create,delete/;

/** The files each cloud-config writes (path => content), decoded by Terraform's own yamldecode. */
function writtenFiles(work, docs) {
  const dir = path.join(work, "decode");
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(
    path.join(dir, "main.tf"),
    `variable "docs" {\n  type = map(string)\n}\n\noutput "files" {\n  value = { for k, d in var.docs : k => { for f in yamldecode(d).write_files : f.path => f.content } }\n}\n`,
  );
  fs.writeFileSync(path.join(dir, "docs.tfvars.json"), JSON.stringify({ docs }));
  if (!fs.existsSync(path.join(dir, ".terraform"))) tf(dir, ["init", "-backend=false", "-input=false", "-no-color"]);
  tf(dir, ["apply", "-auto-approve", "-no-color", "-state=decode.tfstate", "-var-file=docs.tfvars.json"]);
  return JSON.parse(tf(dir, ["output", "-state=decode.tfstate", "-json", "files"]));
}

/** Applies the configuration with extra variables into its own state; returns what it made. */
function applyScenario(work, name, vars) {
  const varFile = `${name}.tfvars.json`;
  fs.writeFileSync(path.join(work, varFile), JSON.stringify(vars));
  const stateFile = `${name}.tfstate`;
  tf(work, ["apply", "-auto-approve", "-no-color", `-state=${stateFile}`, `-var-file=${varFile}`]);
  const state = tf(work, ["show", "-json", stateFile], { json: true });
  const resources = stateResources(state);
  const vms = resources
    .filter((r) => /\.terraform_data\.hyperstack_core_virtual_machine__this(\[\d+\])?$/.test(r.address))
    .map((r) => ({ address: r.address, ...r.values.output }));
  const rules = resources
    .filter((r) => r.address.includes("terraform_data.hyperstack_core_virtual_machine_sg_rule__"))
    .map((r) => ({ address: r.address, ...r.values.output }));
  const files = writtenFiles(work, Object.fromEntries(vms.map((v) => [v.name, v.user_data])));
  for (const v of vms) v.files = files[v.name];
  return { name, varFile, stateFile, outputs: state.values.outputs, resources, vms, rules };
}

/** A plan against a scenario's state with changed variables. */
function planScenario(work, sc, name, vars, extra = []) {
  const varFile = `${name}.tfvars.json`;
  fs.writeFileSync(path.join(work, varFile), JSON.stringify(vars));
  tf(work, ["plan", "-no-color", `-state=${sc.stateFile}`, `-var-file=${sc.varFile}`, `-var-file=${varFile}`, `-out=${name}.plan`, ...extra]);
  return tf(work, ["show", "-json", `${name}.plan`], { json: true });
}

/** Every firewall rule as "<vm name> <ports> <source>", checked for shape on the way. */
function ruleTable(sc) {
  return sc.rules
    .map((r) => {
      assert.equal(r.direction, "ingress", r.address);
      assert.equal(r.ethertype, "IPv4", r.address);
      assert.equal(r.protocol, "tcp", r.address);
      const vm = sc.vms.find((v) => v.id === r.virtual_machine_id);
      assert.ok(vm, `${r.address} is attached to a VM of this configuration`);
      return `${vm.name} ${r.port_range_min}-${r.port_range_max} ${r.remote_ip_prefix}`;
    })
    .sort();
}

/** Who may reach what, from the VMs' addresses: the rules the configuration must make, no more. */
function expectedRules({ vms, ssh, gatewayCidr, gatewayPort = 5001, vllmPort = 8000, clusterPort = 5701, replicaNetwork = "private" }) {
  const gateways = vms.filter((v) => /-gateway(-\d+)?$/.test(v.name));
  const data = vms.filter((v) => v.name.endsWith("-data"));
  const inference = vms.filter((v) => !gateways.includes(v) && !data.includes(v));
  const out = [];
  for (const v of vms) for (const c of ssh) out.push(`${v.name} 22-22 ${c}`);
  for (const g of gateways) {
    out.push(`${g.name} ${gatewayPort}-${gatewayPort} ${gatewayCidr}`);
    if (gateways.length > 1) {
      for (const h of gateways) if (h !== g) out.push(`${g.name} ${clusterPort}-${clusterPort + 1} ${h.fixed_ip}/32`);
    }
    for (const i of inference) out.push(`${i.name} ${vllmPort}-${vllmPort} ${replicaNetwork === "public" ? g.floating_ip : g.fixed_ip}/32`);
    for (const d of data) for (const port of [3306, 6379]) out.push(`${d.name} ${port}-${port} ${g.fixed_ip}/32`);
  }
  return { rules: out.sort(), gateways, data, inference };
}

/** The vLLM port is open to gateway addresses (/32) only: never to 0.0.0.0/0 or any other range. */
function assertVllmClosed(sc, gatewayIps, vllmPort = 8000) {
  const onVllm = sc.rules.filter((r) => r.port_range_min <= vllmPort && vllmPort <= r.port_range_max);
  assert.ok(onVllm.length > 0, "there are vLLM rules");
  for (const r of onVllm) {
    assert.notEqual(r.remote_ip_prefix, "0.0.0.0/0", `${r.address} opens vLLM to everyone`);
    assert.ok(gatewayIps.map((ip) => `${ip}/32`).includes(r.remote_ip_prefix), `${r.address}: ${r.remote_ip_prefix} is a gateway's address`);
  }
}

/** Runs the cluster script from a gateway's user_data once per gateway VM against a private Redis. */
async function assertClusterMembership(sc, gateways, log) {
  const why = redisMissing();
  if (why) {
    log(`stand-in: SKIPPED the cluster membership run (${why})`);
    return;
  }
  const script = gateways[0].files["/usr/local/sbin/inference-gateway-cluster.sh"];
  assert.ok(script, "the cluster script is in the gateway's cloud-init");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tf-cluster-"));
  const redis = await startRedis();
  try {
    const file = path.join(dir, "cluster.sh");
    fs.writeFileSync(file, script);
    const envOf = (g) =>
      Object.fromEntries(
        g.files["/etc/inference-gateway/gateway.env"].split("\n").filter(Boolean).map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
      );
    const results = [];
    for (const g of gateways) {
      const env = envOf(g);
      assert.match(env.REDIS_URL, /^redis:\/\/:[A-Za-z0-9]+@10\.\d+\.\d+\.\d+:6379$/, "gateways use the data VM's Redis with its password");
      const own = path.join(dir, g.name);
      fs.mkdirSync(own);
      // The data VM's Redis stands in as the private one; the VM's own address
      // is what `ip route get` would give on Hyperstack: its fixed IP.
      const r = spawnSync("bash", [file, "env"], {
        encoding: "utf8",
        env: { ...process.env, ...env, REDIS_URL: redis.url, CLUSTER_HOST: g.fixed_ip, RUNTIME_DIRECTORY: own, STATE_DIRECTORY: own },
      });
      assert.equal(r.status, 0, r.stderr);
      results.push({ g, text: fs.readFileSync(path.join(own, "cluster.env"), "utf8") });
    }
    const members = gateways.map((g) => `${g.fixed_ip}:5701`).sort();
    for (const [i, { g, text }] of results.entries()) {
      assert.match(text, new RegExp(`^CLUSTER_HOST=${g.fixed_ip.replaceAll(".", "\\.")}$`, "m"), `${g.name} advertises its own private address`);
      assert.match(text, /^CLUSTER_PORT=5701$/m);
      const listed = /^CLUSTER_MEMBERS=(.*)$/m.exec(text)[1].split(",");
      // The members registered so far, itself included: enough to join the earlier ones.
      assert.deepEqual(listed, gateways.slice(0, i + 1).map((h) => `${h.fixed_ip}:5701`).sort(), `${g.name}'s list`);
    }
    // A restart sees them all.
    const first = gateways[0];
    const again = spawnSync("bash", [file, "env"], {
      encoding: "utf8",
      env: { ...process.env, ...envOf(first), REDIS_URL: redis.url, CLUSTER_HOST: first.fixed_ip, RUNTIME_DIRECTORY: path.join(dir, first.name), STATE_DIRECTORY: path.join(dir, first.name) },
    });
    assert.equal(again.status, 0, again.stderr);
    const text = fs.readFileSync(path.join(dir, first.name, "cluster.env"), "utf8");
    assert.equal(/^CLUSTER_MEMBERS=(.*)$/m.exec(text)[1], members.join(","));
    assert.deepEqual(sc.outputs.cluster.value.members.slice().sort(), members, "the cluster output lists the same members");
    log(`stand-in: ${gateways.length} gateways registered through Redis, each with its own CLUSTER_HOST; members ${members.join(",")}`);
  } finally {
    await redis.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export async function run({ keep = false, log = console.log } = {}) {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "tf-standin-"));
  try {
    await convertModule(tfRoot, work);
    for (const m of ["inference-vm", "gateway-vm", "data-vm"]) await convertModule(path.join(tfRoot, "modules", m), path.join(work, "modules", m));
    copyDir(path.join(tfRoot, "modules", "cloud-init"), path.join(work, "modules", "cloud-init"));
    copyDir(path.join(tfRoot, "templates"), path.join(work, "templates"));
    fs.copyFileSync(path.join(tfRoot, "terraform.tfvars.example"), path.join(work, "terraform.tfvars"));
    const example = await parse("terraform.tfvars", fs.readFileSync(path.join(work, "terraform.tfvars"), "utf8"));

    tf(work, ["init", "-backend=false", "-input=false", "-no-color"]);
    tf(work, ["validate", "-no-color"]);
    log("stand-in: init and validate ok");

    // ---- One gateway, the example as it is.
    const one = applyScenario(work, "one", {});
    const outputs = one.outputs;
    const expected = expectedRules({ vms: one.vms, ssh: example.ssh_allowed_cidrs, gatewayCidr: example.gateway_allowed_cidr });
    assert.equal(expected.gateways.length, 1);
    assert.equal(expected.data.length, 0, "no data VM for one gateway");
    const gw = expected.gateways[0];
    assert.equal(gw.name, "llm-gateway");
    assert.equal(outputs.console_url.value, `http://${gw.floating_ip}:5001/`);
    assert.equal(outputs.openai_base_url.value, `http://${gw.floating_ip}:5001/v1`);
    assert.equal(outputs.admin_api_key.sensitive, true);
    assert.match(outputs.admin_api_key.value, /^[A-Za-z0-9]{16,}$/);
    assert.equal(outputs.cluster?.value ?? null, null, "no cluster with one gateway");
    assert.equal(outputs.data_vm?.value ?? null, null);
    const endpoints = outputs.replica_endpoints.value;
    assert.deepEqual(Object.keys(endpoints).sort(), Object.values(example.models).map((m) => m.model).sort());
    for (const list of Object.values(endpoints)) {
      assert.equal(list.length, 1);
      assert.match(list[0], /^http:\/\/10\.\d+\.\d+\.\d+:8000$/, "replicas are reached on their private addresses");
    }
    log(`stand-in: outputs ok (console ${outputs.console_url.value})`);

    for (const vm of one.vms) {
      assert.equal(vm.assign_floating_ip, true);
      assert.equal(vm.environment_name, example.environment_name);
      assert.equal(vm.key_name, example.key_name);
      assert.equal(vm.flavor_name, vm === gw ? "n1-cpu-medium" : "n1-RTX-A6000x1", vm.address);
      assert.match(vm.user_data, /^#cloud-config\n/);
    }

    // Each replica has its own API key: in its vLLM's env file, and in the
    // gateway's registration next to its endpoint; in no other VM.
    const keys = outputs.replica_api_keys.value;
    assert.equal(outputs.replica_api_keys.sensitive, true);
    assert.deepEqual(Object.keys(keys).sort(), Object.values(endpoints).flat().sort());
    assert.equal(new Set(Object.values(keys)).size, Object.keys(keys).length, "a key per replica");
    const models = JSON.parse(gw.files["/etc/inference-gateway/models.json"]);
    for (const vm of expected.inference) {
      const endpoint = `http://${vm.fixed_ip}:8000`;
      const key = keys[endpoint];
      assert.match(key, /^standin[0-9a-f]{26}$/);
      assert.ok(vm.files["/etc/vllm/vllm.env"].includes(`VLLM_API_KEY=${key}\n`), `${vm.name} starts vLLM with its key`);
      for (const other of expected.inference) if (other !== vm) assert.ok(!other.user_data.includes(key), `${other.name} does not hold ${vm.name}'s key`);
      assert.ok(models.some((m) => m.replicas.some((r) => r.endpoint === endpoint && r.api_key === key)), `the gateway registers ${endpoint} with its key`);
    }
    assert.equal(models.flatMap((m) => m.replicas).length, expected.inference.length);

    assert.deepEqual(ruleTable(one), expected.rules);
    assertVllmClosed(one, [gw.fixed_ip]);
    assert.ok(outputs.load_balancer_haproxy_cfg.value.includes(`server gateway0 ${gw.floating_ip}:5001 check`));
    log(`stand-in: ${one.vms.length} VMs and ${one.rules.length} firewall rules wired as expected, vLLM open to the gateway's private address only`);

    // Adding a replica: one new VM, the gateway replaced, the others untouched.
    const [firstKey, ...otherKeys] = Object.keys(example.models);
    const more = structuredClone(example.models);
    more[firstKey].replicas = 2;
    const planMore = planScenario(work, one, "more", { models: more });
    const vmAddr = (key) => `module.inference["${key}"].terraform_data.hyperstack_core_virtual_machine__this`;
    const gwAddr = (i) => `module.gateway.terraform_data.hyperstack_core_virtual_machine__this[${i}]`;
    assert.equal(actionsOf(planMore, vmAddr(`${firstKey}-1`)), "create");
    assert.match(actionsOf(planMore, gwAddr(0)), replaced, "the gateway is replaced to register the new replica");
    assert.equal(actionsOf(planMore, vmAddr(`${firstKey}-0`)), "no-op");
    for (const k of otherKeys) assert.equal(actionsOf(planMore, vmAddr(`${k}-0`)), "no-op");
    log("stand-in: adding a replica creates one VM and replaces the gateway");

    // Changing a model's vLLM arguments replaces that model's VM (and so its rules).
    const changed = structuredClone(example.models);
    const lastKey = otherKeys.at(-1) ?? firstKey;
    changed[lastKey].vllm_args = [...(changed[lastKey].vllm_args || []), "--enforce-eager"];
    const planChanged = planScenario(work, one, "changed", { models: changed });
    assert.match(actionsOf(planChanged, vmAddr(`${lastKey}-0`)), replaced);
    for (const rule of [
      `module.inference["${lastKey}-0"].terraform_data.hyperstack_core_virtual_machine_sg_rule__ssh["${example.ssh_allowed_cidrs[0]}"]`,
      `terraform_data.hyperstack_core_virtual_machine_sg_rule__vllm["${lastKey}-0/0"]`,
    ]) {
      assert.match(actionsOf(planChanged, rule), replaced, rule);
    }
    if (lastKey !== firstKey) assert.equal(actionsOf(planChanged, vmAddr(`${firstKey}-0`)), "no-op");
    log("stand-in: changing vLLM arguments replaces that VM and its firewall rules");

    // No SSH at all: every SSH rule goes, nothing else changes.
    const planNoSsh = planScenario(work, one, "nossh", { ssh_allowed_cidrs: [] });
    const sshRules = one.rules.filter((r) => r.port_range_min === 22).map((r) => r.address);
    assert.equal(sshRules.length, one.vms.length);
    for (const a of sshRules) assert.equal(actionsOf(planNoSsh, a), "delete", a);
    for (const c of planNoSsh.resource_changes) {
      const sshTrigger = c.address.includes("ssh_rule") || c.address.includes("/ssh/");
      if (!sshRules.includes(c.address) && !sshTrigger) assert.deepEqual(c.change.actions, ["no-op"], c.address);
    }
    log("stand-in: ssh_allowed_cidrs = [] removes every SSH rule and nothing else");

    // ---- TLS: certificate files given, then a renewed certificate.
    const pem = (label, body) => `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;
    const tlsFiles = (tag) => {
      const cert = path.join(work, `cert-${tag}.pem`);
      const key = path.join(work, `key-${tag}.pem`);
      fs.writeFileSync(cert, pem("CERTIFICATE", `MIIB${tag}`));
      fs.writeFileSync(key, pem("PRIVATE KEY", `MIIE${tag}`));
      return { gateway_tls_cert_file: cert, gateway_tls_key_file: key };
    };
    const tls = applyScenario(work, "tls", tlsFiles("first"));
    const tgw = tls.vms.find((v) => v.name === "llm-gateway");
    assert.equal(tls.outputs.console_url.value, `https://${tgw.floating_ip}:5001/`);
    const env = tgw.files["/etc/inference-gateway/gateway.env"];
    assert.ok(env.includes("TLS_CERT_FILE=/etc/inference-gateway/tls/cert.pem\nTLS_KEY_FILE=/etc/inference-gateway/tls/key.pem\n"), env);
    assert.equal(tgw.files["/etc/inference-gateway/tls/key.pem"], pem("PRIVATE KEY", "MIIEfirst"));
    // replica keys and the session secret are sealed with a generated SECRETS_KEY; Prometheus gets its own token
    const secretsKey = env.match(/^SECRETS_KEY=([A-Za-z0-9]{16,})$/m);
    assert.ok(secretsKey, "a generated SECRETS_KEY in the gateway's environment");
    const metricsToken = env.match(/^METRICS_TOKEN=([A-Za-z0-9]{16,})$/m);
    assert.ok(metricsToken, "a generated METRICS_TOKEN in the gateway's environment");
    assert.equal(tls.outputs.metrics_token.value, metricsToken[1], "the metrics_token output is the token the gateway takes");
    assert.ok(tls.outputs.load_balancer_haproxy_cfg.value.includes("ssl verify required ca-file"), "the load balancer verifies the gateways' certificate");
    const planRenewed = planScenario(work, tls, "renewed", tlsFiles("renewed"));
    for (const c of planRenewed.resource_changes) assert.deepEqual(c.change.actions, ["no-op"], `${c.address} after a certificate renewal`);
    const planPlain = planScenario(work, tls, "plain", { gateway_tls_cert_file: null, gateway_tls_key_file: null });
    assert.match(actionsOf(planPlain, gwAddr(0)), replaced, "turning TLS off is a new gateway");
    log("stand-in: TLS files reach the gateway (TLS_CERT_FILE/TLS_KEY_FILE); a renewed certificate replaces nothing");

    // ---- Three gateways: a cluster on a data VM.
    const three = applyScenario(work, "three", { gateway_count: 3 });
    const exp3 = expectedRules({ vms: three.vms, ssh: example.ssh_allowed_cidrs, gatewayCidr: example.gateway_allowed_cidr });
    assert.deepEqual(exp3.gateways.map((g) => g.name), ["llm-gateway-0", "llm-gateway-1", "llm-gateway-2"]);
    assert.equal(exp3.data.length, 1);
    const dataVm = exp3.data[0];
    assert.equal(three.outputs.data_vm.value.private_ip, dataVm.fixed_ip);
    assert.deepEqual(ruleTable(three), exp3.rules);
    assertVllmClosed(three, exp3.gateways.map((g) => g.fixed_ip));
    assert.equal(new Set(exp3.gateways.map((g) => g.user_data)).size, 1, "one cloud-config for all members");
    const genv = exp3.gateways[0].files["/etc/inference-gateway/gateway.env"];
    assert.ok(genv.includes("CLUSTER_PORT=5701\n"), genv);
    assert.ok(genv.includes(`@${dataVm.fixed_ip}:3306/inference_gateway\n`), "MariaDB on the data VM");
    assert.ok(genv.includes(`@${dataVm.fixed_ip}:6379\n`), "Redis on the data VM");
    assert.ok(!exp3.gateways[0].user_data.includes("mariadb-server"), "no database server on the gateways");
    assert.deepEqual(three.outputs.cluster.value.members, exp3.gateways.map((g) => `${g.fixed_ip}:5701`));
    assert.equal(three.outputs.cluster.value.event_bus_port, 5702);
    for (const [i, g] of exp3.gateways.entries()) {
      assert.ok(three.outputs.load_balancer_haproxy_cfg.value.includes(`server gateway${i} ${g.floating_ip}:5001 check`), `the load balancer knows ${g.name}`);
    }
    assert.ok(genv.includes(`DATABASE_URL=mysql://gateway:${three.outputs.database_password.value}@`), "database_password is the gateways' MariaDB password");
    assert.ok(genv.includes(`REDIS_URL=redis://:${three.outputs.redis_password.value}@`), "redis_password is the data VM's Redis password");
    await assertClusterMembership(three, exp3.gateways, log);

    // A new database password: the gateways get it (replaced), the data VM and its data stay.
    const planRotate = planScenario(work, three, "rotate", {}, ["-replace=module.data[0].terraform_data.random_password__db_password"]);
    assert.equal(actionsOf(planRotate, "module.data[0].terraform_data.hyperstack_core_virtual_machine__this"), "no-op", "the data VM survives a password rotation");
    for (const i of [0, 1, 2]) assert.match(actionsOf(planRotate, gwAddr(i)), replaced, `gateway ${i} gets the new password`);
    log("stand-in: a new database password replaces the gateways, not the data VM");

    // A fourth gateway: created with its rules; the others, the data VM and the replicas stay.
    const planFour = planScenario(work, three, "four", { gateway_count: 4 });
    assert.equal(actionsOf(planFour, gwAddr(3)), "create");
    for (const i of [0, 1, 2]) assert.equal(actionsOf(planFour, gwAddr(i)), "no-op", `gateway ${i}`);
    assert.equal(actionsOf(planFour, "module.data[0].terraform_data.hyperstack_core_virtual_machine__this"), "no-op");
    for (const k of Object.keys(example.models)) assert.equal(actionsOf(planFour, vmAddr(`${k}-0`)), "no-op");
    assert.equal(actionsOf(planFour, 'module.gateway.terraform_data.hyperstack_core_virtual_machine_sg_rule__this["0/cluster/3"]'), "create");
    assert.equal(actionsOf(planFour, 'terraform_data.hyperstack_core_virtual_machine_sg_rule__data["redis/3"]'), "create");
    log("stand-in: gateway_count = 3 makes a cluster on a data VM; a fourth gateway only adds itself and its rules");
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
