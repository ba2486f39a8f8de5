// Checks Pulse's output against its contract in schemas/ (JSON Schema 2020-12 and OpenAPI 3.1),
// with ajv. Run by CTest (tests/CMakeLists.txt):
//
//   node validate.mjs static REPO_ROOT
//     every schema compiles (strict), every golden sample under tests/data/golden validates
//     against its schema, openapi.yaml is well formed, and the routes registered in
//     adapters/http/*.cpp and the documented ones are the same set.
//   node validate.mjs recordings REPO_ROOT DIR
//     DIR holds what the end-to-end suites recorded (PULSE_RECORD_DIR, see
//     tests/integration/server_process.h): events-*.ndjson (pulse events of each server's data
//     directory) and http-*.ndjson (every exchange through ServerProcess::client()). Every event
//     must validate against its type's schema, every response against openapi.yaml (path
//     template, method, status, content type, body, headers). Fails when DIR recorded nothing.
import fs from 'node:fs';
import path from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import YAML from 'yaml';

const [mode, root, recordDir] = process.argv.slice(2);
if (!['static', 'recordings'].includes(mode) || !root || (mode === 'recordings' && !recordDir)) {
  console.error('usage: node validate.mjs static REPO_ROOT | recordings REPO_ROOT DIR');
  process.exit(2);
}
const schemasDir = path.join(root, 'schemas');

// ---- problems are collected, de-duplicated and counted -----------------------------------
const problems = new Map();  // message -> {n, where: the first place it was seen}
function problem(msg, where) {
  const p = problems.get(msg) || { n: 0, where };
  p.n += 1;
  problems.set(msg, p);
}
function finish(summary) {
  if (problems.size) {
    for (const [msg, { n, where }] of problems)
      console.error(`FAIL ${msg}${where ? ` (${where}${n > 1 ? ` and ${n - 1} more` : ''})` : ''}`);
    console.error(`schema validation: ${problems.size} distinct problem(s). ${summary}`);
    console.error('See schemas/README.md for how to add or change a schema.');
    process.exit(1);
  }
  console.log(`schema validation OK: ${summary}`);
}
const ajvErrors = (errors) =>
  errors.slice(0, 4).map((e) => `${e.instancePath || '/'} ${e.message}${e.params?.additionalProperty ? ` '${e.params.additionalProperty}'` : ''}${e.params?.unevaluatedProperty ? ` '${e.params.unevaluatedProperty}'` : ''}`).join('; ');

function newAjv() {
  const ajv = new Ajv2020({ strict: true, strictTypes: false, allErrors: true, allowUnionTypes: true });
  addFormats(ajv);
  // OpenAPI's own keywords, so the whole document can be added as one schema resource and its
  // '#/components/...' references resolve.
  ajv.addVocabulary(['openapi', 'info', 'servers', 'paths', 'components', 'tags', 'webhooks',
                     'security', 'externalDocs', 'jsonSchemaDialect', 'example']);
  return ajv;
}

// ---- webhook payloads: schemas/webhooks/payload.json ---------------------------------------
// Compiled first, into the records' ajv: the webhook record schemas refer to its list of event
// types by its $id.
const recordAjv = newAjv();
let validatePayload = null;
try {
  validatePayload = recordAjv.compile(JSON.parse(fs.readFileSync(path.join(schemasDir, 'webhooks', 'payload.json'), 'utf8')));
} catch (e) {
  problem(`schemas/webhooks/payload.json: does not compile: ${e.message}`);
}

// ---- record schemas: schemas/{commands,events}/<Type>.v<N>.json ---------------------------
const recordSchemas = new Map();  // "events/CampaignCreated.v1" -> validate function
for (const kind of ['commands', 'events']) {
  const dir = path.join(schemasDir, kind);
  for (const file of fs.existsSync(dir) ? fs.readdirSync(dir).sort() : []) {
    const m = /^([A-Za-z0-9]+)\.v(\d+)\.json$/.exec(file);
    if (!m) {
      problem(`schemas/${kind}/${file}: name must be <Type>.v<N>.json`);
      continue;
    }
    try {
      const schema = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
      if (schema.properties?.type?.const !== m[1] || schema.properties?.v?.const !== Number(m[2]))
        problem(`schemas/${kind}/${file}: properties.type/v must be const "${m[1]}"/${m[2]}`);
      recordSchemas.set(`${kind}/${m[1]}.v${m[2]}`, recordAjv.compile(schema));
    } catch (e) {
      problem(`schemas/${kind}/${file}: does not compile: ${e.message}`);
    }
  }
}
function validateRecord(kind, text, where) {
  let rec;
  try {
    rec = JSON.parse(text);
  } catch (e) {
    return problem(`${where}: not JSON: ${e.message}`);
  }
  const key = `${kind}/${rec.type}.v${rec.v}`;
  const validate = recordSchemas.get(key);
  if (!validate) return problem(`no schema for ${kind.slice(0, -1)} ${rec.type} v${rec.v}: add schemas/${key}.json`, where);
  if (!validate(rec)) problem(`${key}: ${ajvErrors(validate.errors)}`, where);
}

function validateWebhook(text, where) {
  let body;
  try { body = JSON.parse(text); } catch (e) { return problem(`${where}: webhook body is not JSON: ${e.message}`); }
  if (validatePayload && !validatePayload(body)) problem(`webhooks/payload.json (${body.type}): ${ajvErrors(validatePayload.errors)}`, where);
}

// ---- the OpenAPI document ------------------------------------------------------------------
const openapiText = fs.readFileSync(path.join(schemasDir, 'openapi.yaml'), 'utf8');
const openapi = YAML.parse(openapiText);
if (!/^3\.1\./.test(openapi.openapi || '')) problem('openapi.yaml: openapi must be 3.1.x');
const apiAjv = newAjv();
apiAjv.addSchema({ $id: 'openapi.json', ...openapi });
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];
const pointer = (...parts) => parts.map((p) => String(p).replace(/~/g, '~0').replace(/\//g, '~1')).join('/');

// An OpenAPI $ref (responses, parameters, headers) resolved within the document.
function deref(obj) {
  let seen = 0;
  while (obj && obj.$ref && seen++ < 10) {
    if (!obj.$ref.startsWith('#/')) throw new Error(`external $ref ${obj.$ref}`);
    obj = obj.$ref.slice(2).split('/').reduce((o, k) => o?.[k.replace(/~1/g, '/').replace(/~0/g, '~')], openapi);
  }
  if (!obj) throw new Error('dangling $ref');
  return obj;
}
// A JSON pointer into the document with OpenAPI $refs followed to the object they name.
function resolvePtr(ptr) {
  for (let i = 0; i < 10; ++i) {
    const obj = ptr.split('/').reduce((o, k) => o?.[k.replace(/~1/g, '/').replace(/~0/g, '~')], openapi);
    if (!obj?.$ref) return ptr;
    ptr = obj.$ref.slice(2);
  }
  return ptr;
}
const compiled = new Map();
function schemaAt(ptr) {  // a validator for the schema at a JSON pointer into the document
  if (!compiled.has(ptr)) compiled.set(ptr, apiAjv.compile({ $ref: `openapi.json#/${ptr}` }));
  return compiled.get(ptr);
}
// Where a response's/parameter's schema is, as a pointer (following OpenAPI $refs).
function refPointer(base, obj) {
  return obj.$ref ? obj.$ref.slice(2) : base;
}

const operations = [];  // {method, template, regex, op, opPtr}
for (const [template, item] of Object.entries(openapi.paths || {})) {
  for (const method of METHODS) {
    if (!item[method]) continue;
    const regex = new RegExp('^' + template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{[^}]+\\?\}/g, '([^/]+)') + '$');
    operations.push({ method: method.toUpperCase(), template, regex, op: item[method], opPtr: pointer('paths', template, method) });
  }
}

// Every schema, response and parameter of the document compiles.
function checkDocument() {
  for (const name of Object.keys(openapi.components?.schemas || {})) {
    try { schemaAt(pointer('components', 'schemas', name)); } catch (e) { problem(`openapi.yaml components.schemas.${name}: ${e.message}`); }
  }
  for (const { method, template, op, opPtr } of operations) {
    const where = `openapi.yaml ${method} ${template}`;
    if (!op.responses || !Object.keys(op.responses).length) problem(`${where}: no responses`);
    for (const [status, r0] of Object.entries(op.responses || {})) {
      try {
        const r = deref(r0);
        const rPtr = refPointer(`${opPtr}/responses/${pointer(status)}`, r0);
        if (!r.headers?.['X-Request-Id']) problem(`${where} ${status}: every response documents X-Request-Id`);
        for (const [type, media] of Object.entries(r.content || {})) {
          if (media.schema) schemaAt(`${rPtr}/content/${pointer(type)}/schema`);
        }
        if (/^[45]/.test(status)) {
          const json = r.content?.['application/json']?.schema;
          if (!json || deref(json) !== openapi.components.schemas.Error)
            problem(`${where} ${status}: an error response's body is #/components/schemas/Error`);
        }
      } catch (e) {
        problem(`${where} ${status}: ${e.message}`);
      }
    }
  }
}

// ---- routes registered in C++ vs documented ---------------------------------------------
function registeredRoutes() {
  const dir = path.join(root, 'adapters', 'http');
  const routes = [];
  const re = /(?:server|router)\.(Get|Post|Put|Patch|Delete|Options)\(\s*(?:R"\((.*?)\)"|"((?:[^"\\]|\\.)*)")/gs;
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.cpp')).sort()) {
    const src = fs.readFileSync(path.join(dir, file), 'utf8');
    for (const m of src.matchAll(re)) {
      const pattern = m[2] ?? m[3];
      routes.push({ method: m[1].toUpperCase(), pattern, regex: new RegExp(`^${pattern}$`), file });
    }
  }
  return routes;
}
function checkRouteCoverage() {
  const routes = registeredRoutes();
  if (!routes.length) problem('found no route registrations in adapters/http/*.cpp');
  for (const r of routes) {
    // A concrete path the route serves: each capture group replaced by a sample segment.
    const sample = r.pattern.replace(/\((?:[^()\\]|\\.)*\)/g, 'x1').replace(/\\(.)/g, '$1');
    if (!operations.some((o) => o.method === r.method && o.regex.test(sample)))
      problem(`route ${r.method} ${r.pattern} (adapters/http/${r.file}) is not documented in schemas/openapi.yaml`);
  }
  for (const o of operations) {
    // Each path parameter filled with its schema's first example (ids carry their prefix).
    const params = [...(openapi.paths[o.template].parameters || []), ...(o.op.parameters || [])].map(deref);
    const sample = o.template.replace(/\{([^}]+)\}/g, (_, name) => {
      const p = params.find((q) => q.in === 'path' && q.name === name);
      return (p?.schema && deref(p.schema).examples?.[0]) ?? 'x1';
    });
    if (!routes.some((r) => r.method === o.method && r.regex.test(sample)))
      problem(`openapi.yaml documents ${o.method} ${o.template}, which no adapters/http/*.cpp registers`);
  }
  return routes.length;
}

// ---- HTTP exchanges --------------------------------------------------------------------------
const CHECKED_HEADER = /^(x-.*|retry-after|allow)$/i;
function headerValue(headers, name) {
  const k = Object.keys(headers || {}).find((h) => h.toLowerCase() === name.toLowerCase());
  return k === undefined ? undefined : headers[k];
}
function validateExchange(x, where) {
  const [rawPath, query = ''] = x.path.split('?');
  const matches = operations.filter((o) => o.regex.test(rawPath));
  const op = matches.find((o) => o.method === x.method);
  // Unknown routes are reported once per shape: ids in the path become {id}.
  const route = op ? `${op.method} ${op.template}` : `${x.method} ${rawPath.replace(/\/[a-z]+_[0-9a-z]+(?=\/|$)/g, '/{id}')}`;
  if (!op) return problem(`${route} is not documented in schemas/openapi.yaml (${matches.length ? 'method' : 'path'} unknown)`, where);
  const status = String(x.status);
  const responses = op.op.responses || {};
  const key = status in responses ? status : `${status[0]}XX` in responses ? `${status[0]}XX` : 'default' in responses ? 'default' : null;
  if (!key) return problem(`${route} answered ${status}, which openapi.yaml does not document`);
  const r0 = responses[key];
  const r = deref(r0);
  const rPtr = r0.$ref ? r0.$ref.slice(2) : `${op.opPtr}/responses/${pointer(key)}`;
  const tag = `${route} ${status}`;

  // Headers: the required ones present, every X-…/Retry-After/Allow documented and valid.
  const documented = Object.fromEntries(Object.entries(r.headers || {}).map(([k, v]) => [k.toLowerCase(), deref(v)]));
  for (const [name, h] of Object.entries(documented))
    if (h.required && headerValue(x.headers, name) === undefined) problem(`${tag}: header ${name} is missing`);
  for (const [name, value] of Object.entries(x.headers || {})) {
    if (!CHECKED_HEADER.test(name)) continue;
    const h = documented[name.toLowerCase()];
    if (!h) { problem(`${tag}: header ${name} is not documented for this response`); continue; }
    if (h.schema) {
      const s = deref(h.schema);
      const v = s.type === 'integer' && /^-?\d+$/.test(value) ? Number(value) : value;
      const declared = Object.keys(r.headers).find((k) => k.toLowerCase() === name.toLowerCase());
      const validate = schemaAt(`${resolvePtr(`${rPtr}/headers/${pointer(declared)}`)}/schema`);
      if (!validate(v)) problem(`${tag}: header ${name}: ${ajvErrors(validate.errors)}`);
    }
  }

  // Body: its content type documented, JSON validated against the schema.
  const contentType = (headerValue(x.headers, 'Content-Type') || '').split(';')[0].trim().toLowerCase();
  const content = r.content || {};
  if (!Object.keys(content).length) {
    if (x.body) problem(`${tag}: a body that openapi.yaml does not document`);
  } else if (!(contentType in content)) {
    problem(`${tag}: content type '${contentType}' not documented (${Object.keys(content).join(', ')})`);
  } else if (content[contentType].schema) {
    const validate = schemaAt(`${rPtr}/content/${pointer(contentType)}/schema`);
    let body = x.body;
    if (contentType.endsWith('json')) {
      try { body = JSON.parse(x.body); } catch (e) { return problem(`${tag}: body is not JSON: ${e.message}`); }
    }
    if (!validate(body)) problem(`${tag}: body: ${ajvErrors(validate.errors)}`);
  }

  // A request the server accepted must fit the documented request too (parameters, body).
  if (x.status < 300) {
    const params = [...(openapi.paths[op.template].parameters || []), ...(op.op.parameters || [])];
    const pathValues = op.regex.exec(rawPath).slice(1);
    const names = [...op.template.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
    const q = new URLSearchParams(query);
    for (const p0 of params) {
      const p = deref(p0);
      let value;
      if (p.in === 'path') value = decodeURIComponent(pathValues[names.indexOf(p.name)] ?? '');
      else if (p.in === 'query') value = q.get(p.name) ?? undefined;
      else continue;  // request headers are the client's business
      if (value === undefined) continue;
      const s = deref(p.schema || {});
      if (s.type === 'integer' && /^-?\d+$/.test(value)) value = Number(value);
      const validate = apiAjv.compile(p.schema.$ref ? { $ref: `openapi.json#/${p.schema.$ref.slice(2)}` } : p.schema);
      if (!validate(value)) problem(`${tag}: accepted ${p.in} parameter ${p.name}=${value}: ${ajvErrors(validate.errors)}`);
    }
    const reqContent = op.op.requestBody && deref(op.op.requestBody).content;
    if (reqContent?.['application/json']?.schema && x.requestBody) {
      const validate = schemaAt(`${op.opPtr}/requestBody/content/${pointer('application/json')}/schema`);
      try {
        if (!validate(JSON.parse(x.requestBody))) problem(`${tag}: accepted request body: ${ajvErrors(validate.errors)}`);
      } catch (e) {
        problem(`${tag}: accepted a request body that is not JSON`);
      }
    }
  }
}

// ---- main ----------------------------------------------------------------------------------
checkDocument();
if (mode === 'static') {
  const golden = path.join(root, 'tests', 'data', 'golden');
  let samples = 0;
  for (const kind of ['commands', 'events']) {
    const dir = path.join(golden, kind);
    for (const file of fs.existsSync(dir) ? fs.readdirSync(dir).sort() : []) {
      validateRecord(kind, fs.readFileSync(path.join(dir, file), 'utf8'), `tests/data/golden/${kind}/${file}`);
      ++samples;
    }
  }
  if (!samples) problem('no golden samples found under tests/data/golden');
  const hookDir = path.join(root, 'tests', 'data', 'webhooks');
  for (const file of fs.existsSync(hookDir) ? fs.readdirSync(hookDir).sort() : []) {
    validateWebhook(fs.readFileSync(path.join(hookDir, file), 'utf8'), `tests/data/webhooks/${file}`);
    ++samples;
  }
  const routes = checkRouteCoverage();
  finish(`${recordSchemas.size} record schemas, ${samples} golden samples, ${operations.length} documented operations, ${routes} registered routes`);
} else {
  const files = fs.existsSync(recordDir) ? fs.readdirSync(recordDir).sort() : [];
  let events = 0, exchanges = 0, webhooks = 0;
  const seenEvents = new Set();
  const routesSeen = new Set();
  for (const file of files) {
    const isEvents = /^events-.*\.ndjson$/.test(file), isHttp = /^http-.*\.ndjson$/.test(file);
    const isWebhooks = /^webhooks-.*\.ndjson$/.test(file);
    if (!isEvents && !isHttp && !isWebhooks) continue;
    const lines = fs.readFileSync(path.join(recordDir, file), 'utf8').split('\n');
    lines.forEach((line, i) => {
      if (!line.trim()) return;
      const where = `${file}:${i + 1}`;
      if (isWebhooks) {
        ++webhooks;
        validateWebhook(line, where);
      } else if (isEvents) {
        if (seenEvents.has(line)) return;  // the same data directory exported twice
        seenEvents.add(line);
        ++events;
        validateRecord('events', line, where);
      } else {
        let x;
        try { x = JSON.parse(line); } catch (e) { return problem(`${where}: not JSON: ${e.message}`); }
        ++exchanges;
        routesSeen.add(`${x.method} ${x.path.split('?')[0].replace(/\/(cmp|msg|key|org|usr)_[0-9a-z]+/g, '/{id}')} ${x.status}`);
        validateExchange(x, where);
      }
    });
  }
  if (!events) problem(`no events were recorded in ${recordDir} (did the end-to-end suite run with PULSE_RECORD_DIR?)`);
  if (!exchanges) problem(`no HTTP exchanges were recorded in ${recordDir}`);
  finish(`${events} distinct events, ${webhooks} webhook bodies and ${exchanges} HTTP exchanges (${routesSeen.size} route/status pairs) from ${recordDir}`);
}
