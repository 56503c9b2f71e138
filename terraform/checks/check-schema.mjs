#!/usr/bin/env node
// Checks every .tf file under the Terraform root against the Hyperstack
// provider schema. Exit code 0: no findings; 1: findings; 2: usage or I/O error.
//
//   node check-schema.mjs [--schema FILE] [--exclude DIR]... [ROOT]
//
// ROOT defaults to the parent of this directory (terraform/); fixtures/ (with
// its deliberately broken code) is excluded unless it is the ROOT itself.

import path from "node:path";
import { fileURLToPath } from "node:url";
import { checkTree, formatFindings, loadSchema } from "./checker.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
let schemaFile = path.join(here, "schema", "hyperstack-provider-1.50.0-alpha.schema.json");
let root = path.resolve(here, "..");
const exclude = [path.join(here, "fixtures")];

for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === "--schema") schemaFile = args[++i];
  else if (a === "--exclude") exclude.push(args[++i]);
  else if (a === "-h" || a === "--help") {
    console.log("usage: node check-schema.mjs [--schema FILE] [--exclude DIR]... [ROOT]");
    process.exit(0);
  } else if (a.startsWith("-")) {
    console.error(`unknown option ${a}`);
    process.exit(2);
  } else root = path.resolve(a);
}

try {
  const schema = loadSchema(schemaFile);
  // A ROOT inside an excluded directory (a fixture) is still checked.
  const effectiveExclude = exclude.filter((e) => !path.resolve(root).startsWith(path.resolve(e)));
  const findings = await checkTree(root, schema, { exclude: effectiveExclude });
  if (findings.length > 0) {
    console.error(formatFindings(findings));
    console.error(`\nschema check: ${findings.length} finding(s) in ${root}`);
    process.exit(1);
  }
  console.log(`schema check: OK (${root}, provider ${schema.provider} ${schema.version})`);
} catch (e) {
  console.error(`schema check failed to run: ${e.stack || e}`);
  process.exit(2);
}
