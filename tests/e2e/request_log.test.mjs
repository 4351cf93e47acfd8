// Structured request logs (docs/deploy.md "Read the logs", src/api/request_log.rs): the Worker
// writes one JSON line per request to its console — here wrangler's output, which the harness
// keeps in a log file — with the request id (cf-ray, else generated), method, route name, status,
// duration and the SKU where the route names one; no token, secret or body ever appears.
//
//   STOCKEDGE_SKIP_BUILD=1 node --test --test-concurrency=1 tests/e2e/request_log.test.mjs

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';

import { ADMIN_TOKEN, STOREFRONT_TOKEN, request, start, unique, until } from './lib/worker.mjs';

const FIELDS = ['duration_ms', 'event', 'method', 'request_id', 'route', 'status'];

/** A fresh ray id of the form Cloudflare gives (16 hex digits and a data-centre code). */
const ray = () => `${crypto.randomBytes(8).toString('hex')}-TST`;

/** Every request line in wrangler's log so far (lines holding a JSON object with event "request"). */
function requestLines(logFile) {
  const out = [];
  for (const line of fs.readFileSync(logFile, 'utf8').split('\n')) {
    const at = line.indexOf('{"event":"request"');
    if (at < 0) continue;
    out.push({ raw: line, rec: JSON.parse(line.slice(at)) });
  }
  return out;
}

describe('structured request logs', () => {
  let w;
  const sku = unique('LOG');
  // Values that must never reach the log: a wrong bearer token, a secret in a body, a header
  // and a query string.
  const wrongToken = `wrong-${crypto.randomBytes(12).toString('hex')}`;
  const bodySecret = `body-secret-${crypto.randomBytes(12).toString('hex')}`;
  const querySecret = `query-secret-${crypto.randomBytes(12).toString('hex')}`;

  before(async () => {
    w = await start();
  });

  after(async () => {
    await w?.discard();
  });

  test('one JSON line per request with id, method, route, status, duration and SKU; no token or secret', async () => {
    const sent = []; // { ray, method, route, status, sku }
    const call = async (method, path, { token, body, route, sku: s } = {}) => {
      const id = ray();
      const r = await request(w.url, method, path, { token, body, headers: { 'cf-ray': id, 'x-api-key': bodySecret } });
      assert.ok(!r.proxyRestart, 'the runtime restarted under a request');
      sent.push({ ray: id, method, route, status: r.status, sku: s });
      return r;
    };

    assert.equal((await call('GET', '/healthz', { route: 'Health' })).status, 200);
    const put = await call('PUT', `/v1/skus/${sku}/stock`, {
      token: ADMIN_TOKEN,
      body: { on_hand: 5 },
      route: 'PutStock',
      sku,
    });
    assert.equal(put.status, 200, put.text);
    // A free-text reason is journaled, never logged.
    const reasoned = await call('PUT', `/v1/skus/${sku}/stock`, {
      token: ADMIN_TOKEN,
      body: { on_hand: 6, reason: bodySecret },
      route: 'PutStock',
      sku,
    });
    assert.equal(reasoned.status, 200, reasoned.text);
    assert.equal((await call('GET', `/v1/skus/${sku}`, { token: ADMIN_TOKEN, route: 'GetSku', sku })).status, 200);
    assert.equal((await call('GET', `/v1/skus/${sku}`, { token: STOREFRONT_TOKEN, route: 'GetSku', sku })).status, 403);
    assert.equal((await call('GET', `/v1/skus/${sku}/journal`, { token: wrongToken, route: 'Journal', sku })).status, 401);
    const hold = await call('POST', '/v1/reservations', {
      token: STOREFRONT_TOKEN,
      body: { lines: [{ sku, qty: 1 }] },
      route: 'CreateReservation',
    });
    assert.equal(hold.status, 201, hold.text);
    assert.equal((await call('GET', `/v1/availability?sku=${sku}&token=${querySecret}`, { token: STOREFRONT_TOKEN, route: 'Availability' })).status, 200);
    assert.equal((await call('GET', `/v1/channels/${sku}`, { token: ADMIN_TOKEN, route: 'Catalog.GetChannel' })).status, 404);
    assert.equal((await call('GET', '/no/such/route', { token: ADMIN_TOKEN, route: 'Unrouted' })).status, 404);
    assert.equal((await call('DELETE', '/v1/reservations', { token: ADMIN_TOKEN, route: 'Unrouted' })).status, 405);

    // Console output reaches the log file shortly after the answer.
    const rays = new Set(sent.map((s) => s.ray));
    const mine = () => requestLines(w.logFile).filter((l) => rays.has(l.rec.request_id));
    await until(() => mine().length >= sent.length, { timeoutMs: 10_000, everyMs: 100 });
    const lines = mine();
    assert.equal(lines.length, sent.length, `one line per request:\n${lines.map((l) => l.raw).join('\n')}`);
    for (const s of sent) {
      const got = lines.filter((l) => l.rec.request_id === s.ray);
      assert.equal(got.length, 1, `exactly one line for ${s.method} → ${s.route}`);
      const rec = got[0].rec;
      const expected = Object.keys(rec).sort();
      assert.deepEqual(expected, s.sku ? [...FIELDS, 'sku'].sort() : FIELDS, got[0].raw);
      assert.equal(rec.event, 'request');
      assert.equal(rec.method, s.method, got[0].raw);
      assert.equal(rec.route, s.route, got[0].raw);
      assert.equal(rec.status, s.status, got[0].raw);
      assert.ok(Number.isInteger(rec.duration_ms) && rec.duration_ms >= 0, got[0].raw);
      if (s.sku) assert.equal(rec.sku, s.sku, got[0].raw);
    }

    // Without a usable cf-ray (none, or a client-chosen value that is not a ray id) the id is
    // generated: 32 hex digits, different per request.
    const before = requestLines(w.logFile).length;
    await request(w.url, 'GET', '/healthz', {});
    await request(w.url, 'GET', '/healthz', { headers: { 'cf-ray': ADMIN_TOKEN } });
    await until(() => requestLines(w.logFile).length >= before + 2, { timeoutMs: 10_000, everyMs: 100 });
    const generated = requestLines(w.logFile).slice(before);
    assert.equal(generated.length, 2, generated.map((l) => l.raw).join('\n'));
    for (const { rec, raw } of generated) {
      assert.match(rec.request_id, /^[0-9a-f]{32}$/, raw);
      assert.equal(rec.route, 'Health', raw);
    }
    assert.notEqual(generated[0].rec.request_id, generated[1].rec.request_id);

    // Nothing secret in any request line, and the tokens, a rejected token, a body and a header
    // nowhere in wrangler's output. (wrangler's own access lines show the URL with its query
    // string, as `wrangler tail` does: that is the platform's, not a line of the Worker.)
    for (const { raw } of requestLines(w.logFile)) {
      for (const secret of [ADMIN_TOKEN, STOREFRONT_TOKEN, wrongToken, bodySecret, querySecret, 'Bearer']) {
        assert.ok(!raw.includes(secret), `a request line contains ${JSON.stringify(secret)}: ${raw}`);
      }
    }
    const log = fs.readFileSync(w.logFile, 'utf8');
    for (const secret of [ADMIN_TOKEN, STOREFRONT_TOKEN, wrongToken, bodySecret]) {
      assert.ok(!log.includes(secret), `wrangler's output contains ${JSON.stringify(secret)}`);
    }
  });
});

describe('REQUEST_LOG=errors: only answers of 400 and above get a line', () => {
  let w;
  before(async () => {
    w = await start({ vars: { REQUEST_LOG: 'errors' } });
  });
  after(async () => {
    await w?.discard();
  });

  test('a 200 writes nothing, a 404 and a 401 write their line', async () => {
    const ok = ray();
    const missing = ray();
    const refused = ray();
    assert.equal((await request(w.url, 'GET', '/healthz', { headers: { 'cf-ray': ok } })).status, 200);
    assert.equal((await request(w.url, 'GET', '/no/such/route', { token: ADMIN_TOKEN, headers: { 'cf-ray': missing } })).status, 404);
    assert.equal((await request(w.url, 'GET', '/v1/skus/X/journal', { token: 'wrong', headers: { 'cf-ray': refused } })).status, 401);
    // A request after the three, logged, marks that their lines had time to arrive.
    const last = ray();
    await request(w.url, 'GET', '/v1/nothing-here', { token: ADMIN_TOKEN, headers: { 'cf-ray': last } });
    await until(() => requestLines(w.logFile).some((l) => l.rec.request_id === last), { timeoutMs: 10_000, everyMs: 100 });
    const ids = requestLines(w.logFile).map((l) => l.rec.request_id);
    assert.ok(ids.includes(missing) && ids.includes(refused), ids.join('\n'));
    assert.ok(!ids.includes(ok), 'a 200 was logged');
  });
});
