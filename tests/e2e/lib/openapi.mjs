// The OpenAPI document (openapi.json) as a response validator for the end-to-end tests.
//
//   validateResponse(method, pathTemplate, status, contentType, body[, headers])
//     throws an Error naming the mismatch: undocumented path, method or status, a content type
//     the response does not list, a documented header that is missing, or schema errors.
//   operations()       → [{ method, path, operationId }] documented in openapi.json
//   routerRoutes()     → [{ method, path }] read from src/api/routes.rs
//   routerCoverage()   → { missingFromDocument, missingFromRouter }
//   problemKindDrift() → mismatches between src/api/problem.rs and the document's problem types
//
// Two answers belong to no single operation (see info.description): a path the document does
// not list answers 404 (components/responses/NotFound), a listed path with an unlisted method
// answers 405 (components/responses/MethodNotAllowed). Pass `null` as pathTemplate for a path
// the document does not list.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const OPENAPI_PATH = `${ROOT}openapi.json`;
export const documentText = readFileSync(OPENAPI_PATH, 'utf8');
export const document = JSON.parse(documentText);

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];
const BASE = 'https://stockedge.invalid/openapi.json';

/** Resolves a local JSON pointer (`#/components/...`) in the document. */
function pointer(ref) {
  if (!ref.startsWith('#/')) throw new Error(`openapi.json: only local $refs are supported, got ${ref}`);
  let node = document;
  for (const raw of ref.slice(2).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (node == null || !(key in node)) throw new Error(`openapi.json: dangling $ref ${ref}`);
    node = node[key];
  }
  return node;
}

/** Follows `$ref` objects that are not schemas (responses, parameters, request bodies). */
function deref(node) {
  const seen = new Set();
  while (node && typeof node === 'object' && typeof node.$ref === 'string') {
    if (seen.has(node.$ref)) throw new Error(`openapi.json: $ref cycle at ${node.$ref}`);
    seen.add(node.$ref);
    node = pointer(node.$ref);
  }
  return node;
}

/** Rewrites `#/components/schemas/X` to the Ajv-registered components schema. */
function rewriteRefs(node) {
  if (Array.isArray(node)) return node.map(rewriteRefs);
  if (node && typeof node === 'object') {
    const out = {};
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string') {
        const m = /^#\/components\/schemas\/(.+)$/.exec(v);
        if (!m) throw new Error(`openapi.json: schema $ref outside components/schemas: ${v}`);
        out.$ref = `${BASE}#/$defs/${m[1]}`;
      } else {
        out[k] = rewriteRefs(v);
      }
    }
    return out;
  }
  return node;
}

const ajv = new Ajv2020({ strict: true, allErrors: true, strictTypes: true, strictTuples: true });
addFormats(ajv);
ajv.addSchema({ $id: BASE, $defs: rewriteRefs(document.components?.schemas ?? {}) });
// Compile every component once now, so that a broken schema or a dangling $ref fails at import.
for (const name of Object.keys(document.components?.schemas ?? {})) ajv.getSchema(`${BASE}#/$defs/${name}`);

const compiled = new Map();
function validatorFor(key, schema) {
  let v = compiled.get(key);
  if (!v) {
    v = ajv.compile(rewriteRefs(schema));
    compiled.set(key, v);
  }
  return v;
}

/** Every documented (method, path) pair. */
export function operations() {
  const out = [];
  for (const [path, item] of Object.entries(document.paths ?? {})) {
    for (const m of METHODS) {
      if (item[m]) out.push({ method: m.toUpperCase(), path, operationId: item[m].operationId });
    }
  }
  return out;
}

function templateRegex(template) {
  const src = template
    .split(/(\{[^}]+\})/)
    .map((part) => (/^\{[^}]+\}$/.test(part) ? '([^/]+)' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${src}/?$`);
}

/** The documented path template a concrete (percent-encoded) path matches, or null. */
export function matchPath(concretePath) {
  const path = concretePath.split('?')[0];
  const templates = Object.keys(document.paths ?? {});
  // Literal paths win over templated ones.
  const exact = templates.find((t) => t === path || `${t}/` === path);
  if (exact) return exact;
  return templates.find((t) => templateRegex(t).test(path)) ?? null;
}

function describeBody(body) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return text === undefined ? '(none)' : text.length > 600 ? `${text.slice(0, 600)}…` : text;
}

function fail(where, why, body) {
  const e = new Error(`${where}: ${why}\n  body: ${describeBody(body)}`);
  e.name = 'OpenApiMismatch';
  throw e;
}

function headerGetter(headers) {
  if (!headers) return null;
  if (typeof headers.get === 'function') return (n) => headers.get(n);
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return (n) => lower[n.toLowerCase()] ?? null;
}

function ajvErrors(errors) {
  return (errors ?? []).map((e) => `${e.instancePath || '(root)'} ${e.message}${e.params && Object.keys(e.params).length ? ` ${JSON.stringify(e.params)}` : ''}`).join('; ');
}

/**
 * Checks one response against the document. Throws on any mismatch; returns the documented
 * response's description otherwise.
 */
export function validateResponse(method, pathTemplate, status, contentType, body, headers) {
  const m = String(method).toLowerCase();
  const where = `${String(method).toUpperCase()} ${pathTemplate ?? '(unlisted path)'} → ${status} ${contentType ?? '(no content-type)'}`;
  let response;
  let key;
  const item = pathTemplate == null ? undefined : document.paths?.[pathTemplate];
  if (pathTemplate != null && !item) fail(where, `path ${pathTemplate} is not in openapi.json`, body);
  if (!item) {
    if (status !== 404) fail(where, 'a path the document does not list may only answer 404', body);
    response = deref(document.components.responses.NotFound);
    key = 'fallback:404';
  } else if (!item[m] && !(m === 'head' && item.get)) {
    if (status !== 405) fail(where, `${method} is not documented on ${pathTemplate}; only 405 may answer it`, body);
    response = deref(document.components.responses.MethodNotAllowed);
    key = 'fallback:405';
  } else {
    const op = item[m] ?? item.get;
    const responses = op.responses ?? {};
    const s = String(status);
    const found = responses[s] ?? responses[`${s[0]}XX`] ?? responses.default;
    if (!found) fail(where, `status ${status} is not documented (documented: ${Object.keys(responses).join(', ')})`, body);
    response = deref(found);
    key = `${pathTemplate} ${m === 'head' && !item.head ? 'get' : m} ${s}`;
  }

  const get = headerGetter(headers);
  if (get) {
    for (const [name, h] of Object.entries(response.headers ?? {})) {
      const hh = deref(h);
      if ((hh.required ?? true) && (get(name) == null || get(name) === '')) fail(where, `documented header ${name} is missing`, body);
    }
  }

  const content = response.content;
  if (!content) {
    if (body !== undefined && body !== null && body !== '') fail(where, 'the documented response has no body', body);
    return response.description;
  }
  const ct = (contentType ?? '').split(';')[0].trim().toLowerCase();
  if (!ct) fail(where, `no Content-Type; documented: ${Object.keys(content).join(', ')}`, body);
  const media = content[ct];
  if (!media) fail(where, `content type ${ct} is not documented for this status (documented: ${Object.keys(content).join(', ')})`, body);
  if (m === 'head') return response.description;
  if (!media.schema) return response.description;

  let value = body;
  if (typeof value === 'string' && /(^|\+|\/)json$/.test(ct)) {
    try {
      value = JSON.parse(value);
    } catch (e) {
      fail(where, `body is not JSON: ${e.message}`, body);
    }
  }
  const validate = validatorFor(`${key} ${ct}`, media.schema);
  if (!validate(value)) fail(where, `schema mismatch: ${ajvErrors(validate.errors)}`, value);
  return response.description;
}

/** Checks a request body against the operation's documented requestBody (for test inputs). */
export function validateRequestBody(method, pathTemplate, body, contentType = 'application/json') {
  const where = `${String(method).toUpperCase()} ${pathTemplate} request`;
  const op = document.paths?.[pathTemplate]?.[String(method).toLowerCase()];
  if (!op) fail(where, 'operation not documented', body);
  if (!op.requestBody) {
    if (body !== undefined) fail(where, 'the operation documents no request body', body);
    return;
  }
  const rb = deref(op.requestBody);
  if (body === undefined) {
    if (rb.required) fail(where, 'the request body is required', body);
    return;
  }
  const media = rb.content?.[contentType];
  if (!media) fail(where, `content type ${contentType} not documented`, body);
  const validate = validatorFor(`${pathTemplate} ${method} request ${contentType}`, media.schema);
  if (!validate(body)) fail(where, `schema mismatch: ${ajvErrors(validate.errors)}`, body);
}

// ---------------------------------------------------------------------------------------------
// Self-checks against the Rust sources.

/**
 * The routes `resolve` in src/api/routes.rs knows: each match arm's slice pattern (string
 * literals are fixed segments, identifiers are parameters) with the methods of its `only("…")`
 * calls. An arm whose last segment is matched again (`match *action { "commit" => only("POST", …) }`)
 * contributes one route per inner arm. An arm that hands the rest of the path to
 * `catalog_routes::resolve` contributes that function's arms (src/api/catalog_routes.rs: segments
 * after `/v1/`, methods listed with `only("…", …)` too). An arm that looks its last segment up in
 * the channel registry (`by_webhook_route`) contributes one `POST` per registered webhook route
 * (src/channels/registry.rs: `route: "…"`), and a `GET` for those verified with eBay's keys
 * (the endpoint challenge).
 */
export function routerRoutes(source = readFileSync(`${ROOT}src/api/routes.rs`, 'utf8'), prefix = []) {
  const start = source.indexOf('pub fn resolve(');
  if (start < 0) throw new Error('src/api/routes.rs: no `pub fn resolve(`');
  const end = source.indexOf('#[cfg(test)]', start);
  const fn = source.slice(start, end < 0 ? undefined : end);
  const armRe = /^\s*\[([^\]]*)\]\s*=>/gm;
  const arms = [];
  let a;
  while ((a = armRe.exec(fn))) arms.push({ pattern: a[1], at: a.index, bodyStart: armRe.lastIndex });
  const routes = [];
  arms.forEach((arm, i) => {
    const text = fn.slice(arm.bodyStart, i + 1 < arms.length ? arms[i + 1].at : undefined);
    if (/by_webhook_route\(/.test(text)) {
      const registry = readFileSync(`${ROOT}src/channels/registry.rs`, 'utf8');
      const base = arm.pattern.split(',').map((s) => s.trim()).slice(0, -1).map((s) => s.replace(/"/g, ''));
      for (const [, route, verify] of registry.matchAll(/route:\s*"([^"]+)"[\s\S]*?verify:\s*WebhookVerify::(\w+)/g)) {
        routes.push({ method: 'POST', path: `/${[...base, route].join('/')}` });
        if (verify === 'EbayKeys') routes.push({ method: 'GET', path: `/${[...base, route].join('/')}` });
      }
      return;
    }
    if (/erp_routes::resolve\(/.test(text)) {
      routes.push(...routerRoutes(readFileSync(`${ROOT}src/api/erp_routes.rs`, 'utf8'), [{ lit: 'v1' }, { lit: 'erp' }]));
      return;
    }
    if (/catalog_routes::resolve\(/.test(text)) {
      routes.push(...routerRoutes(readFileSync(`${ROOT}src/api/catalog_routes.rs`, 'utf8'), [{ lit: 'v1' }]));
      return;
    }
    const segs = arm.pattern.split(',').map((s) => s.trim()).filter(Boolean).map((s) => {
      const lit = /^"(.*)"$/.exec(s);
      return lit ? { lit: lit[1] } : { param: s };
    });
    const toPath = (ss) => `/${[...prefix, ...ss].map((s) => (s.lit !== undefined ? s.lit : `{${s.param}}`)).join('/')}`;
    // `"lit" => only("M", …)`, also with a guard: `"lit" if m == "GET" => only("GET", …)`.
    const inner = [...text.matchAll(/"([^"]+)"(?:\s+if\s[^\n]*?)?\s*=>\s*only\(\s*"([A-Z]+)"/g)];
    const last = segs[segs.length - 1];
    if (inner.length && last?.param && new RegExp(`match\\s+\\*?${last.param}\\b`).test(text)) {
      for (const [, lit, method] of inner) routes.push({ method, path: toPath([...segs.slice(0, -1), { lit }]) });
    } else {
      const methods = [...new Set([...text.matchAll(/only\(\s*"([A-Z]+)"/g)].map((x) => x[1]))];
      if (!methods.length) throw new Error(`src/api/routes.rs: arm [${arm.pattern}] has no only("METHOD")`);
      for (const method of methods) routes.push({ method, path: toPath(segs) });
    }
  });
  if (!routes.length) throw new Error(`${prefix.length ? 'src/api/catalog_routes.rs' : 'src/api/routes.rs'}: no routes found`);
  return routes;
}

const normalise = (p) => p.replace(/\{[^}]+\}/g, '{}');

/** Routes in the router but not the document, and documented operations the router lacks. */
export function routerCoverage() {
  const documented = operations().map((o) => `${o.method} ${normalise(o.path)}`);
  const routed = routerRoutes().map((r) => `${r.method} ${normalise(r.path)}`);
  return {
    missingFromDocument: routerRoutes().filter((r) => !documented.includes(`${r.method} ${normalise(r.path)}`)),
    missingFromRouter: operations().filter((o) => !routed.includes(`${o.method} ${normalise(o.path)}`)),
  };
}

/** Throws unless the router and the document list the same (method, path) pairs. */
export function assertRouterCoverage() {
  const { missingFromDocument, missingFromRouter } = routerCoverage();
  const lines = [
    ...missingFromDocument.map((r) => `router has ${r.method} ${r.path}, openapi.json does not`),
    ...missingFromRouter.map((o) => `openapi.json has ${o.method} ${o.path}, the router does not`),
  ];
  if (lines.length) throw new Error(lines.join('\n'));
}

/** The problem kinds of src/api/problem.rs: [{ slug, status, title }]. */
export function problemKinds(source = readFileSync(`${ROOT}src/api/problem.rs`, 'utf8')) {
  const re = /Kind::\w+\s*=>\s*\(\s*"([a-z-]+)"\s*,\s*(\d{3})\s*,\s*"((?:[^"\\]|\\.)*)"/g;
  return [...source.matchAll(re)].map(([, slug, status, title]) => ({ slug, status: Number(status), title }));
}

/** Differences between problem.rs and the document's `<Name>Problem` schemas and ProblemType. */
export function problemKindDrift() {
  const schemas = document.components.schemas;
  const enumTypes = new Set(schemas.ProblemType?.enum ?? []);
  const variants = new Map();
  for (const s of Object.values(schemas)) {
    const t = s?.properties?.type?.const;
    if (typeof t === 'string' && t.startsWith('/problems/')) variants.set(t, s);
  }
  const slugEnum = new Set(document.paths['/problems/{slug}']?.get?.parameters?.find((p) => p.name === 'slug')?.schema?.enum ?? []);
  const out = [];
  const kinds = problemKinds();
  if (!kinds.length) out.push('no Kind found in src/api/problem.rs');
  for (const k of kinds) {
    const uri = `/problems/${k.slug}`;
    if (!enumTypes.has(uri)) out.push(`ProblemType lacks ${uri}`);
    if (!slugEnum.has(k.slug)) out.push(`/problems/{slug} lacks ${k.slug}`);
    const v = variants.get(uri);
    if (!v) out.push(`no problem schema for ${uri}`);
    else {
      if (v.properties.status?.const !== k.status) out.push(`${uri}: status ${v.properties.status?.const} in openapi.json, ${k.status} in problem.rs`);
      if (v.properties.title?.const !== k.title) out.push(`${uri}: title ${JSON.stringify(v.properties.title?.const)} in openapi.json, ${JSON.stringify(k.title)} in problem.rs`);
    }
  }
  for (const uri of enumTypes) if (!kinds.some((k) => `/problems/${k.slug}` === uri)) out.push(`ProblemType has ${uri}, problem.rs does not`);
  return out;
}
