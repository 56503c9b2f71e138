// Self-tests of the schema check (node --test): the real tree passes, a valid
// fixture passes, and a deliberately broken fixture is flagged line by line.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { parse } from "@cdktf/hcl2json";
import { checkTree, loadModule, loadSchema } from "./checker.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const schema = loadSchema(path.join(here, "schema", "hyperstack-provider-1.50.0-alpha.schema.json"));
const fixtures = path.join(here, "fixtures");

const summary = (findings) => findings.map((f) => `${path.relative(here, f.file)} [${f.code}] ${f.message}`);

const tempDirs = [];
after(() => tempDirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function tempModule(files) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tf-schema-check-"));
  tempDirs.push(dir);
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  return dir;
}

const pinned = `terraform {
  required_providers {
    hyperstack = {
      source  = "NexGenCloud/hyperstack"
      version = "1.50.0-alpha"
    }
  }
}
`;

test("the project's Terraform code passes", async () => {
  const findings = await checkTree(path.resolve(here, ".."), schema, { exclude: [fixtures] });
  assert.deepEqual(summary(findings), []);
});

test("the valid fixture passes", async () => {
  const findings = await checkTree(path.join(fixtures, "good"), schema);
  assert.deepEqual(summary(findings), []);
});

test("the broken fixture is flagged for every deliberate mistake", async () => {
  const findings = await checkTree(path.join(fixtures, "bad"), schema);
  const expected = [
    ["provider-not-pinned", /hyperstack\.version is "~> 1\.50"/],
    ["provider-not-pinned", /random\.version is ">= 3\.6"/],
    ["unknown-argument", /provider "hyperstack": argument "api_key"/],
    ["missing-required", /hyperstack_core_virtual_machine\.vm: required argument "flavor_name"/],
    ["read-only-argument", /"floating_ip" is read-only/],
    ["read-only-argument", /"security_rules" is read-only/],
    ["unknown-argument", /argument "disk_size" is not in the schema/],
    ["wrong-type", /"assign_floating_ip" is Bool/],
    ["wrong-type", /"image_name" is String: expected a string, got array/],
    ["unknown-argument", /ignore_changes names "userdata"/],
    ["unknown-attribute", /self\.public_address/],
    ["wrong-type", /"port_range_min" is Int64: expected a number, got string "eighty"/],
    ["wrong-type", /"port_range_max" is Int64: a string template/],
    ["unknown-attribute", /hyperstack_core_virtual_machine\.vm\.public_ip: "public_ip" is not an attribute/],
    ["unknown-attribute", /hyperstack_core_virtual_machine\.vm\.privat_ip/],
    ["unknown-resource-type", /"hyperstack_core_firewall" is not a resource type/],
    ["unknown-data-type", /"hyperstack_core_flavour" is not a data source/],
    ["unknown-attribute", /data\.hyperstack_core_flavors\.all\.flavours/],
    ["undeclared-resource", /resource "hyperstack_core_virtual_machine" "gateway" is not declared/],
    ["undeclared-variable", /variable "nope"/],
    ["undeclared-local", /local "nope"/],
    ["module-unknown-argument", /"unknown" is not a variable/],
    ["module-missing-argument", /required variable "needed"/],
    ["unknown-module-output", /has no output "nope"/],
    ["provider-requirement-missing", /does not declare required_providers\.hyperstack/],
  ];
  const remaining = [...findings];
  for (const [code, pattern] of expected) {
    const i = remaining.findIndex((f) => f.code === code && pattern.test(f.message));
    assert.ok(i >= 0, `expected a ${code} finding matching ${pattern}; got:\n${summary(findings).join("\n")}`);
    remaining.splice(i, 1);
  }
  assert.deepEqual(summary(remaining), [], "no findings beyond the deliberate ones");
});

test("a syntax error is a finding, not a crash", async () => {
  const dir = tempModule({ "versions.tf": pinned, "main.tf": 'resource "hyperstack_core_keypair" "k" {\n  name = \n}\n' });
  const findings = await checkTree(dir, schema);
  assert.equal(findings.length, 1, summary(findings).join("\n"));
  assert.equal(findings[0].code, "parse-error");
});

test("only the exact provider version is accepted", async () => {
  for (const [version, ok] of [
    ["1.50.0-alpha", true],
    ["= 1.50.0-alpha", true],
    [">= 1.50.0-alpha", false],
    ["~> 1.50", false],
    ["1.49.0-alpha", false],
  ]) {
    const dir = tempModule({ "versions.tf": pinned.replace('"1.50.0-alpha"', JSON.stringify(version)) });
    const codes = (await checkTree(dir, schema)).map((f) => f.code);
    assert.deepEqual(codes, ok ? [] : ["provider-not-pinned"], `version ${version}`);
  }
});

test("the root module must declare the provider", async () => {
  const dir = tempModule({ "main.tf": 'output "x" {\n  value = 1\n}\n' });
  const codes = (await checkTree(dir, schema)).map((f) => f.code);
  assert.deepEqual(codes, ["provider-requirement-missing"]);
});

test("the command exits non-zero on findings and zero without", () => {
  const cli = path.join(here, "check-schema.mjs");
  const bad = spawnSync(process.execPath, [cli, path.join(fixtures, "bad")], { encoding: "utf8" });
  assert.equal(bad.status, 1, bad.stdout + bad.stderr);
  assert.match(bad.stderr, /25 finding\(s\)/);
  const good = spawnSync(process.execPath, [cli, path.join(fixtures, "good")], { encoding: "utf8" });
  assert.equal(good.status, 0, good.stdout + good.stderr);
  const real = spawnSync(process.execPath, [cli], { encoding: "utf8" });
  assert.equal(real.status, 0, real.stdout + real.stderr);
});

test("terraform.tfvars.example sets only declared variables, and every required one", async () => {
  const root = path.resolve(here, "..");
  const findings = [];
  const mod = await loadModule(root, findings);
  assert.deepEqual(findings, []);
  const file = path.join(root, "terraform.tfvars.example");
  const example = await parse(file, fs.readFileSync(file, "utf8"));
  for (const name of Object.keys(example)) assert.ok(mod.variables.has(name), `${name} is not a variable of the root module`);
  for (const [name, v] of mod.variables) {
    if (!("default" in v.body)) assert.ok(name in example, `required variable ${name} is missing from the example`);
  }
  for (const [key, m] of Object.entries(example.models)) {
    assert.equal(typeof m.model, "string", `models.${key}.model is a model id`);
  }
});
