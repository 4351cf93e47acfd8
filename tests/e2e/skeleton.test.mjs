// Walking-skeleton acceptance: the Worker under workerd holds exactly the stock it has under
// 200 concurrent reservations, keeps it across a restart, and answers every error as a problem.
//
//   node --test --test-concurrency=1 tests/e2e/

import assert from 'node:assert/strict';
import dc from 'node:diagnostics_channel';
import { after, before, describe, test } from 'node:test';

import { assertProblem } from './lib/expect.mjs';
import { api, latencyLine, request, start, unique } from './lib/worker.mjs';

describe('walking skeleton', () => {
  let w;
  let a;
  const sku = unique('SKEL');

  before(async () => {
    w = await start();
    a = api(w.url);
  });

  after(async () => {
    await w?.discard();
  });

  test('200 concurrent single-unit reservations against stock 50: exactly 50 held', async () => {
    const put = await a.admin('PUT', `/v1/skus/${sku}/stock`, { on_hand: 50 });
    assert.equal(put.status, 200, put.text);
    assert.equal(put.body.on_hand, 50);
    assert.equal(put.body.available, 50);

    // Count the TCP connections the burst opens (undici publishes each one).
    let connections = 0;
    const onConnect = () => connections++;
    dc.subscribe('undici:client:connected', onConnect);
    let results;
    try {
      results = await Promise.all(
        Array.from({ length: 200 }, () =>
          a.storefront('POST', '/v1/reservations', { lines: [{ sku, qty: 1 }] }),
        ),
      );
    } finally {
      dc.unsubscribe('undici:client:connected', onConnect);
    }
    console.log(latencyLine('reserve (200 concurrent, stock 50)', results.map((r) => r.ms)));
    console.log(`reserve burst used ${connections} new connections`);

    const created = results.filter((r) => r.status === 201);
    const refused = results.filter((r) => r.status === 409);
    const other = results.filter((r) => r.status !== 201 && r.status !== 409);
    assert.deepEqual(other.map((r) => `${r.status} ${r.text}`), [], 'only 201 and 409 answers');
    assert.equal(created.length, 50, 'exactly 50 × 201');
    assert.equal(refused.length, 150, 'exactly 150 × 409');
    for (const r of refused) {
      assertProblem(r, 409, 'insufficient-stock', 'refused reservation');
      assert.equal(r.body.lines?.[0]?.sku, sku);
      assert.equal(r.body.lines[0].requested, 1);
      assert.equal(r.body.lines[0].available, 0);
    }
    for (const r of created) {
      assert.equal(r.body.status, 'held');
      assert.deepEqual(r.body.lines, [{ sku, qty: 1, location: 'main' }]);
    }
    assert.equal(new Set(created.map((r) => r.body.id)).size, 50, 'every hold has its own id');
    assert.ok(connections >= 16, `at least 16 parallel connections (saw ${connections})`);

    const av = await a.storefront('GET', `/v1/availability?sku=${sku}`);
    assert.equal(av.status, 200, av.text);
    assert.equal(av.body.items[0].sku, sku);
    assert.equal(av.body.items[0].available, 0);

    const s = await a.admin('GET', `/v1/skus/${sku}`);
    assert.equal(s.status, 200, s.text);
    assert.equal(s.body.on_hand, 50);
    assert.equal(s.body.reserved, 50);
    assert.equal(s.body.committed, 0);
    assert.equal(s.body.available, 0);
  });

  test('a restart on the same state directory brings the same numbers back', async () => {
    const beforeRestart = await a.admin('GET', `/v1/skus/${sku}`);
    assert.equal(beforeRestart.status, 200);
    const stateDir = w.stateDir;
    await w.stop();
    // A stopped runtime really is gone.
    await assert.rejects(request(w.url, 'GET', '/healthz', { signal: AbortSignal.timeout(2_000) }));
    w = await start({ stateDir });
    a = api(w.url);

    const s = await a.admin('GET', `/v1/skus/${sku}`);
    assert.equal(s.status, 200, s.text);
    assert.equal(s.body.on_hand, 50);
    assert.equal(s.body.reserved, 50);
    assert.equal(s.body.available, 0);
    assert.equal(s.body.version, beforeRestart.body.version, 'nothing changed across the restart');
    const av = await a.storefront('GET', `/v1/availability?sku=${sku}`);
    assert.equal(av.status, 200, av.text);
    assert.equal(av.body.items[0].available, 0);
    // Still refusing: the holds survived.
    const more = await a.storefront('POST', '/v1/reservations', { lines: [{ sku, qty: 1 }] });
    assertProblem(more, 409, 'insufficient-stock', 'reservation after restart');
  });

  describe('errors are problem documents', () => {
    test('unknown route → 404 not-found', async () => {
      assertProblem(await a.admin('GET', '/v1/no-such-thing'), 404, 'not-found', 'unknown route');
      assertProblem(await a.storefront('POST', '/v1/reservations/x/nope', {}), 404, 'not-found', 'unknown action');
      // The token is checked first: without one, any non-public path is 401 (docs/api.md).
      assertProblem(await a.anon('GET', '/nope'), 401, 'unauthorized', 'unknown route, no token');
      // Public paths need none.
      const h = await a.anon('GET', '/healthz');
      assert.equal(h.status, 200);
      assert.equal(h.body.status, 'ok');
      const page = await a.anon('GET', '/problems/insufficient-stock');
      assert.equal(page.status, 200);
      assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    });

    test('wrong method → 405 with Allow', async () => {
      const r = await a.storefront('DELETE', '/v1/reservations');
      assertProblem(r, 405, 'method-not-allowed', 'DELETE /v1/reservations');
      assert.equal(r.headers.get('allow'), 'POST');
      const g = await a.admin('POST', `/v1/skus/${sku}`, {});
      assertProblem(g, 405, 'method-not-allowed', 'POST /v1/skus/{sku}');
      assert.match(g.headers.get('allow') ?? '', /GET/);
    });

    test('bad JSON → 400 invalid-json', async () => {
      assertProblem(await a.storefront('POST', '/v1/reservations', '{"lines": ['), 400, 'invalid-json', 'truncated JSON');
      assertProblem(await a.admin('PUT', `/v1/skus/${sku}/stock`, '[1,2]'), 400, 'invalid-json', 'JSON array body');
    });

    test('bad SKU → 422 validation-failed naming sku', async () => {
      for (const [method, path, body] of [
        ['GET', '/v1/skus/bad%20sku'],
        ['PUT', '/v1/skus/bad%20sku/stock', { on_hand: 1 }],
      ]) {
        const r = await a.admin(method, path, body);
        const p = assertProblem(r, 422, 'validation-failed', `${method} ${path}`);
        assert.ok(Array.isArray(p.errors), r.text);
        assert.deepEqual(p.errors.map((e) => e.field), ['sku'], r.text);
      }
      const inBody = await a.storefront('POST', '/v1/reservations', { lines: [{ sku: 'bad sku', qty: 1 }] });
      const p = assertProblem(inBody, 422, 'validation-failed', 'bad SKU in a line');
      assert.deepEqual(p.errors.map((e) => e.field), ['lines[0].sku']);
    });

    test('qty 0 and qty -1 → 422 naming lines[0].qty, nothing held', async () => {
      for (const qty of [0, -1]) {
        const r = await a.storefront('POST', '/v1/reservations', { lines: [{ sku, qty }] });
        const p = assertProblem(r, 422, 'validation-failed', `qty ${qty}`);
        assert.deepEqual(p.errors.map((e) => e.field), ['lines[0].qty'], r.text);
      }
      const s = await a.admin('GET', `/v1/skus/${sku}`);
      assert.equal(s.body.reserved, 50);
    });

    test('missing token → 401 with WWW-Authenticate', async () => {
      const r = await a.anon('POST', '/v1/reservations', { lines: [{ sku, qty: 1 }] });
      assertProblem(r, 401, 'unauthorized', 'no token');
      assert.match(r.headers.get('www-authenticate') ?? '', /^Bearer/);
      assertProblem(await a.anon('GET', `/v1/availability?sku=${sku}`), 401, 'unauthorized', 'no token, availability');
    });

    test('storefront token on an admin route → 403', async () => {
      assertProblem(await a.storefront('GET', `/v1/skus/${sku}`), 403, 'forbidden', 'storefront GET sku');
      assertProblem(await a.storefront('PUT', `/v1/skus/${sku}/stock`, { on_hand: 1000 }), 403, 'forbidden', 'storefront PUT stock');
      const s = await a.admin('GET', `/v1/skus/${sku}`);
      assert.equal(s.body.on_hand, 50, 'the refused PUT changed nothing');
    });

    test('wrong token → 401', async () => {
      const r = await a.raw('GET', `/v1/availability?sku=${sku}`, { token: 'not-a-token' });
      assertProblem(r, 401, 'unauthorized', 'wrong token');
      const r2 = await a.raw('GET', `/v1/skus/${sku}`, { token: 'dev-admin-x' });
      assertProblem(r2, 401, 'unauthorized', 'wrong admin token');
    });
  });
});
