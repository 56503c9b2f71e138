// Static checks of Terraform code against the Hyperstack provider schema.
//
// Every .tf file is parsed with a real HCL parser (@cdktf/hcl2json, HashiCorp's
// hcl library compiled to WebAssembly); expressions are parsed again into an
// AST to find references. Needs no provider and no network, which is the
// point: `terraform validate` cannot run offline on modules that use the
// Hyperstack provider.

import fs from "node:fs";
import path from "node:path";
import { parse, getExpressionAst } from "@cdktf/hcl2json";

const PROVIDER_NAME = "hyperstack";
const RESOURCE_META = new Set(["count", "for_each", "depends_on", "lifecycle", "provider", "provisioner", "connection", "dynamic"]);
const MODULE_META = new Set(["source", "version", "count", "for_each", "depends_on", "providers"]);
// Roots of references that are not resources.
const SPECIAL_ROOTS = new Set(["var", "local", "module", "data", "self", "each", "count", "path", "terraform", "run"]);
// Attributes of built-in resources that the checker knows.
const BUILTIN_RESOURCES = {
  terraform_data: new Set(["id", "input", "output", "triggers_replace"]),
};
const INDEX = Symbol("index");

/** One problem found in the code. */
function finding(code, file, message) {
  return { code, file, message };
}

export function loadSchema(file) {
  const schema = JSON.parse(fs.readFileSync(file, "utf8"));
  for (const key of ["provider", "version", "resource", "data"]) {
    if (!(key in schema)) throw new Error(`${file}: schema has no "${key}" key`);
  }
  return schema;
}

/** Directories under root that hold .tf files, skipping excluded ones. */
export function findModuleDirs(root, exclude = []) {
  const skip = new Set(["node_modules", ".terraform", ".git"]);
  const excluded = exclude.map((e) => path.resolve(e));
  const dirs = [];
  const walk = (dir) => {
    if (excluded.includes(path.resolve(dir))) return;
    const entries = fs.readdirSync(dir, { withFileTypes: true });
    if (entries.some((e) => e.isFile() && e.name.endsWith(".tf"))) dirs.push(dir);
    for (const e of entries) {
      if (e.isDirectory() && !skip.has(e.name)) walk(path.join(dir, e.name));
    }
  };
  walk(root);
  return dirs.sort();
}

/** Parses every .tf file of a module directory into a list of blocks. */
export async function loadModule(dir, findings) {
  const mod = {
    dir,
    resources: [], // {kind: "resource"|"data", type, name, body, file}
    modules: [], // {name, body, file}
    variables: new Map(), // name -> body
    outputs: new Map(),
    locals: new Map(), // name -> {value, file}
    providers: [], // {name, body, file}
    requiredProviders: [], // {name, spec, file}
    checks: [], // {name, body, file}
    parsed: true,
  };
  const files = fs.readdirSync(dir).filter((f) => f.endsWith(".tf")).sort();
  for (const f of files) {
    const file = path.join(dir, f);
    let json;
    try {
      json = await parse(file, fs.readFileSync(file, "utf8"));
    } catch (e) {
      findings.push(finding("parse-error", file, String(e.message || e)));
      mod.parsed = false;
      continue;
    }
    for (const kind of ["resource", "data"]) {
      for (const [type, byName] of Object.entries(json[kind] || {})) {
        for (const [name, bodies] of Object.entries(byName)) {
          for (const body of bodies) mod.resources.push({ kind, type, name, body, file });
        }
      }
    }
    for (const [name, bodies] of Object.entries(json.module || {})) {
      for (const body of bodies) mod.modules.push({ name, body, file });
    }
    for (const [name, bodies] of Object.entries(json.variable || {})) mod.variables.set(name, { body: bodies[0], file });
    for (const [name, bodies] of Object.entries(json.output || {})) mod.outputs.set(name, { body: bodies[0], file });
    for (const block of json.locals || []) {
      for (const [name, value] of Object.entries(block)) mod.locals.set(name, { value, file });
    }
    for (const [name, bodies] of Object.entries(json.provider || {})) {
      for (const body of bodies) mod.providers.push({ name, body, file });
    }
    for (const [name, bodies] of Object.entries(json.check || {})) {
      for (const body of bodies) mod.checks.push({ name, body, file });
    }
    for (const tf of json.terraform || []) {
      for (const rp of tf.required_providers || []) {
        for (const [name, spec] of Object.entries(rp)) mod.requiredProviders.push({ name, spec, file });
      }
    }
  }
  return mod;
}

// ---------------------------------------------------------------- references

/** Segments of a traversal chain (names, or INDEX), or null if node is not one. */
function chain(node) {
  if (!node) return null;
  const parts = (traversal) => traversal.map((p) => (p.type === "nameTraversal" ? p.segment : INDEX));
  switch (node.type) {
    case "": // the anonymous symbol of a splat
      return [];
    case "scopeTraversal":
      return parts(node.meta.traversal);
    case "relativeTraversal": {
      const src = chain(node.children[0]);
      return src && [...src, ...parts(node.meta.traversal)];
    }
    case "index": {
      const src = chain(node.children[0]);
      return src && [...src, INDEX];
    }
    case "splat": {
      const src = chain(node.children[0]);
      const each = node.children[1] ? chain(node.children[1]) : [];
      return src && each && [...src, INDEX, ...each];
    }
    default:
      return null;
  }
}

/** Collects reference chains in an expression AST, ignoring for-expression variables. */
function collectRefs(node, locals, out) {
  if (!node) return;
  if (node.type === "for") {
    const inner = new Set(locals);
    if (node.meta.keyVar) inner.add(node.meta.keyVar);
    if (node.meta.valVar) inner.add(node.meta.valVar);
    // The collection is evaluated outside the for's own scope.
    const [first, ...rest] = node.children;
    collectRefs(first, locals, out);
    for (const c of rest) collectRefs(c, inner, out);
    return;
  }
  const c = chain(node);
  if (c && c.length > 0 && typeof c[0] === "string" && !locals.has(c[0])) out.push(c);
  // The second child of a splat is rooted at the anonymous symbol: not a reference.
  const kids = node.type === "splat" ? node.children.slice(0, 1) : node.children || [];
  for (const child of kids) collectRefs(child, locals, out);
}

const astCache = new Map();

/** Parses a string value from hcl2json (a template) and returns its AST, or null. */
async function templateAst(value, file) {
  if (!value.includes("${") && !value.includes("%{")) return null;
  if (astCache.has(value)) return astCache.get(value);
  let marker = "EOT_CHECK";
  while (value.includes(marker)) marker += "_X";
  let ast = null;
  try {
    ast = await getExpressionAst(file, `<<${marker}\n${value}\n${marker}\n`);
  } catch (e) {
    ast = { error: String(e.message || e) };
  }
  astCache.set(value, ast);
  return ast;
}

/** Calls fn(stringValue, keyPath) for every string inside a JSON value. */
function forEachString(value, keyPath, fn) {
  if (typeof value === "string") fn(value, keyPath);
  else if (Array.isArray(value)) value.forEach((v, i) => forEachString(v, [...keyPath, i], fn));
  else if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) forEachString(v, [...keyPath, k], fn);
  }
}

/** All reference chains in a JSON value; expression parse errors become findings. */
async function refsIn(value, file, findings, extraLocals = new Set()) {
  const strings = [];
  forEachString(value, [], (s) => strings.push(s));
  const refs = [];
  for (const s of strings) {
    const ast = await templateAst(s, file);
    if (!ast) continue;
    if (ast.error) {
      findings.push(finding("parse-error", file, `cannot parse expression ${JSON.stringify(s)}: ${ast.error}`));
      continue;
    }
    collectRefs(ast, extraLocals, refs);
  }
  return refs;
}

const show = (c) => c.map((s) => (s === INDEX ? "[…]" : s)).join(".").replace(/\.\[…\]/g, "[…]");
const names = (c) => c.filter((s) => s !== INDEX);

// ---------------------------------------------------------------- checks

function typeOfLiteral(v) {
  if (Array.isArray(v)) return "array";
  if (v === null) return "null";
  return typeof v;
}

/** True when a heredoc-wrapped template AST is exactly one "${expr}" (plus the heredoc's newline). */
function isPureInterpolation(ast) {
  if (ast.type === "templateWrap") return true;
  if (ast.type !== "template") return false;
  const kids = [...(ast.children || [])];
  const last = kids[kids.length - 1];
  if (last && last.type === "literalValue" && last.meta?.value === "\n") kids.pop();
  return kids.length === 1 && kids[0].type !== "literalValue";
}

/** Returns an error text when a literal value cannot have the schema type. */
function literalTypeError(value, schemaType, ast) {
  const t = typeOfLiteral(value);
  if (t === "null") return null;
  if (t === "string" && ast) {
    // A pure "${expr}" can be of any type; a template with text around it is a string.
    if (isPureInterpolation(ast)) return null;
    if (["String"].includes(schemaType)) return null;
    return `a string template cannot be a ${schemaType}`;
  }
  switch (schemaType) {
    case "String":
      return ["string", "number", "boolean"].includes(t) ? null : `expected a string, got ${t}`;
    case "Int64":
    case "Number":
    case "Float64": {
      if (t === "number") return schemaType === "Int64" && !Number.isInteger(value) ? `expected an integer, got ${value}` : null;
      if (t === "string" && value.trim() !== "" && !Number.isNaN(Number(value))) return null;
      return `expected a number, got ${t} ${JSON.stringify(value)}`;
    }
    case "Bool":
      if (t === "boolean" || value === "true" || value === "false") return null;
      return `expected a bool, got ${t} ${JSON.stringify(value)}`;
    case "List":
    case "Set":
    case "ListNested":
    case "SetNested":
      return t === "array" ? null : `expected a list, got ${t}`;
    case "Map":
    case "MapNested":
    case "SingleNested":
    case "Object":
      return t === "object" ? null : `expected an object, got ${t}`;
    default:
      return null;
  }
}

const isBlockType = (attr) => typeof attr.type === "string" && attr.type.endsWith("Block");
const isReadOnly = (attr) => attr.computed && !attr.optional && !attr.required && !isBlockType(attr);

function normaliseSource(source) {
  const s = String(source || "").toLowerCase();
  return s.split("/").length === 2 ? `registry.terraform.io/${s}` : s;
}

function exactVersion(constraint) {
  const m = /^\s*=?\s*(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)\s*$/.exec(String(constraint ?? ""));
  return m ? m[1] : null;
}

async function checkProviderRequirements(mod, schema, findings, isRoot) {
  const usesHyperstack = mod.resources.some((r) => r.type.startsWith(`${PROVIDER_NAME}_`));
  const declared = mod.requiredProviders.filter((p) => p.name === PROVIDER_NAME);
  if ((usesHyperstack || isRoot) && declared.length === 0) {
    findings.push(
      finding(
        "provider-requirement-missing",
        path.join(mod.dir, "versions.tf"),
        `${isRoot ? "the root module" : "this module uses hyperstack_* blocks but"} does not declare required_providers.${PROVIDER_NAME} (source NexGenCloud/hyperstack, version ${schema.version})`,
      ),
    );
  }
  for (const p of mod.requiredProviders) {
    const spec = typeof p.spec === "string" ? { version: p.spec } : p.spec || {};
    const version = exactVersion(spec.version);
    if (p.name === PROVIDER_NAME) {
      if (normaliseSource(spec.source) !== normaliseSource(schema.provider)) {
        findings.push(finding("provider-wrong-source", p.file, `required_providers.${p.name}.source is ${JSON.stringify(spec.source)}, expected NexGenCloud/hyperstack (${schema.provider})`));
      }
      if (version !== schema.version) {
        findings.push(
          finding(
            "provider-not-pinned",
            p.file,
            `required_providers.${p.name}.version is ${JSON.stringify(spec.version)}; it must be exactly "${schema.version}" (all releases are pre-releases, a range matches none)`,
          ),
        );
      }
    } else if (!version) {
      findings.push(finding("provider-not-pinned", p.file, `required_providers.${p.name}.version is ${JSON.stringify(spec.version)}; pin an exact version`));
    }
  }
  for (const p of mod.providers) {
    if (p.name !== PROVIDER_NAME) continue;
    for (const key of Object.keys(p.body || {})) {
      if (key === "alias") continue;
      findings.push(finding("unknown-argument", p.file, `provider "${PROVIDER_NAME}": argument "${key}" is not in the provider schema (the API key comes from HYPERSTACK_API_KEY)`));
    }
  }
}

async function checkResourceBody(res, schema, findings) {
  const where = `${res.kind === "data" ? "data." : ""}${res.type}.${res.name}`;
  const attrs = (res.kind === "data" ? schema.data : schema.resource)[res.type];
  if (!attrs) {
    findings.push(finding(res.kind === "data" ? "unknown-data-type" : "unknown-resource-type", res.file, `${where}: "${res.type}" is not a ${res.kind === "data" ? "data source" : "resource type"} of provider ${schema.provider} ${schema.version}`));
    return;
  }
  const body = res.body || {};
  for (const [key, value] of Object.entries(body)) {
    if (RESOURCE_META.has(key)) continue;
    const attr = attrs[key];
    if (!attr) {
      findings.push(finding("unknown-argument", res.file, `${where}: argument "${key}" is not in the schema of ${res.type}`));
      continue;
    }
    if (isReadOnly(attr)) {
      findings.push(finding("read-only-argument", res.file, `${where}: "${key}" is read-only (computed) and cannot be set`));
      continue;
    }
    if (isBlockType(attr)) continue;
    const ast = typeof value === "string" ? await templateAst(value, res.file) : null;
    const err = literalTypeError(value, attr.type, ast && !ast.error ? ast : null);
    if (err) findings.push(finding("wrong-type", res.file, `${where}: "${key}" is ${attr.type}: ${err}`));
  }
  for (const [key, attr] of Object.entries(attrs)) {
    if (attr.required && !(key in body)) {
      findings.push(finding("missing-required", res.file, `${where}: required argument "${key}" is missing`));
    }
  }
  for (const dyn of [].concat(body.dynamic || [])) {
    for (const label of Object.keys(dyn || {})) {
      if (!attrs[label] || !isBlockType(attrs[label])) {
        findings.push(finding("unknown-argument", res.file, `${where}: dynamic "${label}" is not a block of ${res.type}`));
      }
    }
  }
  for (const lc of [].concat(body.lifecycle || [])) {
    for (const entry of [].concat(lc?.ignore_changes || [])) {
      const name = String(entry).replace(/^\$\{|\}$/g, "").split(/[.[]/)[0];
      if (name !== "all" && !attrs[name]) {
        findings.push(finding("unknown-argument", res.file, `${where}: lifecycle.ignore_changes names "${name}", which is not an attribute of ${res.type}`));
      }
    }
  }
}

/** Dynamic-block iterator names usable inside a resource body. */
function iteratorNames(body) {
  const out = new Set();
  for (const dyn of [].concat(body?.dynamic || [])) {
    for (const [label, bodies] of Object.entries(dyn || {})) {
      out.add(label);
      for (const b of [].concat(bodies)) if (b?.iterator) out.add(String(b.iterator).replace(/^\$\{|\}$/g, ""));
    }
  }
  return out;
}

async function checkReferences(mod, value, file, context, schema, children, findings, opts = {}) {
  const refs = await refsIn(value, file, findings, opts.iterators || new Set());
  const declared = (kind, type, name) => mod.resources.some((r) => r.kind === kind && r.type === type && r.name === name);
  for (const c of refs) {
    const n = names(c);
    const root = n[0];
    const report = (code, msg) => findings.push(finding(code, file, `${context}: ${show(c)}: ${msg}`));
    if (root === "var") {
      if (n[1] && !mod.variables.has(n[1])) report("undeclared-variable", `variable "${n[1]}" is not declared`);
    } else if (root === "local") {
      if (n[1] && !mod.locals.has(n[1])) report("undeclared-local", `local "${n[1]}" is not declared`);
    } else if (root === "module") {
      const call = mod.modules.find((m) => m.name === n[1]);
      if (!call) report("undeclared-module", `module "${n[1]}" is not declared`);
      else if (n[2]) {
        const child = children.get(call.name);
        if (child && child.parsed && !child.outputs.has(n[2])) report("unknown-module-output", `module "${n[1]}" (${child.dir}) has no output "${n[2]}"`);
      }
    } else if (root === "data") {
      const [, type, name, attr] = n;
      if (!type || !name) continue;
      if (!declared("data", type, name)) report("undeclared-resource", `data "${type}" "${name}" is not declared in this module`);
      else if (type.startsWith(`${PROVIDER_NAME}_`) && attr && schema.data[type] && !schema.data[type][attr]) {
        report("unknown-attribute", `"${attr}" is not an attribute of data source ${type}`);
      }
    } else if (root === "self") {
      if (opts.selfType && n[1] && schema.resource[opts.selfType] && !schema.resource[opts.selfType][n[1]]) {
        report("unknown-attribute", `"${n[1]}" is not an attribute of ${opts.selfType}`);
      }
    } else if (SPECIAL_ROOTS.has(root) || (opts.iterators && opts.iterators.has(root))) {
      continue;
    } else {
      const [type, name, attr] = n;
      if (!name) {
        report("unknown-reference", `"${type}" is not a known name here`);
        continue;
      }
      if (!declared("resource", type, name)) {
        report("undeclared-resource", `resource "${type}" "${name}" is not declared in this module`);
        continue;
      }
      if (!attr) continue;
      if (type.startsWith(`${PROVIDER_NAME}_`)) {
        if (schema.resource[type] && !schema.resource[type][attr]) report("unknown-attribute", `"${attr}" is not an attribute of ${type}`);
      } else if (BUILTIN_RESOURCES[type] && !BUILTIN_RESOURCES[type].has(attr)) {
        report("unknown-attribute", `"${attr}" is not an attribute of ${type}`);
      }
    }
  }
}

async function checkModuleCalls(mod, children, findings) {
  for (const call of mod.modules) {
    const child = children.get(call.name);
    if (!child) continue; // not a local source: nothing to compare against
    if (!child.parsed) continue;
    for (const key of Object.keys(call.body || {})) {
      if (MODULE_META.has(key)) continue;
      if (!child.variables.has(key)) {
        findings.push(finding("module-unknown-argument", call.file, `module "${call.name}": "${key}" is not a variable of ${child.dir}`));
      }
    }
    for (const [name, v] of child.variables) {
      if (!("default" in (v.body || {})) && !(name in (call.body || {}))) {
        findings.push(finding("module-missing-argument", call.file, `module "${call.name}": required variable "${name}" of ${child.dir} is not set`));
      }
    }
  }
}

/** Runs every check on the module directories under root; returns findings. */
export async function checkTree(root, schema, { exclude = [] } = {}) {
  const findings = [];
  const dirs = findModuleDirs(root, exclude);
  const modules = new Map();
  for (const dir of dirs) modules.set(path.resolve(dir), await loadModule(dir, findings));

  for (const mod of modules.values()) {
    // Local child modules, by call name.
    const children = new Map();
    for (const call of mod.modules) {
      const source = String(call.body?.source || "");
      if (!source.startsWith("./") && !source.startsWith("../")) continue;
      const childDir = path.resolve(mod.dir, source);
      let child = modules.get(childDir);
      if (!child) {
        if (!fs.existsSync(childDir)) {
          findings.push(finding("module-source-missing", call.file, `module "${call.name}": source ${source} does not exist`));
          continue;
        }
        child = await loadModule(childDir, findings);
        modules.set(childDir, child);
      }
      children.set(call.name, child);
    }

    await checkProviderRequirements(mod, schema, findings, path.resolve(mod.dir) === path.resolve(root));
    await checkModuleCalls(mod, children, findings);

    for (const res of mod.resources) {
      const hyper = res.type.startsWith(`${PROVIDER_NAME}_`);
      if (hyper) await checkResourceBody(res, schema, findings);
      const { lifecycle, ...rest } = res.body || {};
      const ctx = `${res.kind === "data" ? "data." : ""}${res.type}.${res.name}`;
      const iterators = iteratorNames(res.body);
      const selfType = res.kind === "resource" && hyper ? res.type : null;
      // ignore_changes holds attribute names, not references.
      const lc = [].concat(lifecycle || []).map(({ ignore_changes, ...l }) => l);
      await checkReferences(mod, { ...rest, lifecycle: lc }, res.file, ctx, schema, children, findings, { iterators, selfType });
    }
    for (const call of mod.modules) {
      const { providers, ...rest } = call.body || {};
      await checkReferences(mod, rest, call.file, `module.${call.name}`, schema, children, findings);
    }
    for (const [name, { value, file }] of mod.locals) {
      await checkReferences(mod, value, file, `local.${name}`, schema, children, findings);
    }
    for (const [name, { body, file }] of mod.outputs) {
      if (!body || !("value" in body)) findings.push(finding("missing-required", file, `output "${name}": "value" is missing`));
      await checkReferences(mod, body, file, `output.${name}`, schema, children, findings);
    }
    for (const [name, { body, file }] of mod.variables) {
      // The type constraint is a type expression, not references.
      const { type, ...rest } = body || {};
      await checkReferences(mod, rest, file, `variable.${name}`, schema, children, findings);
    }
    for (const chk of mod.checks) {
      await checkReferences(mod, chk.body, chk.file, `check.${chk.name}`, schema, children, findings);
    }
  }
  return findings;
}

export function formatFindings(findings, base = process.cwd()) {
  return findings.map((f) => `${path.relative(base, f.file) || f.file}: [${f.code}] ${f.message}`).join("\n");
}
