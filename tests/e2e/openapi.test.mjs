// openapi.json against the running Worker: every route through its success path and its
// documented error answers, every response validated with validateResponse.
//
// Self-contained harness: runs `wrangler dev --local` from the repository on a free loopback port
// with a fresh persistence directory (STOCKEDGE_SKIP_BUILD=1; build/worker/shim.mjs is built
// first only when missing), waits for /healthz, and stops the process group at the end.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import crypto from 'node:crypto';

import { startEbaySim, notificationPayload, signNotification } from '../sim/ebay.mjs';
import { sendWebhook as sendWooWebhook } from '../sim/woocommerce.mjs';
import { build850 } from '../sim/wholesale.mjs';
import { exchange } from './lib/exchange.mjs';
import {
  assertRouterCoverage,
  document,
  documentText,
  matchPath,
  operations,
  problemKindDrift,
  validateRequestBody,
  validateResponse,
} from './lib/openapi.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const ADMIN = 'dev-admin';
const STOREFRONT = 'dev-storefront';
const START_TIMEOUT_MS = 120_000;

// ---------------------------------------------------------------------------------------------
// Harness

let child;
let base;
let stateDir;
let output = '';

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitHealthy() {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`wrangler exited (${child.exitCode ?? child.signalCode}) before /healthz answered:\n${output.slice(-4000)}`);
    }
    try {
      const r = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(2000) });
      await r.arrayBuffer();
      if (r.status === 200) return;
    } catch {
      // not up yet
    }
    await sleep(250);
  }
  throw new Error(`/healthz did not answer within ${START_TIMEOUT_MS / 1000} s:\n${output.slice(-4000)}`);
}

async function stop() {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    return;
  }
  const done = await Promise.race([exited.then(() => true), sleep(5000).then(() => false)]);
  if (!done) {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
    await Promise.race([exited, sleep(2000)]);
  }
}

before(async () => {
  if (!fs.existsSync(path.join(ROOT, 'build/worker/shim.mjs'))) {
    const b = spawnSync('bash', ['scripts/build-worker.sh'], { cwd: ROOT, stdio: 'inherit' });
    assert.equal(b.status, 0, 'scripts/build-worker.sh failed');
  }
  const port = await freePort();
  stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'stockedge-openapi-'));
  // The catalogue's D1 schema (migrations/) in the fresh local state.
  const m = spawnSync(path.join(ROOT, 'node_modules/.bin/wrangler'), ['d1', 'migrations', 'apply', 'stockedge-catalog', '--local', '--persist-to', stateDir], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, CI: '1', WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false' },
  });
  assert.equal(m.status, 0, `wrangler d1 migrations apply failed:\n${m.stdout}\n${m.stderr}`);
  base = `http://127.0.0.1:${port}`;
  child = spawn(
    path.join(ROOT, 'node_modules/.bin/wrangler'),
    ['dev', '--local', '--ip', '127.0.0.1', '--port', String(port), '--show-interactive-dev-session=false', '--persist-to', stateDir],
    {
      cwd: ROOT,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false', STOCKEDGE_SKIP_BUILD: '1' },
    },
  );
  const keep = (d) => {
    output += d.toString();
    if (output.length > 200_000) output = output.slice(-100_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  await waitHealthy();
});

after(async () => {
  await stop();
  if (stateDir) fs.rmSync(stateDir, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------
// Requests: every answer is validated against openapi.json before a test looks at it.

/** (METHOD template) → set of statuses seen, for the coverage test at the end. */
const seen = new Map();

/**
 * Sends a request and validates the answer. `template` defaults to the documented path the URL
 * matches (null when none: then only the document's 404 fallback applies).
 */
async function call(method, url, { token, body, raw, headers = {}, template } = {}) {
  const h = { ...headers };
  if (token) h.authorization = `Bearer ${token}`;
  let payload;
  if (raw !== undefined) {
    payload = raw;
    h['content-type'] ??= 'application/json';
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    h['content-type'] = 'application/json';
  }
  const { res, text } = await exchange(base + url, { method, headers: h, body: payload });
  const contentType = res.headers.get('content-type');
  let json;
  if (/json/.test(contentType ?? '')) {
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new Error(`${method} ${url} → ${res.status}: body is not JSON (${e.message}): ${text.slice(0, 300)}`);
    }
  }
  const tpl = template === undefined ? matchPath(url) : template;
  validateResponse(method, tpl, res.status, contentType, json ?? text, res.headers);
  const key = `${method} ${tpl}`;
  if (!seen.has(key)) seen.set(key, new Set());
  seen.get(key).add(res.status);
  return { status: res.status, headers: res.headers, contentType, text, json };
}

/** Validates a request body we mean to be valid against the document, then sends it. */
async function send(method, url, opts) {
  validateRequestBody(method, matchPath(url), opts.body);
  return call(method, url, opts);
}

function expectStatus(r, status, what = '') {
  assert.equal(r.status, status, `${what} expected ${status}, got ${r.status}: ${r.text.slice(0, 500)}`);
}

function expectProblem(r, status, slug, what = '') {
  expectStatus(r, status, what);
  assert.equal(r.json.type, `/problems/${slug}`, `${what} problem type: ${r.text.slice(0, 500)}`);
  return r.json;
}

const fieldsOf = (p) => (p.errors ?? []).map((e) => e.field);
const RUN = `r${Date.now().toString(36)}`;
const sku = (name) => `${RUN}-${name}`;
const enc = encodeURIComponent;

// ---------------------------------------------------------------------------------------------

describe('the document', () => {
  test('is OpenAPI 3.1 with the local server and bearer auth', () => {
    assert.equal(document.openapi, '3.1.0');
    assert.deepEqual(document.servers, [{ url: 'http://127.0.0.1:8787', description: document.servers[0].description }]);
    assert.deepEqual(document.components.securitySchemes.bearerAuth, { ...document.components.securitySchemes.bearerAuth, type: 'http', scheme: 'bearer' });
    for (const name of ['Problem', 'SkuState', 'AvailabilityItem', 'Reservation', 'JournalPage', 'SaleResult']) {
      assert.ok(document.components.schemas[name], `components.schemas.${name}`);
    }
  });

  test('lists every route of src/api/routes.rs, and no other', () => {
    assertRouterCoverage();
  });

  test('knows every problem type of src/api/problem.rs, with its status and title', () => {
    assert.deepEqual(problemKindDrift(), []);
  });

  test('documents 401 on every authenticated operation and 403 on every admin one', () => {
    for (const { method, path: p } of operations()) {
      const op = document.paths[p][method.toLowerCase()];
      const publicOp = Array.isArray(op.security) && op.security.length === 0;
      if (!publicOp) assert.ok(op.responses['401'], `${method} ${p} lacks 401`);
      if (/Role: admin/.test(op.description ?? '')) assert.ok(op.responses['403'], `${method} ${p} lacks 403`);
    }
  });
});

describe('public routes', () => {
  test('GET /healthz', async () => {
    const r = await call('GET', '/healthz');
    expectStatus(r, 200);
  });

  test('GET /v1/openapi.json serves the file on disk', async () => {
    const r = await call('GET', '/v1/openapi.json');
    expectStatus(r, 200);
    assert.ok(r.text === documentText, 'the served document differs from openapi.json on disk (rebuild the Worker: bash scripts/build-worker.sh)');
  });

  test('GET /problems/{slug}', async () => {
    const r = await call('GET', '/problems/insufficient-stock');
    expectStatus(r, 200);
    assert.match(r.text, /Insufficient stock/);
    expectProblem(await call('GET', '/problems/no-such-problem'), 404, 'not-found');
  });

  test('an unknown path answers 404 not-found', async () => {
    expectProblem(await call('GET', '/nope', { token: ADMIN }), 404, 'not-found');
    expectProblem(await call('POST', '/v1/reservations/x/bogus', { token: ADMIN, template: null }), 404, 'not-found');
  });

  test('a known path with another method answers 405 with Allow', async () => {
    const r = await call('DELETE', '/v1/reservations', { token: STOREFRONT });
    expectProblem(r, 405, 'method-not-allowed');
    assert.equal(r.headers.get('allow'), 'POST');
    const h = await call('POST', '/healthz');
    expectProblem(h, 405, 'method-not-allowed');
    assert.equal(h.headers.get('allow'), 'GET');
    expectProblem(await call('GET', `/v1/skus/${sku('X')}/stock`, { token: ADMIN }), 405, 'method-not-allowed');
  });
});

/** The webhook ERP connection signed snapshots are sent to (.dev.vars SIM_ERP_WEBHOOK_SECRET). */
const HOOK_CONNECTION = `${RUN}-hook`.toLowerCase();
const HOOK_LOCATION = `${RUN}-hook-wh`.toLowerCase();
const HOOK_SECRET = 'erp-webhook-secret';

/** An operation guarded only by a signature scheme (no role's token): it checks its own signature. */
const signatureOnly = (op) =>
  Array.isArray(op.security) && op.security.length > 0
  && op.security.every((req) => Object.keys(req).every((k) => document.components.securitySchemes[k]?.type === 'apiKey'));

/** The webhook ERP's headers for `text`: StockEdge's own signature scheme (docs/erp.md). */
function erpSigned(text, secret = HOOK_SECRET, at = Math.floor(Date.now() / 1000)) {
  const signature = `sha256=${crypto.createHmac('sha256', secret).update(`${at}.`).update(text).digest('hex')}`;
  return { 'content-type': 'application/json', 'x-stockedge-timestamp': String(at), 'x-stockedge-signature': signature };
}

async function createHookConnection() {
  const path = `/v1/erp/connections/${enc(HOOK_CONNECTION)}`;
  const body = { kind: 'webhook', base_url: 'http://127.0.0.1:9/erp', credentials_secret: 'SIM_ERP_WEBHOOK_SECRET' };
  expectStatus(await call('PUT', path, { token: ADMIN, body }), 200);
  expectStatus(await call('PUT', `${path}/mappings`, { token: ADMIN, body: { warehouses: { WH: HOOK_LOCATION } } }), 200);
}

/** A concrete request for every documented operation (paths with harmless sample values). */
const SAMPLE = {
  'GET /v1/availability': ['/v1/availability?sku=A'],
  'GET /v1/skus/{sku}': ['/v1/skus/A'],
  'PUT /v1/skus/{sku}/stock': ['/v1/skus/A/stock', { on_hand: 1 }],
  'POST /v1/skus/{sku}/adjustments': ['/v1/skus/A/adjustments', { delta: 1, reason: 'received' }],
  'GET /v1/skus/{sku}/journal': ['/v1/skus/A/journal'],
  'PUT /v1/skus/{sku}/policy': ['/v1/skus/A/policy', { hot: false }],
  'GET /v1/skus/{sku}/policy': ['/v1/skus/A/policy'],
  'POST /v1/reservations': ['/v1/reservations', { lines: [{ sku: 'A', qty: 1 }] }],
  'GET /v1/reservations/{id}': ['/v1/reservations/res_x'],
  'POST /v1/reservations/{id}/commit': ['/v1/reservations/res_x/commit', {}],
  'POST /v1/reservations/{id}/release': ['/v1/reservations/res_x/release'],
  'POST /v1/reservations/{id}/extend': ['/v1/reservations/res_x/extend', { ttl_seconds: 60 }],
  'POST /v1/sales': ['/v1/sales', { channel: 'ebay', order_id: 'o-1', lines: [{ sku: 'A', qty: 1 }] }],
  'POST /v1/sales/{channel}/{order_id}/cancel': ['/v1/sales/ebay/o-1/cancel'],
  'POST /v1/fulfilments': ['/v1/fulfilments', { order_id: 'o-1', lines: [{ sku: 'A', qty: 1 }] }],
  'GET /v1/products': ['/v1/products'],
  'GET /v1/products/{sku}': ['/v1/products/A'],
  'PUT /v1/products/{sku}': ['/v1/products/A', { title: 'A' }],
  'DELETE /v1/products/{sku}': ['/v1/products/A'],
  'GET /v1/locations': ['/v1/locations'],
  'GET /v1/locations/{location}': ['/v1/locations/main'],
  'PUT /v1/locations/{location}': ['/v1/locations/main', { name: 'Main' }],
  'DELETE /v1/locations/{location}': ['/v1/locations/main'],
  'GET /v1/channels': ['/v1/channels'],
  'GET /v1/channels/{channel}': ['/v1/channels/ebay'],
  'PUT /v1/channels/{channel}': ['/v1/channels/ebay', { kind: 'ebay', account: 'me' }],
  'DELETE /v1/channels/{channel}': ['/v1/channels/ebay'],
  'GET /v1/channels/{channel}/listings': ['/v1/channels/ebay/listings'],
  'GET /v1/channels/{channel}/listings/{sku}': ['/v1/channels/ebay/listings/A'],
  'PUT /v1/channels/{channel}/listings/{sku}': ['/v1/channels/ebay/listings/A', { external: { sku: 'A' } }],
  'DELETE /v1/channels/{channel}/listings/{sku}': ['/v1/channels/ebay/listings/A'],
  'GET /v1/channels/{channel}/listings/{sku}/advice': ['/v1/channels/ebay/listings/A/advice'],
  'POST /v1/imports': ['/v1/imports?format=csv&dry_run=true', 'sku,quantity\nA,1\n'],
  'GET /v1/imports/{id}': ['/v1/imports/imp_0000000000000000'],
  'GET /v1/exports': ['/v1/exports?format=csv'],
  // Saved column mappings.
  'GET /v1/import-mappings': ['/v1/import-mappings'],
  'GET /v1/import-mappings/{name}': ['/v1/import-mappings/erp'],
  'PUT /v1/import-mappings/{name}': ['/v1/import-mappings/erp', { columns: { sku: 'Item No.', quantity: 'Qty' } }],
  'DELETE /v1/import-mappings/{name}': ['/v1/import-mappings/erp'],
  'GET /v1/sync/status': ['/v1/sync/status'],
  'GET /v1/sync/failures': ['/v1/sync/failures'],
  'POST /v1/sync/failures/{id}/retry': ['/v1/sync/failures/999999/retry'],
  'GET /v1/inbound/unmatched': ['/v1/inbound/unmatched'],
  'GET /v1/inbound/drift': ['/v1/inbound/drift'],
  'GET /v1/inbound/polls': ['/v1/inbound/polls'],
  'POST /v1/inbound/polls/run': ['/v1/inbound/polls/run?channel=nothing-here'],
  'GET /v1/alerts': ['/v1/alerts'],
  'POST /v1/alerts/{id}/acknowledge': ['/v1/alerts/999999/acknowledge'],
  'GET /v1/alert-destinations': ['/v1/alert-destinations'],
  'PUT /v1/alert-destinations/{id}': ['/v1/alert-destinations/openapi-sample', { format: 'webhook', url: 'https://example.com/hook' }],
  'DELETE /v1/alert-destinations/{id}': ['/v1/alert-destinations/openapi-sample'],
  'PUT /v1/skus/{sku}/alerting': ['/v1/skus/A/alerting', { low_stock_below: null }],
  'GET /v1/metrics': ['/v1/metrics'],
  'GET /v1/reconciliation': ['/v1/reconciliation'],
  'POST /v1/reconciliation/run': ['/v1/reconciliation/run?channel=nothing-here'],
  'POST /v1/reconciliation/repair': ['/v1/reconciliation/repair?channel=nothing-here'],
  'GET /v1/erp/connections': ['/v1/erp/connections'],
  'GET /v1/erp/connections/{id}': ['/v1/erp/connections/sap'],
  'PUT /v1/erp/connections/{id}': ['/v1/erp/connections/sap', { kind: 'sap_b1', base_url: 'https://b1.example', settings: { card_code: 'C1' } }],
  'DELETE /v1/erp/connections/{id}': ['/v1/erp/connections/sap'],
  'GET /v1/erp/connections/{id}/mappings': ['/v1/erp/connections/sap/mappings'],
  'PUT /v1/erp/connections/{id}/mappings': ['/v1/erp/connections/sap/mappings', { items: { A: 'A' } }],
  'GET /v1/erp/unmapped': ['/v1/erp/unmapped'],
  'GET /v1/erp/polls': ['/v1/erp/polls'],
  'GET /v1/erp/adjustment-requests': ['/v1/erp/adjustment-requests'],
  'POST /v1/erp/polls/run': ['/v1/erp/polls/run?connection=nothing-here'],
  'POST /v1/erp/snapshots': ['/v1/erp/snapshots', { snapshot: 's', basis: 'available', as_of: { sequence: 1 }, lines: [{ sku: 'A', quantity: 1 }] }],
  // Signed by the webhook ERP (the `auth` tests create the connection, HOOK_CONNECTION).
  'POST /v1/erp/connections/{id}/snapshots': [`/v1/erp/connections/${HOOK_CONNECTION}/snapshots`, { snapshot: 's', basis: 'available', as_of: { sequence: 1 }, lines: [{ sku: 'A', quantity: 1, location: HOOK_LOCATION }] }],
  'GET /v1/overview': ['/v1/overview'],
  'GET /v1/skus/{sku}/listings': ['/v1/skus/A/listings'],
  'POST /v1/inbound/unmatched/{id}/map': ['/v1/inbound/unmatched/999999/map', { sku: 'A' }],
  'POST /v1/sync/failures/retry': ['/v1/sync/failures/retry?channel=nothing-here'],
  'POST /v1/listings/preview': ['/v1/listings/preview', { channel: 'nothing-here', rule: {} }],
};

describe('auth', () => {
  before(createHookConnection);

  test('every authenticated operation answers 401 without a token and with a wrong one', async () => {
    for (const { method, path: p } of operations()) {
      const op = document.paths[p][method.toLowerCase()];
      if (Array.isArray(op.security) && op.security.length === 0) continue;
      const sample = SAMPLE[`${method} ${p}`];
      assert.ok(sample, `no sample request for ${method} ${p}`);
      const [url, body] = sample;
      if (signatureOnly(op)) {
        // No signature, a forged one, and a bearer token instead of one: each is 401.
        const text = JSON.stringify(body);
        expectProblem(await call(method, url, { raw: text }), 401, 'unauthorized', `${method} ${url} unsigned:`);
        expectProblem(await call(method, url, { raw: text, headers: erpSigned(text, 'forged') }), 401, 'unauthorized', `${method} ${url} forged:`);
        expectProblem(await call(method, url, { raw: text, token: ADMIN }), 401, 'unauthorized', `${method} ${url} admin token:`);
        continue;
      }
      const none = await call(method, url, { body });
      expectProblem(none, 401, 'unauthorized', `${method} ${url} without token:`);
      assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer/);
      expectProblem(await call(method, url, { body, token: 'not-a-token' }), 401, 'unauthorized', `${method} ${url} wrong token:`);
      expectProblem(await call(method, url, { body, headers: { authorization: `Basic ${ADMIN}` } }), 401, 'unauthorized', `${method} ${url} Basic:`);
    }
  });

  test('the storefront token answers 403 on every admin operation', async () => {
    for (const { method, path: p } of operations()) {
      const op = document.paths[p][method.toLowerCase()];
      if (!/Role: admin/.test(op.description ?? '')) continue;
      const [url, body] = SAMPLE[`${method} ${p}`];
      expectProblem(await call(method, url, { body, token: STOREFRONT }), 403, 'forbidden', `${method} ${url} storefront:`);
    }
  });
});

describe('stock', () => {
  const A = sku('TEE-1');
  const SLASHED = sku('TSHIRT-RED/M_1.0');

  test('PUT /v1/skus/{sku}/stock: applied, then duplicate', async () => {
    const r = await send('PUT', `/v1/skus/${enc(A)}/stock`, { token: ADMIN, body: { on_hand: 5 } });
    expectStatus(r, 200);
    assert.equal(r.json.effect, 'applied');
    assert.equal(r.json.available, 5);
    const again = await send('PUT', `/v1/skus/${enc(A)}/stock`, { token: ADMIN, body: { on_hand: 5 } });
    expectStatus(again, 200);
    assert.equal(again.json.effect, 'duplicate');
    assert.equal(again.json.version, r.json.version);
    const east = await send('PUT', `/v1/skus/${enc(A)}/stock`, {
      token: ADMIN,
      body: { on_hand: 2, location: 'east', reason: 'cycle_count', expected_version: again.json.version, backorder_limit: 1 },
    });
    expectStatus(east, 200);
    assert.equal(east.json.locations.length, 2);
    assert.equal(east.json.backorder_limit, 1);
  });

  test('PUT /v1/skus/{sku}/policy: hot, then ordinary', async () => {
    const P = sku('HOT-1');
    const on = await send('PUT', `/v1/skus/${enc(P)}/policy`, {
      token: ADMIN,
      body: { hot: true, allotments: 4, block: 10, lease_seconds: 60 },
    });
    expectStatus(on, 200);
    assert.equal(on.json.hot, true);
    assert.equal(on.json.source, 'operator');
    const seen = await call('GET', `/v1/skus/${enc(P)}/policy`, { token: ADMIN });
    expectStatus(seen, 200);
    assert.deepEqual(seen.json, on.json);
    const off = await send('PUT', `/v1/skus/${enc(P)}/policy`, { token: ADMIN, body: { hot: false } });
    expectStatus(off, 200);
    assert.equal(off.json.hot, false);
  });

  test('a SKU with / is sent percent-encoded', async () => {
    expectStatus(await send('PUT', `/v1/skus/${enc(SLASHED)}/stock`, { token: ADMIN, body: { on_hand: 1 } }), 200);
    const r = await call('GET', `/v1/skus/${enc(SLASHED)}`, { token: ADMIN });
    expectStatus(r, 200);
    assert.equal(r.json.sku, SLASHED);
  });

  test('PUT stock: stale expected_version → 409 version-conflict', async () => {
    const p = expectProblem(await send('PUT', `/v1/skus/${enc(A)}/stock`, { token: ADMIN, body: { on_hand: 9, expected_version: 1 } }), 409, 'version-conflict');
    assert.ok(p.current_version > 1);
  });

  test('PUT stock: bad fields → 422 naming each, bad JSON → 400, big body → 413', async () => {
    const p = expectProblem(
      await call('PUT', `/v1/skus/${enc(A)}/stock`, { token: ADMIN, body: { on_hand: -1, location: 'Main', reason: 'x'.repeat(501), backorder_limit: 2_000_000 } }),
      422,
      'validation-failed',
    );
    assert.deepEqual(fieldsOf(p), ['on_hand', 'location', 'reason', 'backorder_limit']);
    expectProblem(await call('PUT', `/v1/skus/${enc(A)}/stock`, { token: ADMIN, body: {} }), 422, 'validation-failed');
    expectProblem(await call('PUT', `/v1/skus/${enc(A)}/stock`, { token: ADMIN, raw: '{on_hand: 1' }), 400, 'invalid-json');
    expectProblem(await call('PUT', `/v1/skus/${enc(A)}/stock`, { token: ADMIN, raw: '[1]' }), 400, 'invalid-json');
    const big = JSON.stringify({ on_hand: 1, reason: 'x'.repeat(300 * 1024) });
    expectProblem(await call('PUT', `/v1/skus/${enc(A)}/stock`, { token: ADMIN, raw: big }), 413, 'payload-too-large');
  });

  test('PUT stock: Idempotency-Key replays, refuses reuse, and is bounded', async () => {
    const url = `/v1/skus/${enc(sku('IDEM'))}/stock`;
    const key = { 'Idempotency-Key': `${RUN}-k1` };
    const first = await send('PUT', url, { token: ADMIN, body: { on_hand: 3 }, headers: key });
    expectStatus(first, 200);
    const replay = await send('PUT', url, { token: ADMIN, body: { on_hand: 3 }, headers: key });
    expectStatus(replay, 200);
    assert.deepEqual(replay.json, first.json);
    expectProblem(await call('PUT', url, { token: ADMIN, body: { on_hand: 4 }, headers: key }), 422, 'idempotency-key-reused');
    const long = expectProblem(await call('PUT', url, { token: ADMIN, body: { on_hand: 4 }, headers: { 'Idempotency-Key': 'k'.repeat(256) } }), 422, 'validation-failed');
    assert.deepEqual(fieldsOf(long), ['Idempotency-Key']);
  });

  test('POST /v1/skus/{sku}/adjustments', async () => {
    const url = `/v1/skus/${enc(A)}/adjustments`;
    const r = await send('POST', url, { token: ADMIN, body: { delta: 3, reason: 'received' } });
    expectStatus(r, 200);
    assert.equal(r.json.effect, 'applied');
    expectProblem(await send('POST', url, { token: ADMIN, body: { delta: -1000, reason: 'damaged' } }), 409, 'negative-on-hand');
    const p = expectProblem(await call('POST', url, { token: ADMIN, body: { delta: 0, reason: 'lost' } }), 422, 'validation-failed');
    assert.deepEqual(fieldsOf(p), ['delta', 'reason']);
    expectProblem(await call('POST', url, { token: ADMIN, raw: 'nope' }), 400, 'invalid-json');
    const keyed = { 'Idempotency-Key': `${RUN}-adj` };
    expectStatus(await send('POST', url, { token: ADMIN, body: { delta: 1, reason: 'restock' }, headers: keyed }), 200);
    expectProblem(await call('POST', url, { token: ADMIN, body: { delta: 2, reason: 'restock' }, headers: keyed }), 422, 'idempotency-key-reused');
  });

  test('GET /v1/skus/{sku}: 200, 404 sku-not-found, 422 bad SKU', async () => {
    const r = await call('GET', `/v1/skus/${enc(A)}`, { token: ADMIN });
    expectStatus(r, 200);
    assert.equal(r.json.sku, A);
    expectProblem(await call('GET', `/v1/skus/${enc(sku('NEVER'))}`, { token: ADMIN }), 404, 'sku-not-found');
    const p = expectProblem(await call('GET', '/v1/skus/bad%20sku', { token: ADMIN }), 422, 'validation-failed');
    assert.deepEqual(fieldsOf(p), ['sku']);
    expectProblem(await call('GET', `/v1/skus/${'x'.repeat(65)}`, { token: ADMIN }), 422, 'validation-failed');
  });

  test('GET /v1/skus/{sku}/journal: pages with next, bounds on after and limit', async () => {
    const url = `/v1/skus/${enc(A)}/journal`;
    const all = await call('GET', url, { token: ADMIN });
    expectStatus(all, 200);
    assert.ok(all.json.entries.length >= 3);
    assert.equal(all.json.next, undefined);
    const ops = new Set(all.json.entries.map((e) => e.op));
    assert.ok(ops.has('set') && ops.has('adjust') && ops.has('policy'), [...ops].join(','));
    const page = await call('GET', `${url}?limit=1`, { token: ADMIN });
    expectStatus(page, 200);
    assert.equal(page.json.entries.length, 1);
    assert.equal(page.json.next, page.json.entries[0].seq);
    const next = await call('GET', `${url}?after=${page.json.next}&limit=1000`, { token: ADMIN });
    expectStatus(next, 200);
    assert.equal(next.json.entries[0].seq, page.json.next + 1);
    expectStatus(await call('GET', `/v1/skus/${enc(sku('EMPTY'))}/journal`, { token: ADMIN }), 200);
    const p = expectProblem(await call('GET', `${url}?after=-1&limit=0`, { token: ADMIN }), 422, 'validation-failed');
    assert.deepEqual(fieldsOf(p), ['after', 'limit']);
    expectProblem(await call('GET', `${url}?limit=1001`, { token: ADMIN }), 422, 'validation-failed');
  });

  test('GET /v1/availability: query order, unknown SKUs read 0, 1..100 SKUs', async () => {
    const unknown = sku('UNKNOWN');
    const r = await call('GET', `/v1/availability?sku=${enc(unknown)}&sku=${enc(A)}&sku=${enc(A)}`, { token: STOREFRONT });
    expectStatus(r, 200);
    assert.deepEqual(r.json.items.map((i) => i.sku), [unknown, A]);
    assert.deepEqual(r.json.items[0], { sku: unknown, available: 0, sellable: 0, version: 0 });
    assert.ok(r.json.items[1].sellable >= r.json.items[1].available);
    expectStatus(await call('GET', `/v1/availability?sku=${enc(A)}`, { token: ADMIN }), 200);
    const hundred = Array.from({ length: 100 }, (_, i) => `sku=${RUN}-S${i}`).join('&');
    expectStatus(await call('GET', `/v1/availability?${hundred}`, { token: STOREFRONT }), 200);
    expectProblem(await call('GET', `/v1/availability?${hundred}&sku=${RUN}-S100`, { token: STOREFRONT }), 422, 'validation-failed');
    expectProblem(await call('GET', '/v1/availability', { token: STOREFRONT }), 422, 'validation-failed');
    expectProblem(await call('GET', '/v1/availability?sku=bad%20sku', { token: STOREFRONT }), 422, 'validation-failed');
    const c = expectProblem(await call('GET', `/v1/availability?sku=${enc(A)}&channel=bad%20channel`, { token: STOREFRONT }), 422, 'validation-failed');
    assert.deepEqual(fieldsOf(c), ['channel']);
  });
});

describe('reservations', () => {
  const B = sku('MUG-1');
  const C = sku('CAP-1');

  before(async () => {
    expectStatus(await send('PUT', `/v1/skus/${enc(B)}/stock`, { token: ADMIN, body: { on_hand: 10 } }), 200);
    expectStatus(await send('PUT', `/v1/skus/${enc(C)}/stock`, { token: ADMIN, body: { on_hand: 10 } }), 200);
  });

  test('create 201, replay the same 201 flagged Idempotent-Replayed, same id other lines 409, merged lines', async () => {
    const id = `${RUN}-cart-1`;
    const body = { id, lines: [{ sku: B, qty: 1 }, { sku: C, qty: 2, location: 'main' }, { sku: B, qty: 1 }], ttl_seconds: 600, channel: 'web', reference: 'checkout 1' };
    const r = await send('POST', '/v1/reservations', { token: STOREFRONT, body });
    expectStatus(r, 201);
    assert.equal(r.json.status, 'held');
    assert.equal(r.json.id, id);
    assert.deepEqual(r.json.lines.find((l) => l.sku === B), { sku: B, qty: 2, location: 'main' });
    const replay = await send('POST', '/v1/reservations', { token: STOREFRONT, body });
    expectStatus(replay, 201);
    assert.equal(replay.text, r.text, 'the first answer, byte for byte');
    assert.equal(replay.headers.get('idempotent-replayed'), 'true');
    expectProblem(await send('POST', '/v1/reservations', { token: STOREFRONT, body: { id, lines: [{ sku: B, qty: 3 }] } }), 409, 'reservation-conflict');
    const got = await call('GET', `/v1/reservations/${enc(id)}`, { token: STOREFRONT });
    expectStatus(got, 200);
    assert.equal(got.json.status, 'held');
    assert.equal(got.json.channel, 'web');
  });

  test('create with Idempotency-Key: replay, and 422 for another body', async () => {
    const key = { 'Idempotency-Key': `${RUN}-cart-key` };
    const body = { lines: [{ sku: B, qty: 1 }] };
    const r = await send('POST', '/v1/reservations', { token: STOREFRONT, body, headers: key });
    expectStatus(r, 201);
    assert.match(r.json.id, /^rsk_[0-9a-f]{20}_/, 'a single-SKU reservation is kept by its ledger');
    const replay = await send('POST', '/v1/reservations', { token: STOREFRONT, body, headers: key });
    expectStatus(replay, 201);
    assert.equal(replay.json.id, r.json.id);
    expectProblem(await send('POST', '/v1/reservations', { token: STOREFRONT, body: { lines: [{ sku: B, qty: 2 }] }, headers: key }), 422, 'idempotency-key-reused');
    const release = await call('POST', `/v1/reservations/${enc(r.json.id)}/release`, { token: STOREFRONT });
    expectStatus(release, 200);
  });

  test('create: a short line → 409 insufficient-stock with lines, nothing held', async () => {
    const before = (await call('GET', `/v1/availability?sku=${enc(B)}&sku=${enc(C)}`, { token: STOREFRONT })).json.items;
    const p = expectProblem(
      await send('POST', '/v1/reservations', { token: STOREFRONT, body: { lines: [{ sku: B, qty: 1 }, { sku: C, qty: 1000 }] } }),
      409,
      'insufficient-stock',
    );
    assert.equal(p.status, 409);
    assert.deepEqual(p.lines.map((l) => [l.sku, l.location, l.requested]), [[C, 'main', 1000]]);
    const afterItems = (await call('GET', `/v1/availability?sku=${enc(B)}&sku=${enc(C)}`, { token: STOREFRONT })).json.items;
    const units = (items) => items.map(({ sku: s, available, sellable }) => ({ sku: s, available, sellable }));
    assert.deepEqual(units(afterItems), units(before));
  });

  test('create: 422 naming every faulty field, 400 invalid JSON', async () => {
    const p = expectProblem(
      await call('POST', '/v1/reservations', { token: STOREFRONT, body: { lines: [{ sku: 'bad sku', qty: 0 }, { qty: 1 }], ttl_seconds: 90000 } }),
      422,
      'validation-failed',
    );
    assert.deepEqual(fieldsOf(p), ['lines[0].sku', 'lines[0].qty', 'lines[1].sku', 'ttl_seconds']);
    const more = expectProblem(
      await call('POST', '/v1/reservations', { token: STOREFRONT, body: { id: 'has space', lines: [{ sku: B, qty: 1_000_001, location: 'East' }], ttl_seconds: 0, channel: '', reference: 'x'.repeat(501) } }),
      422,
      'validation-failed',
    );
    assert.deepEqual(fieldsOf(more), ['id', 'lines[0].qty', 'lines[0].location', 'ttl_seconds', 'channel', 'reference']);
    const lines101 = Array.from({ length: 101 }, (_, i) => ({ sku: `${RUN}-L${i}`, qty: 1 }));
    assert.deepEqual(fieldsOf(expectProblem(await call('POST', '/v1/reservations', { token: STOREFRONT, body: { lines: lines101 } }), 422, 'validation-failed')), ['lines']);
    assert.deepEqual(fieldsOf(expectProblem(await call('POST', '/v1/reservations', { token: STOREFRONT, body: { lines: [] } }), 422, 'validation-failed')), ['lines']);
    assert.deepEqual(fieldsOf(expectProblem(await call('POST', '/v1/reservations', { token: STOREFRONT, body: {} }), 422, 'validation-failed')), ['lines']);
    const merged = expectProblem(
      await call('POST', '/v1/reservations', { token: STOREFRONT, body: { lines: [{ sku: B, qty: 1_000_000 }, { sku: B, qty: 1 }] } }),
      422,
      'validation-failed',
    );
    assert.deepEqual(fieldsOf(merged), ['lines']);
    expectProblem(await call('POST', '/v1/reservations', { token: STOREFRONT, raw: '{"lines":' }), 400, 'invalid-json');
    expectProblem(await call('POST', '/v1/reservations', { token: STOREFRONT, raw: '"text"' }), 400, 'invalid-json');
    const key = expectProblem(
      await call('POST', '/v1/reservations', { token: STOREFRONT, body: { lines: [{ sku: B, qty: 1 }] }, headers: { 'Idempotency-Key': 'k'.repeat(256) } }),
      422,
      'validation-failed',
    );
    assert.deepEqual(fieldsOf(key), ['Idempotency-Key']);
  });

  test('every faulty field is named: Idempotency-Key together with body faults', async () => {
    const p = expectProblem(
      await call('POST', '/v1/reservations', { token: STOREFRONT, body: { lines: [{ sku: B, qty: 0 }] }, headers: { 'Idempotency-Key': 'k'.repeat(256) } }),
      422,
      'validation-failed',
    );
    assert.deepEqual(fieldsOf(p).sort(), ['Idempotency-Key', 'lines[0].qty']);
  });

  test('GET, commit, release, extend of unknown or malformed ids', async () => {
    const unknown = `${RUN}-no-such-cart`;
    expectProblem(await call('GET', `/v1/reservations/${unknown}`, { token: STOREFRONT }), 404, 'reservation-not-found');
    expectProblem(await send('POST', `/v1/reservations/${unknown}/commit`, { token: STOREFRONT, body: {} }), 404, 'reservation-not-found');
    expectProblem(await call('POST', `/v1/reservations/${unknown}/release`, { token: STOREFRONT }), 404, 'reservation-not-found');
    expectProblem(await send('POST', `/v1/reservations/${unknown}/extend`, { token: STOREFRONT, body: { ttl_seconds: 60 } }), 404, 'reservation-not-found');
    for (const [method, suffix, body] of [['GET', ''], ['POST', '/commit', {}], ['POST', '/release'], ['POST', '/extend', { ttl_seconds: 60 }]]) {
      const p = expectProblem(await call(method, `/v1/reservations/bad%20id${suffix}`, { token: STOREFRONT, body }), 422, 'validation-failed', `${method} ${suffix}:`);
      assert.deepEqual(fieldsOf(p), ['id']);
    }
  });

  test('extend → commit → commit again → release/extend refused (409 reservation-not-held)', async () => {
    const id = `${RUN}-cart-2`;
    const created = await send('POST', '/v1/reservations', { token: STOREFRONT, body: { id, lines: [{ sku: B, qty: 1 }], ttl_seconds: 60 } });
    expectStatus(created, 201);
    const ext = await send('POST', `/v1/reservations/${id}/extend`, { token: STOREFRONT, body: { ttl_seconds: 3600 } });
    expectStatus(ext, 200);
    assert.ok(Date.parse(ext.json.expires_at) > Date.parse(created.json.expires_at));
    assert.deepEqual(fieldsOf(expectProblem(await call('POST', `/v1/reservations/${id}/extend`, { token: STOREFRONT, body: { ttl_seconds: 86401 } }), 422, 'validation-failed')), ['ttl_seconds']);
    assert.deepEqual(fieldsOf(expectProblem(await call('POST', `/v1/reservations/${id}/extend`, { token: STOREFRONT, body: {} }), 422, 'validation-failed')), ['ttl_seconds']);
    expectProblem(await call('POST', `/v1/reservations/${id}/extend`, { token: STOREFRONT, raw: '[' }), 400, 'invalid-json');
    expectProblem(await call('POST', `/v1/reservations/${id}/commit`, { token: STOREFRONT, raw: '[]' }), 400, 'invalid-json');
    assert.deepEqual(fieldsOf(expectProblem(await call('POST', `/v1/reservations/${id}/commit`, { token: STOREFRONT, body: { order_id: 'bad id' } }), 422, 'validation-failed')), ['order_id']);
    const committed = await send('POST', `/v1/reservations/${id}/commit`, { token: STOREFRONT, body: { order_id: `${RUN}-web-2` } });
    expectStatus(committed, 200);
    assert.equal(committed.json.status, 'committed');
    assert.equal(committed.json.order_id, `${RUN}-web-2`);
    const again = await call('POST', `/v1/reservations/${id}/commit`, { token: STOREFRONT });
    expectStatus(again, 200);
    assert.equal(again.json.status, 'committed');
    const rel = expectProblem(await call('POST', `/v1/reservations/${id}/release`, { token: STOREFRONT }), 409, 'reservation-not-held');
    assert.equal(rel.status, 409);
    expectProblem(await send('POST', `/v1/reservations/${id}/extend`, { token: STOREFRONT, body: { ttl_seconds: 60 } }), 409, 'reservation-not-held');
  });

  test('release → release again 200 → commit refused (409 reservation-not-held)', async () => {
    const id = `${RUN}-cart-3`;
    expectStatus(await send('POST', '/v1/reservations', { token: STOREFRONT, body: { id, lines: [{ sku: C, qty: 1 }] } }), 201);
    const rel = await call('POST', `/v1/reservations/${id}/release`, { token: STOREFRONT });
    expectStatus(rel, 200);
    assert.equal(rel.json.status, 'released');
    const again = await call('POST', `/v1/reservations/${id}/release`, { token: STOREFRONT });
    expectStatus(again, 200);
    assert.equal(again.json.status, 'released');
    expectProblem(await send('POST', `/v1/reservations/${id}/commit`, { token: STOREFRONT, body: {} }), 409, 'reservation-not-held');
  });

  test('an expired reservation: GET expired, commit and extend 409, release 200 expired', async () => {
    const id = `${RUN}-cart-4`;
    expectStatus(await send('POST', '/v1/reservations', { token: STOREFRONT, body: { id, lines: [{ sku: C, qty: 1 }], ttl_seconds: 1 } }), 201);
    await sleep(1600);
    const got = await call('GET', `/v1/reservations/${id}`, { token: STOREFRONT });
    expectStatus(got, 200);
    assert.equal(got.json.status, 'expired');
    expectProblem(await send('POST', `/v1/reservations/${id}/commit`, { token: STOREFRONT, body: {} }), 409, 'reservation-not-held');
    expectProblem(await send('POST', `/v1/reservations/${id}/extend`, { token: STOREFRONT, body: { ttl_seconds: 60 } }), 409, 'reservation-not-held');
    const rel = await call('POST', `/v1/reservations/${id}/release`, { token: STOREFRONT });
    expectStatus(rel, 200);
    assert.equal(rel.json.status, 'expired');
  });
});

describe('orders that happen elsewhere', () => {
  const D = sku('BAG-1');
  const E = sku('HAT-1');

  before(async () => {
    expectStatus(await send('PUT', `/v1/skus/${enc(D)}/stock`, { token: ADMIN, body: { on_hand: 5 } }), 200);
    expectStatus(await send('PUT', `/v1/skus/${enc(E)}/stock`, { token: ADMIN, body: { on_hand: 1 } }), 200);
  });

  test('POST /v1/sales: applied, then duplicate; beyond availability shows as oversold', async () => {
    const body = { channel: 'ebay', order_id: `${RUN}-o1`, lines: [{ sku: D, qty: 2 }, { sku: E, qty: 3, line_id: 'l-2', location: 'main' }] };
    const r = await send('POST', '/v1/sales', { token: ADMIN, body });
    expectStatus(r, 200);
    assert.equal(r.json.cancelled, false);
    assert.equal(r.json.channel, 'ebay');
    assert.deepEqual(r.json.skus.map((s) => s.effect), ['applied', 'applied']);
    assert.equal(r.json.skus.find((s) => s.sku === E).oversold, 2);
    const again = await send('POST', '/v1/sales', { token: ADMIN, body });
    expectStatus(again, 200);
    assert.deepEqual(again.json.skus.map((s) => s.effect), ['duplicate', 'duplicate']);
  });

  test('POST /v1/sales: 422 naming every faulty field, 400, Idempotency-Key', async () => {
    const p = expectProblem(await call('POST', '/v1/sales', { token: ADMIN, body: { lines: [{ sku: D, qty: 0, line_id: 'bad id' }] } }), 422, 'validation-failed');
    assert.deepEqual(fieldsOf(p), ['channel', 'order_id', 'lines[0].qty', 'lines[0].line_id']);
    const lines101 = Array.from({ length: 101 }, (_, i) => ({ sku: `${RUN}-L${i}`, qty: 1 }));
    expectProblem(await call('POST', '/v1/sales', { token: ADMIN, body: { channel: 'ebay', order_id: 'x', lines: lines101 } }), 422, 'validation-failed');
    expectProblem(await call('POST', '/v1/sales', { token: ADMIN, raw: '{' }), 400, 'invalid-json');
    const key = { 'Idempotency-Key': `${RUN}-sale-key` };
    const body = { channel: 'amazon', order_id: `${RUN}-o9`, lines: [{ sku: D, qty: 1 }] };
    const first = await send('POST', '/v1/sales', { token: ADMIN, body, headers: key });
    expectStatus(first, 200);
    const replay = await send('POST', '/v1/sales', { token: ADMIN, body, headers: key });
    expectStatus(replay, 200);
    assert.deepEqual(replay.json, first.json);
    expectProblem(await call('POST', '/v1/sales', { token: ADMIN, body: { ...body, order_id: `${RUN}-o10` }, headers: key }), 422, 'idempotency-key-reused');
    assert.deepEqual(
      fieldsOf(expectProblem(await call('POST', '/v1/sales', { token: ADMIN, body, headers: { 'Idempotency-Key': 'k'.repeat(256) } }), 422, 'validation-failed')),
      ['Idempotency-Key'],
    );
  });

  test('POST /v1/fulfilments: ships open units; more than open → 409 over-fulfilment', async () => {
    const r = await send('POST', '/v1/fulfilments', { token: ADMIN, body: { channel: 'ebay', order_id: `${RUN}-o1`, lines: [{ sku: D, qty: 1 }] } });
    expectStatus(r, 200);
    assert.equal(r.json.cancelled, false);
    assert.equal(r.json.skus[0].sku, D);
    expectProblem(await send('POST', '/v1/fulfilments', { token: ADMIN, body: { channel: 'ebay', order_id: `${RUN}-o1`, lines: [{ sku: D, qty: 5 }] } }), 409, 'over-fulfilment');
  });

  test('POST /v1/fulfilments: channel defaults to direct (a committed storefront order)', async () => {
    const id = `${RUN}-cart-f`;
    expectStatus(await send('POST', '/v1/reservations', { token: STOREFRONT, body: { id, lines: [{ sku: D, qty: 1 }] } }), 201);
    expectStatus(await send('POST', `/v1/reservations/${id}/commit`, { token: STOREFRONT, body: { order_id: `${RUN}-web-f` } }), 200);
    const r = await send('POST', '/v1/fulfilments', { token: ADMIN, body: { order_id: `${RUN}-web-f`, lines: [{ sku: D, qty: 1 }] } });
    expectStatus(r, 200);
    assert.equal(r.json.channel, 'direct');
  });

  test('POST /v1/fulfilments: more than on hand → 409 not-on-hand', async () => {
    // E: on_hand 1, sold 3 (oversold 2).
    expectProblem(await send('POST', '/v1/fulfilments', { token: ADMIN, body: { channel: 'ebay', order_id: `${RUN}-o1`, lines: [{ sku: E, qty: 3 }] } }), 409, 'not-on-hand');
  });

  test('POST /v1/fulfilments: an order with no open units → 404 order-not-found', async () => {
    expectProblem(await send('POST', '/v1/fulfilments', { token: ADMIN, body: { channel: 'ebay', order_id: `${RUN}-never-sold`, lines: [{ sku: D, qty: 1 }] } }), 404, 'order-not-found');
  });

  test('POST /v1/fulfilments: 422, 400', async () => {
    const p = expectProblem(await call('POST', '/v1/fulfilments', { token: ADMIN, body: { channel: 'bad channel', lines: [{ sku: D }] } }), 422, 'validation-failed');
    assert.deepEqual(fieldsOf(p), ['channel', 'order_id', 'lines[0].qty']);
    expectProblem(await call('POST', '/v1/fulfilments', { token: ADMIN, raw: '1' }), 400, 'invalid-json');
  });

  test('POST /v1/sales/{channel}/{order_id}/cancel: cancels; fulfilling it then → 409 order-cancelled', async () => {
    const r = await send('POST', `/v1/sales/ebay/${RUN}-o1/cancel`, { token: ADMIN, body: { reason: 'customer' } });
    expectStatus(r, 200);
    assert.equal(r.json.cancelled, true);
    assert.equal(r.json.order_id, `${RUN}-o1`);
    expectProblem(await send('POST', '/v1/fulfilments', { token: ADMIN, body: { channel: 'ebay', order_id: `${RUN}-o1`, lines: [{ sku: D, qty: 1 }] } }), 409, 'order-cancelled');
    const again = await call('POST', `/v1/sales/ebay/${RUN}-o1/cancel`, { token: ADMIN });
    expectStatus(again, 200);
    assert.equal(again.json.cancelled, true);
  });

  test('cancel before the sale: the late sale is ignored (order_already_cancelled)', async () => {
    const c = await call('POST', `/v1/sales/shopify/${RUN}-o2/cancel`, { token: ADMIN });
    expectStatus(c, 200);
    assert.equal(c.json.cancelled, true);
    const s = await send('POST', '/v1/sales', { token: ADMIN, body: { channel: 'shopify', order_id: `${RUN}-o2`, lines: [{ sku: D, qty: 1 }] } });
    expectStatus(s, 200);
    assert.equal(s.json.cancelled, true);
    assert.deepEqual(s.json.skus.map((x) => x.effect), ['order_already_cancelled']);
  });

  test('cancel: 422 for malformed path ids, 400 for a bad body, Idempotency-Key bounds', async () => {
    const p = expectProblem(await call('POST', '/v1/sales/bad%20channel/o-1/cancel', { token: ADMIN }), 422, 'validation-failed');
    assert.deepEqual(fieldsOf(p), ['channel']);
    expectProblem(await call('POST', `/v1/sales/ebay/${'o'.repeat(129)}/cancel`, { token: ADMIN }), 422, 'validation-failed');
    expectProblem(await call('POST', `/v1/sales/ebay/${RUN}-o3/cancel`, { token: ADMIN, raw: '[' }), 400, 'invalid-json');
    expectProblem(await call('POST', `/v1/sales/ebay/${RUN}-o3/cancel`, { token: ADMIN, headers: { 'Idempotency-Key': 'k'.repeat(256) } }), 422, 'validation-failed');
  });
});

describe('catalogue', () => {
  const P = sku('CAT-1');
  const LOC = `${RUN}-east`.toLowerCase();
  const CH = `${RUN}-shop`;

  test('products: PUT 201 then 200, GET, list, 422, DELETE 204, 404', async () => {
    expectStatus(await send('PUT', `/v1/products/${enc(P)}`, { token: ADMIN, body: { title: 'Tee', backorder_limit: 2, components: [{ sku: sku('CUP'), qty: 2 }] } }), 201);
    const r = await send('PUT', `/v1/products/${enc(P)}`, { token: ADMIN, body: { title: 'Tee v2' } });
    expectStatus(r, 200);
    assert.equal(r.json.title, 'Tee v2');
    expectStatus(await call('GET', `/v1/products/${enc(P)}`, { token: ADMIN }), 200);
    expectStatus(await call('GET', `/v1/products?after=${enc(RUN)}&limit=10`, { token: ADMIN }), 200);
    assert.equal((await call('GET', `/v1/skus/${enc(P)}`, { token: ADMIN })).json.backorder_limit, 2);
    expectProblem(await call('PUT', `/v1/products/${enc(P)}`, { token: ADMIN, body: { components: [{ sku: P, qty: 1 }] } }), 422, 'validation-failed');
    expectProblem(await call('GET', '/v1/products?limit=0', { token: ADMIN }), 422, 'validation-failed');
    expectStatus(await call('DELETE', `/v1/products/${enc(P)}`, { token: ADMIN }), 204);
    expectProblem(await call('GET', `/v1/products/${enc(P)}`, { token: ADMIN }), 404, 'not-found');
    expectProblem(await call('DELETE', `/v1/products/${enc(P)}`, { token: ADMIN }), 404, 'not-found');
  });

  test('locations: PUT 201 then 200, GET, list, DELETE 204, 404', async () => {
    expectStatus(await send('PUT', `/v1/locations/${LOC}`, { token: ADMIN, body: { name: 'East' } }), 201);
    expectStatus(await send('PUT', `/v1/locations/${LOC}`, { token: ADMIN, body: { name: 'East 2' } }), 200);
    expectStatus(await call('GET', `/v1/locations/${LOC}`, { token: ADMIN }), 200);
    expectStatus(await call('GET', '/v1/locations', { token: ADMIN }), 200);
    expectProblem(await call('PUT', `/v1/locations/${LOC}`, { token: ADMIN, body: {} }), 422, 'validation-failed');
    expectStatus(await call('DELETE', `/v1/locations/${LOC}`, { token: ADMIN }), 204);
    expectProblem(await call('GET', `/v1/locations/${LOC}`, { token: ADMIN }), 404, 'not-found');
  });

  test('channels and listings: PUT 201 then 200, GET, advice, list, 404 without the channel, 422 identity taken, DELETE 204', async () => {
    expectStatus(await send('PUT', `/v1/channels/${CH}`, { token: ADMIN, body: { kind: 'shopify', account: 'myshop.myshopify.com', credentials_secret: 'SHOPIFY_TOKEN_MYSHOP' } }), 201);
    expectStatus(await send('PUT', `/v1/channels/${CH}`, { token: ADMIN, body: { kind: 'shopify', account: 'myshop.myshopify.com', settings: { on_drift: 'flag' } } }), 200);
    expectStatus(await call('GET', `/v1/channels/${CH}`, { token: ADMIN }), 200);
    expectStatus(await call('GET', '/v1/channels', { token: ADMIN }), 200);
    expectProblem(await call('PUT', `/v1/channels/${CH}-x`, { token: ADMIN, body: { kind: 'etsy', account: 'x' } }), 422, 'validation-failed');
    const L = `/v1/channels/${CH}/listings/${enc(P)}`;
    const external = { inventory_item_id: 'gid://shopify/InventoryItem/808950810', location_id: 905684977 };
    expectStatus(await send('PUT', L, { token: ADMIN, body: { external } }), 201);
    const r = await send('PUT', L, { token: ADMIN, body: { external, rule: { buffer: 2, percent: 50, max_listed: 10, zero_at_or_below: 3 } } });
    expectStatus(r, 200);
    assert.equal(r.json.identity, 'shopify:inventory_item:808950810');
    expectStatus(await call('GET', L, { token: ADMIN }), 200);
    expectStatus(await call('GET', `${L}/advice`, { token: ADMIN }), 200);
    expectStatus(await call('GET', `/v1/channels/${CH}/listings`, { token: ADMIN }), 200);
    const taken = expectProblem(await call('PUT', `/v1/channels/${CH}/listings/${enc(sku('OTHER'))}`, { token: ADMIN, body: { external } }), 422, 'validation-failed');
    assert.equal(taken.conflicting_sku, P);
    expectProblem(await call('PUT', `/v1/channels/${CH}-none/listings/A`, { token: ADMIN, body: { external } }), 404, 'not-found');
    expectProblem(await call('GET', `/v1/channels/${CH}-none/listings`, { token: ADMIN }), 404, 'not-found');
    expectStatus(await call('DELETE', L, { token: ADMIN }), 204);
    expectProblem(await call('GET', L, { token: ADMIN }), 404, 'not-found');
    expectStatus(await call('DELETE', `/v1/channels/${CH}`, { token: ADMIN }), 204);
    expectProblem(await call('DELETE', `/v1/channels/${CH}`, { token: ADMIN }), 404, 'not-found');
  });
});

describe('bulk files', () => {
  const csv = (text) => ({ token: ADMIN, raw: text, headers: { 'content-type': 'text/csv' } });
  test('POST /v1/imports: report 200, dry run, 422 header/format/mode, Idempotency-Key reuse', async () => {
    const S = sku('IMP');
    const r = await call('POST', '/v1/imports?format=csv&mode=set', { ...csv(`sku,quantity\n${S},4\nbad sku,1\n`), headers: { 'content-type': 'text/csv', 'idempotency-key': `k-${S}` } });
    expectStatus(r, 200);
    assert.deepEqual(r.json.rows.map((x) => x.status), ['applied', 'error']);
    const again = await call('POST', '/v1/imports?format=csv&mode=set', { ...csv(`sku,quantity\n${S},4\nbad sku,1\n`), headers: { 'content-type': 'text/csv', 'idempotency-key': `k-${S}` } });
    expectStatus(again, 200);
    expectProblem(await call('POST', '/v1/imports?format=csv&mode=set', { ...csv(`sku,quantity\n${S},5\n`), headers: { 'content-type': 'text/csv', 'idempotency-key': `k-${S}` } }), 422, 'idempotency-key-reused');
    expectStatus(await call('POST', '/v1/imports?dry_run=true', csv(`sku,quantity\n${S},9\n`)), 200);
    expectProblem(await call('POST', '/v1/imports', csv('what,ever\n1,2\n')), 422, 'validation-failed');
    expectProblem(await call('POST', '/v1/imports?format=xlsx', csv('sku,quantity\n')), 422, 'validation-failed');
    expectProblem(await call('POST', '/v1/imports?mode=replace', csv('sku,quantity\n')), 422, 'validation-failed');
    // Over 1,000 SKUs: a job (202), then its status (200) and an unknown job (404).
    const many = ['sku,quantity', ...Array.from({ length: 1001 }, (_, i) => `${S}-J${i},1`)].join('\n');
    const job = await call('POST', '/v1/imports?format=csv&dry_run=true', csv(`${many}\n`));
    expectStatus(job, 202);
    expectStatus(await call('GET', `/v1/imports/${job.json.import_id}?limit=10`, { token: ADMIN }), 200);
    expectProblem(await call('GET', '/v1/imports/imp_0000000000000000', { token: ADMIN }), 404, 'not-found');
  });

  test('GET /v1/exports: each format as text/csv, 422 for an unknown one', async () => {
    for (const f of ['csv', 'shopify', 'shopify-inventory', 'woocommerce']) {
      const r = await call('GET', `/v1/exports?format=${f}`, { token: ADMIN });
      expectStatus(r, 200, f);
      assert.match(r.headers.get('content-disposition') ?? '', /^attachment; filename="stockedge-/);
    }
    expectProblem(await call('GET', '/v1/exports?format=xlsx', { token: ADMIN }), 422, 'validation-failed');
  });
});

describe('saved column mappings', () => {
  test('PUT, GET, list, import through it, DELETE; 404 and 422', async () => {
    const name = sku('map');
    const body = { columns: { sku: 'Item No.', quantity: 'Qty On Hand', location: 'Warehouse' }, delimiter: ';', locations: { 'Main WH': 'main' }, mode: 'set' };
    expectStatus(await send('PUT', `/v1/import-mappings/${name}`, { token: ADMIN, body }), 200);
    expectStatus(await call('GET', `/v1/import-mappings/${name}`, { token: ADMIN }), 200);
    expectStatus(await call('GET', '/v1/import-mappings', { token: ADMIN }), 200);
    const r = await call('POST', `/v1/imports?mapping=${name}&dry_run=true`, { token: ADMIN, raw: `\uFEFFItem No.;Qty On Hand;Warehouse\r\n${sku('M')};3;Main WH\r\n`, headers: { 'content-type': 'text/csv' } });
    expectStatus(r, 200);
    assert.deepEqual(r.json.rows.map((x) => x.status), ['applied']);
    expectProblem(await call('POST', `/v1/imports?mapping=${sku('none')}`, { token: ADMIN, raw: 'sku,quantity\n', headers: { 'content-type': 'text/csv' } }), 404, 'not-found');
    expectProblem(await call('PUT', `/v1/import-mappings/${name}`, { token: ADMIN, body: { columns: {} } }), 422, 'validation-failed');
    expectStatus(await call('DELETE', `/v1/import-mappings/${name}`, { token: ADMIN }), 200);
    expectProblem(await call('GET', `/v1/import-mappings/${name}`, { token: ADMIN }), 404, 'not-found');
    expectProblem(await call('DELETE', `/v1/import-mappings/${name}`, { token: ADMIN }), 404, 'not-found');
  });
});

describe('wholesale purchase orders', () => {
  test('POST /v1/edi/850: an 855 for a partner (Basic, .dev.vars SIM_EDI_ACME), 401 without, 404 for no channel', async () => {
    const CH = `${RUN}-edi`;
    const settings = { partners: { ACME: { receiver_id: 'ACMEBUY', inbound_secret: 'SIM_EDI_ACME' } } };
    expectStatus(await send('PUT', `/v1/channels/${CH}`, { token: ADMIN, body: { kind: 'wholesale', account: 'acme.example', settings } }), 201);
    const edi = build850({ senderId: 'ACMEBUY', orders: [{ poNumber: `${RUN}`.slice(-22), lines: [{ qty: 1, ids: { IN: 'NOT-LISTED' } }] }] });
    const basic = `Basic ${Buffer.from('acme-edi:partner-pass').toString('base64')}`;
    const headers = { 'content-type': 'application/edi-x12' };
    const r = await call('POST', `/v1/edi/850?channel=${CH}`, { raw: edi, headers: { ...headers, authorization: basic } });
    expectStatus(r, 200);
    assert.match(r.text, /~ST\*855\*0001~/);
    expectProblem(await call('POST', `/v1/edi/850?channel=${CH}`, { raw: edi, headers }), 401, 'unauthorized');
    expectProblem(await call('POST', `/v1/edi/850?channel=${RUN}-none`, { raw: edi, headers: { ...headers, authorization: basic } }), 404, 'not-found');
  });
});

describe('sync', () => {
  test('GET /v1/sync/status and /v1/sync/failures list; retrying an unknown failure is 404, a bad id 422', async () => {
    expectStatus(await call('GET', '/v1/sync/status', { token: ADMIN }), 200);
    expectStatus(await call('GET', '/v1/sync/failures', { token: ADMIN }), 200);
    expectProblem(await call('POST', '/v1/sync/failures/999999/retry', { token: ADMIN }), 404, 'not-found');
    expectProblem(await call('POST', '/v1/sync/failures/x/retry', { token: ADMIN }), 422, 'validation-failed');
  });
  test('POST /v1/sync/failures/{id}/retry re-queues a recorded failure', async () => {
    // A listing on a channel with no credentials fails for good and is recorded.
    const CHN = `${RUN}-nocreds`;
    const S = sku('NOCREDS');
    expectStatus(await call('PUT', `/v1/channels/${CHN}`, { token: ADMIN, body: { kind: 'ebay', account: 'x' } }), 201);
    expectStatus(await call('PUT', `/v1/channels/${CHN}/listings/${enc(S)}`, { token: ADMIN, body: { external: { sku: S } } }), 201);
    expectStatus(await call('PUT', `/v1/skus/${enc(S)}/stock`, { token: ADMIN, body: { on_hand: 1 } }), 200);
    let failure;
    for (let i = 0; i < 100 && !failure; i++) {
      const r = await call('GET', '/v1/sync/failures', { token: ADMIN });
      failure = r.json.items.find((x) => x.sku === S);
      if (!failure) await new Promise((res) => setTimeout(res, 200));
    }
    assert.ok(failure, 'the failure is listed');
    expectStatus(await call('POST', `/v1/sync/failures/${failure.id}/retry`, { token: ADMIN }), 200);
  });
});

describe('inbound webhooks', () => {
  // Signing keys from .dev.vars (SIM_*_WEBHOOK_SECRET, SIM_AMAZON_FORWARDER_SECRET).
  const hmac = (key, text, enc = 'base64') => crypto.createHmac('sha256', key).update(text).digest(enc);
  const SHOP = `${RUN}-openapi.myshopify.com`.toLowerCase();

  test('POST /v1/webhooks/shopify: 200 for a signed delivery, 401 forged, 413 over 1 MiB', async () => {
    expectStatus(
      await call('PUT', `/v1/channels/${RUN}-shop`, { token: ADMIN, body: { kind: 'shopify', account: SHOP, settings: { webhook_secret: 'SIM_SHOPIFY_WEBHOOK_SECRET' } } }),
      201,
    );
    const body = JSON.stringify({ id: 1, title: 'a product' });
    const headers = (sig) => ({ 'x-shopify-topic': 'products/update', 'x-shopify-shop-domain': SHOP, 'x-shopify-event-id': crypto.randomUUID(), 'x-shopify-hmac-sha256': sig });
    const r = await call('POST', '/v1/webhooks/shopify', { raw: body, headers: headers(hmac('shopify-sim-client-secret', body)) });
    expectStatus(r, 200);
    assert.equal(r.json.result, 'ignored');
    expectProblem(await call('POST', '/v1/webhooks/shopify', { raw: body, headers: headers(hmac('forged', body)) }), 401, 'unauthorized');
    const big = JSON.stringify({ id: 1, pad: 'x'.repeat(1024 * 1024) });
    expectProblem(await call('POST', '/v1/webhooks/shopify', { raw: big, headers: headers(hmac('shopify-sim-client-secret', big)) }), 413, 'payload-too-large');
  });

  test('POST /v1/webhooks/woocommerce: the creation ping answers 200', async () => {
    const r = await call('POST', '/v1/webhooks/woocommerce', { raw: 'webhook_id=3', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expectStatus(r, 200);
    assert.equal(r.json.result, 'ping');
    expectProblem(await call('POST', '/v1/webhooks/woocommerce', { raw: '{}', headers: { 'x-wc-webhook-source': 'https://nowhere.example/', 'x-wc-webhook-signature': 'AAAA' } }), 401, 'unauthorized');
  });

  test('POST /v1/webhooks/amazon: a forwarded notification StockEdge does not act on answers 200', async () => {
    const CHA = `${RUN}-amz`;
    expectStatus(
      await call('PUT', `/v1/channels/${CHA}`, { token: ADMIN, body: { kind: 'amazon', account: 'A1OPENAPI', settings: { webhook_secret: 'SIM_AMAZON_FORWARDER_SECRET' } } }),
      201,
    );
    const body = JSON.stringify({ NotificationType: 'ANY_OFFER_CHANGED', NotificationMetadata: { NotificationId: crypto.randomUUID() } });
    const ts = String(Math.floor(Date.now() / 1000));
    const sig = `sha256=${hmac('amazon-forwarder-sim-secret', `${ts}.${body}`, 'hex')}`;
    const r = await call('POST', `/v1/webhooks/amazon?channel=${CHA}`, { raw: body, headers: { 'x-stockedge-timestamp': ts, 'x-stockedge-signature': sig } });
    expectStatus(r, 200);
    assert.equal(r.json.ignored.reason, 'unhandled_topic');
    expectProblem(await call('POST', `/v1/webhooks/amazon?channel=${CHA}`, { raw: body, headers: { 'x-stockedge-timestamp': ts, 'x-stockedge-signature': `sha256=${'0'.repeat(64)}` } }), 401, 'unauthorized');
  });

  test('POST /v1/webhooks/ebay: a notification signed with the key eBay serves answers 200', async () => {
    const eb = await startEbaySim();
    try {
      const CHE = `${RUN}-ebay`;
      expectStatus(
        await call('PUT', `/v1/channels/${CHE}`, { token: ADMIN, body: { kind: 'ebay', account: 'sim_seller', credentials_secret: 'SIM_EBAY_TOKEN', settings: { base_url: eb.url } } }),
        201,
      );
      const n = notificationPayload({ topic: 'MARKETPLACE_ACCOUNT_DELETION', data: { username: 'x' } });
      const body = JSON.stringify(n);
      const signature = signNotification(body, { privateKey: eb.privateKey, kid: eb.keyId, digest: eb.digest });
      const r = await call('POST', `/v1/webhooks/ebay?channel=${CHE}`, { raw: body, headers: { 'x-ebay-signature': signature } });
      expectStatus(r, 200);
      assert.equal(r.json.result, 'ignored');
      expectProblem(await call('POST', `/v1/webhooks/ebay?channel=${CHE}`, { raw: body }), 401, 'unauthorized');
    } finally {
      await eb.close();
    }
  });

  test('GET /v1/inbound/unmatched: a page; bad bounds are 422', async () => {
    const r = await call('GET', '/v1/inbound/unmatched?limit=10', { token: ADMIN });
    expectStatus(r, 200);
    assert.ok(Array.isArray(r.json.items));
    const p = expectProblem(await call('GET', '/v1/inbound/unmatched?limit=0&after=x', { token: ADMIN }), 422, 'validation-failed');
    assert.deepEqual(fieldsOf(p), ['limit', 'after']);
  });

  test('GET /v1/inbound/drift: a page; bad bounds are 422', async () => {
    const r = await call('GET', '/v1/inbound/drift?limit=10&sku=A', { token: ADMIN });
    expectStatus(r, 200);
    assert.ok(Array.isArray(r.json.items));
    const p = expectProblem(await call('GET', '/v1/inbound/drift?limit=1001&sku=bad%20sku', { token: ADMIN }), 422, 'validation-failed');
    assert.deepEqual(fieldsOf(p), ['limit', 'sku']);
  });

  test('GET /v1/inbound/polls and POST /v1/inbound/polls/run', async () => {
    const r = await call('GET', '/v1/inbound/polls', { token: ADMIN });
    expectStatus(r, 200);
    assert.ok(Array.isArray(r.json.items));
    const run = await call('POST', '/v1/inbound/polls/run?channel=nothing-here', { token: ADMIN });
    expectStatus(run, 200);
    assert.deepEqual(run.json.runs, []);
    const p = expectProblem(await call('POST', '/v1/inbound/polls/run?channel=bad%20id', { token: ADMIN }), 422, 'validation-failed');
    assert.deepEqual(fieldsOf(p), ['channel']);
  });

  test('live reconciliation: run, list, repair; bad parameters are 422', async () => {
    const run = await call('POST', '/v1/reconciliation/run?channel=nothing-here', { token: ADMIN });
    expectStatus(run, 200);
    assert.deepEqual(run.json, { runs: [], limited: false });
    const list = await call('GET', '/v1/reconciliation?drifted=true&limit=10', { token: ADMIN });
    expectStatus(list, 200);
    assert.ok(Array.isArray(list.json.items));
    const repair = await call('POST', '/v1/reconciliation/repair?channel=nothing-here&sku=A', { token: ADMIN });
    expectStatus(repair, 200);
    assert.deepEqual(repair.json, { repaired: 0 });
    assert.deepEqual(fieldsOf(expectProblem(await call('POST', '/v1/reconciliation/repair', { token: ADMIN }), 422, 'validation-failed')), ['channel']);
    assert.deepEqual(fieldsOf(expectProblem(await call('GET', '/v1/reconciliation?limit=0&drifted=1', { token: ADMIN }), 422, 'validation-failed')), ['limit', 'drifted']);
  });

  test('GET /v1/webhooks/ebay: the endpoint challenge', async () => {
    const CHV = `${RUN}-ebay-verify`;
    expectStatus(
      await call('PUT', `/v1/channels/${CHV}`, { token: ADMIN, body: { kind: 'ebay', account: 'verify', settings: { webhook_secret: 'SIM_EBAY_VERIFICATION_TOKEN', endpoint_url: 'https://stockedge.example/v1/webhooks/ebay' } } }),
      201,
    );
    const r = await call('GET', `/v1/webhooks/ebay?challenge_code=abc&channel=${CHV}`);
    expectStatus(r, 200);
    const want = crypto.createHash('sha256').update('abc').update('sim_ebay_verification_token_0123456789abcdef').update('https://stockedge.example/v1/webhooks/ebay').digest('hex');
    assert.equal(r.json.challengeResponse, want);
    expectProblem(await call('GET', '/v1/webhooks/ebay?challenge_code=abc&channel=no-such-channel'), 404, 'not-found');
    const p = expectProblem(await call('GET', '/v1/webhooks/ebay'), 422, 'validation-failed');
    assert.deepEqual(fieldsOf(p), ['challenge_code']);
  });
});

describe('alerts', () => {
  test('GET /v1/alerts: a page; bad bounds are 422; acknowledging an unknown id is 404, a bad id 422', async () => {
    const r = await call('GET', '/v1/alerts?limit=10', { token: ADMIN });
    expectStatus(r, 200);
    assert.ok(Array.isArray(r.json.items));
    const p = expectProblem(await call('GET', '/v1/alerts?sku=a%20b&after=x&limit=0', { token: ADMIN }), 422, 'validation-failed');
    assert.deepEqual(fieldsOf(p), ['sku', 'after', 'limit']);
    expectProblem(await call('POST', '/v1/alerts/999999/acknowledge', { token: ADMIN }), 404, 'not-found');
    expectProblem(await call('POST', '/v1/alerts/x/acknowledge', { token: ADMIN }), 422, 'validation-failed');
  });

  test('a sale beyond stock raises an alert, which can be acknowledged', async () => {
    const S = sku('OVERSOLD');
    expectStatus(await send('PUT', `/v1/skus/${enc(S)}/stock`, { token: ADMIN, body: { on_hand: 1 } }), 200);
    expectStatus(await send('POST', '/v1/sales', { token: ADMIN, body: { channel: 'ebay', order_id: `${RUN}-over`, lines: [{ sku: S, qty: 3 }] } }), 200);
    let alert;
    for (let i = 0; i < 100 && !alert; i++) {
      const r = await call('GET', `/v1/alerts?sku=${enc(S)}`, { token: ADMIN });
      expectStatus(r, 200);
      alert = r.json.items[0];
      if (!alert) await new Promise((res) => setTimeout(res, 200));
    }
    assert.ok(alert, 'the alert is listed');
    assert.equal(alert.units, 2);
    assert.equal(alert.acknowledged_at, null);
    const acked = await call('POST', `/v1/alerts/${alert.id}/acknowledge`, { token: ADMIN });
    expectStatus(acked, 200);
    assert.equal(acked.json.id, alert.id);
    assert.equal(typeof acked.json.acknowledged_at, 'string');
  });
});

describe('erp', () => {
  test('POST /v1/erp/snapshots: applied, then stale; a bad body names its fields', async () => {
    const A = sku('ERP-1');
    const body = { snapshot: 'ns-1', basis: 'available', as_of: { sequence: 3 }, lines: [{ sku: A, quantity: 4 }] };
    const r = await call('POST', '/v1/erp/snapshots', { token: ADMIN, body });
    expectStatus(r, 200);
    assert.equal(r.json.items[0].effect, 'applied');
    assert.equal(r.json.items[0].available, 4);
    const again = await call('POST', '/v1/erp/snapshots', { token: ADMIN, body });
    expectStatus(again, 200);
    assert.equal(again.json.items[0].effect, 'stale');
    const p = expectProblem(await call('POST', '/v1/erp/snapshots', { token: ADMIN, body: { ...body, basis: 'shelf' } }), 422, 'validation-failed');
    assert.deepEqual(p.errors.map((e) => e.field), ['basis']);
  });

  test('POST /v1/erp/connections/{id}/snapshots: signed applies, then stale; unmastered 422; unknown 401 as a bad signature', async () => {
    const path = `/v1/erp/connections/${enc(HOOK_CONNECTION)}/snapshots`;
    const A = sku('HOOK-1');
    const body = { snapshot: 'hook-1', basis: 'available', as_of: { sequence: 5 }, lines: [{ sku: A, location: HOOK_LOCATION, quantity: 6 }] };
    const text = JSON.stringify(body);
    const r = await call('POST', path, { raw: text, headers: erpSigned(text) });
    expectStatus(r, 200);
    assert.deepEqual([r.json.items[0].effect, r.json.items[0].available], ['applied', 6]);
    const again = await call('POST', path, { raw: text, headers: erpSigned(text) });
    expectStatus(again, 200);
    assert.equal(again.json.items[0].effect, 'stale');
    const elsewhere = JSON.stringify({ ...body, lines: [{ sku: A, location: 'main', quantity: 1 }] });
    const p = expectProblem(await call('POST', path, { raw: elsewhere, headers: erpSigned(elsewhere) }), 422, 'validation-failed');
    assert.deepEqual(fieldsOf(p), ['lines[0].location']);
    const stale = erpSigned(text, HOOK_SECRET, Math.floor(Date.now() / 1000) - 3600);
    const bad = expectProblem(await call('POST', path, { raw: text, headers: stale }), 401, 'unauthorized');
    const unknown = expectProblem(await call('POST', `/v1/erp/connections/${RUN}-none/snapshots`, { raw: text, headers: erpSigned(text) }), 401, 'unauthorized');
    assert.deepEqual(unknown, bad, 'an unknown connection is answered as a bad signature');
  });

  test('ERP connections: put, read, map, poll, list, delete', async () => {
    const id = sku('erp-conn').toLowerCase();
    const path = `/v1/erp/connections/${encodeURIComponent(id)}`;
    const body = { kind: 'sap_b1', base_url: 'http://127.0.0.1:9', credentials_secret: 'NO_SUCH_SECRET', settings: { card_code: 'C1' } };
    expectStatus(await call('PUT', path, { token: ADMIN, body }), 200);
    expectStatus(await call('GET', '/v1/erp/connections', { token: ADMIN }), 200);
    expectStatus(await call('GET', path, { token: ADMIN }), 200);
    const m = await call('PUT', `${path}/mappings`, { token: ADMIN, body: { items: { A1: 'A1' }, warehouses: { W1: 'erp-openapi' } } });
    expectStatus(m, 200);
    expectStatus(await call('GET', `${path}/mappings`, { token: ADMIN }), 200);
    expectStatus(await call('GET', '/v1/erp/unmapped', { token: ADMIN }), 200);
    const run = await call('POST', `/v1/erp/polls/run?connection=${encodeURIComponent(id)}`, { token: ADMIN });
    expectStatus(run, 200);
    assert.equal(run.json.runs[0].result, 'error'); // the secret is missing: no call is made
    expectStatus(await call('GET', '/v1/erp/polls', { token: ADMIN }), 200);
    expectStatus(await call('GET', '/v1/erp/adjustment-requests', { token: ADMIN }), 200);
    expectStatus(await call('DELETE', path, { token: ADMIN }), 204);
  });
});

describe('alerts out', () => {
  test('alert destinations: created, replaced, listed and deleted; bad bodies 422; unknown ids 404', async () => {
    const id = `${RUN}-dest`;
    const body = { format: 'slack', url: 'https://hooks.example.com/services/T/B/x', kinds: ['drift'] };
    expectStatus(await send('PUT', `/v1/alert-destinations/${enc(id)}`, { token: ADMIN, body }), 201);
    const again = await send('PUT', `/v1/alert-destinations/${enc(id)}`, { token: ADMIN, body: { ...body, enabled: false } });
    expectStatus(again, 200);
    assert.equal(again.json.url, 'https://hooks.example.com/…');
    assert.equal(again.json.enabled, false);
    const list = await call('GET', '/v1/alert-destinations', { token: ADMIN });
    expectStatus(list, 200);
    assert.ok(list.json.items.some((d) => d.id === id));
    const p = expectProblem(await call('PUT', `/v1/alert-destinations/${enc(id)}`, { token: ADMIN, body: { format: 'x', url: 'y' } }), 422, 'validation-failed');
    assert.deepEqual(fieldsOf(p), ['format', 'url']);
    expectStatus(await call('DELETE', `/v1/alert-destinations/${enc(id)}`, { token: ADMIN }), 204);
    expectProblem(await call('DELETE', `/v1/alert-destinations/${enc(id)}`, { token: ADMIN }), 404, 'not-found');
  });

  test('PUT /v1/skus/{sku}/alerting sets and removes a threshold; GET /v1/alerts filters by kind', async () => {
    const S = sku('LOWSTOCK');
    const set = await send('PUT', `/v1/skus/${enc(S)}/alerting`, { token: ADMIN, body: { low_stock_below: 4 } });
    expectStatus(set, 200);
    assert.deepEqual(set.json, { sku: S, low_stock_below: 4 });
    expectStatus(await send('PUT', `/v1/skus/${enc(S)}/alerting`, { token: ADMIN, body: { low_stock_below: null } }), 200);
    const p = expectProblem(await call('PUT', `/v1/skus/${enc(S)}/alerting`, { token: ADMIN, body: {} }), 422, 'validation-failed');
    assert.deepEqual(fieldsOf(p), ['low_stock_below']);
    expectStatus(await call('GET', '/v1/alerts?kind=low_stock', { token: ADMIN }), 200);
    expectProblem(await call('GET', '/v1/alerts?kind=nope', { token: ADMIN }), 422, 'validation-failed');
  });
});

describe('metrics', () => {
  test('GET /v1/metrics: Prometheus text with the D1 and queue counters', async () => {
    const r = await call('GET', '/v1/metrics', { token: ADMIN });
    expectStatus(r, 200);
    assert.match(r.text, /^stockedge_d1_queries_total\{origin="request"\} \d+$/m);
    assert.match(r.text, /^stockedge_queue_deliveries_total \d+$/m);
  });
});

describe('operator console API', () => {
  test('GET /v1/overview and GET /v1/skus/{sku}/listings', async () => {
    expectStatus(await call('GET', '/v1/overview', { token: ADMIN }), 200);
    const CHN = `${RUN}-oplist`;
    const S = sku('OPLIST');
    expectStatus(await call('PUT', `/v1/channels/${CHN}`, { token: ADMIN, body: { kind: 'woocommerce', account: 'oplist.example', enabled: false } }), 201);
    expectStatus(await call('PUT', `/v1/channels/${CHN}/listings/${enc(S)}`, { token: ADMIN, body: { external: { product_id: 5 }, rule: { buffer: 1 } } }), 201);
    expectStatus(await call('PUT', `/v1/skus/${enc(S)}/stock`, { token: ADMIN, body: { on_hand: 4 } }), 200);
    const r = await call('GET', `/v1/skus/${enc(S)}/listings`, { token: ADMIN });
    expectStatus(r, 200);
    assert.deepEqual(
      { status: r.json.items[0].status, intended: r.json.items[0].intended_quantity },
      { status: 'disabled', intended: 3 },
    );
    expectProblem(await call('GET', '/v1/skus/bad%20sku/listings', { token: ADMIN }), 422, 'validation-failed');
  });

  test('POST /v1/sync/failures/retry?channel= and POST /v1/listings/preview', async () => {
    expectStatus(await call('POST', `/v1/sync/failures/retry?channel=${RUN}-none`, { token: ADMIN }), 200);
    expectProblem(await call('POST', '/v1/sync/failures/retry', { token: ADMIN }), 422, 'validation-failed');
    const CHN = `${RUN}-oplist`;
    const p = await send('POST', '/v1/listings/preview', { token: ADMIN, body: { channel: CHN, rule: { percent: 50 } } });
    expectStatus(p, 200);
    assert.equal(p.json.items[0].proposed_quantity, 2);
    expectProblem(await call('POST', '/v1/listings/preview', { token: ADMIN, body: { channel: `${RUN}-nope`, rule: {} } }), 404, 'not-found');
    expectProblem(await call('POST', '/v1/listings/preview', { token: ADMIN, body: { channel: CHN } }), 422, 'validation-failed');
  });

  test('POST /v1/inbound/unmatched/{id}/map', async () => {
    const CHN = `${RUN}-opmap`;
    const host = `${RUN}-opmap.example`;
    const body = { kind: 'woocommerce', account: host, enabled: false, settings: { webhook_secret: 'SIM_WOO_WEBHOOK_SECRET' } };
    expectStatus(await call('PUT', `/v1/channels/${CHN}`, { token: ADMIN, body }), 201);
    const order = {
      id: 4242, status: 'processing', date_created_gmt: '2026-01-01T00:00:00', date_modified_gmt: '2026-01-01T00:00:00',
      line_items: [{ id: 1, product_id: 777, variation_id: 0, quantity: 1, sku: '' }],
    };
    const d = await sendWooWebhook(`${base}/v1/webhooks/woocommerce`, 'order.created', order, { source: `https://${host}/` });
    assert.equal(d.status, 200, d.text);
    const lines = await call('GET', `/v1/inbound/unmatched?channel=${CHN}`, { token: ADMIN });
    const line = lines.json.items.find((i) => i.order_id === '4242');
    assert.ok(line, lines.text);
    const S = sku('OPMAP');
    const r = await send('POST', `/v1/inbound/unmatched/${line.id}/map`, { token: ADMIN, body: { sku: S } });
    expectStatus(r, 200);
    assert.equal(r.json.applied.skus[0].sku, S);
    expectProblem(await call('POST', '/v1/inbound/unmatched/999999/map', { token: ADMIN, body: { sku: S } }), 404, 'not-found');
    expectProblem(await call('POST', `/v1/inbound/unmatched/${line.id}/map`, { token: ADMIN, body: {} }), 422, 'validation-failed');
  });
});

describe('coverage', () => {
  test('every documented operation answered its success status', () => {
    const missing = [];
    for (const { method, path: p } of operations()) {
      const ok = Object.keys(document.paths[p][method.toLowerCase()].responses).find((s) => /^2/.test(s));
      if (!seen.get(`${method} ${p}`)?.has(Number(ok))) missing.push(`${method} ${p} ${ok} (seen: ${[...(seen.get(`${method} ${p}`) ?? [])].join(',') || 'none'})`);
    }
    assert.deepEqual(missing, []);
  });
});
