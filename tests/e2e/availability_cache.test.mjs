// Availability near the customer and sold-out shedding (docs/api.md, Availability) against the
// Worker under workerd: the Cache API works under `wrangler dev`, a bounded read is answered from
// it within the staleness bound and shows the new value after it, `consistency=strong` always
// shows the ledger, ETag / If-None-Match → 304, and a hold the cache knows the ledger would
// refuse is refused at the edge with the object's own 409 — never a 201 it should not be.
//
// How a cached answer is told apart from the object's: an import (POST /v1/imports) changes stock
// through a path that does not touch the availability cache. Right after it, a bounded read still
// shows the version before (only the cache can answer that) and a hold is still refused (the
// object would hold it); once the bound has passed, both show the import.
//
// The runtime runs with a staleness bound of BOUND_MS (longer than the shipped 1 s, so that a
// loaded machine still does the steps that must fall within it in time; a step that did not is
// retried with a new SKU rather than judged).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { assertOk, assertProblem, fieldsOf } from './lib/expect.mjs';
import { validateResponse } from './lib/openapi.mjs';
import { api, parseMetrics, sleep, start, unique } from './lib/worker.mjs';

const BOUND_MS = 3_000;
const ATTEMPTS = 3;
const enc = encodeURIComponent;

describe('availability cache', () => {
  let w;
  let a;

  before(async () => {
    w = await start({ vars: { AVAILABILITY_MAX_STALENESS_MS: String(BOUND_MS) } });
    a = api(w.url);
  });

  after(async () => {
    await w?.discard();
  });

  const put = (sku, body) => a.admin('PUT', `/v1/skus/${enc(sku)}/stock`, body);
  const reserve = (body, headers) => a.storefront('POST', '/v1/reservations', body, headers);
  const read = (skus, query = '', headers = {}) =>
    a.storefront('GET', `/v1/availability?${skus.map((s) => `sku=${enc(s)}`).join('&')}${query}`, undefined, headers);
  /** Sets on_hand at each of `locations` through an import: the path that leaves the cache alone. */
  async function importStock(sku, onHand, locations = ['main']) {
    const r = await a.raw('POST', '/v1/imports?format=csv&mode=set', {
      token: 'dev-admin',
      body: `sku,quantity,location\n${locations.map((l) => `${sku},${onHand},${l}\n`).join('')}`,
      headers: { 'content-type': 'text/csv' },
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.summary.applied, locations.length, r.text);
  }
  function documented(r, what) {
    validateResponse('GET', '/v1/availability', r.status, r.headers.get('content-type'), r.text, r.headers);
    return what;
  }

  /**
   * Runs `body(sku, startedAt)` with a fresh SKU until it reports it finished its timed steps
   * within the bound (returns true); a run that was too slow (returns false) is tried again.
   */
  async function withinTheBound(prefix, body) {
    for (let i = 0; i < ATTEMPTS; i++) {
      if (await body(unique(prefix))) return;
    }
    assert.fail(`no attempt of ${prefix} finished its steps within ${BOUND_MS} ms: the machine is too slow for this bound`);
  }

  test('a bounded read is answered from the cache within the bound and shows the change after it', async () => {
    await withinTheBound('CACHED', async (sku) => {
      const first = assertOk(await put(sku, { on_hand: 5 }), 200, 'stock');
      const t0 = Date.now(); // before the read that fills the cache
      assertOk(await read([sku]), 200, 'the read that fills the cache');
      await importStock(sku, 9);
      const r = await read([sku]);
      const elapsed = Date.now() - t0;
      const body = assertOk(r, 200, 'bounded read');
      documented(r);
      if (elapsed >= BOUND_MS) return false;
      // Only the cache can still show the state before the import.
      assert.deepEqual(body.items, [{ sku, available: 5, sellable: 5, version: first.version }]);
      assert.match(r.headers.get('cache-control'), /^private, max-age=[0-3]$/);

      const strong = await read([sku], '&consistency=strong');
      assert.deepEqual(assertOk(strong, 200, 'strong').items, [{ sku, available: 9, sellable: 9, version: first.version + 1 }]);
      assert.equal(strong.headers.get('cache-control'), 'no-store');
      documented(strong);
      // The strong read refreshed the cache.
      assert.deepEqual(assertOk(await read([sku]), 200, 'after strong').items, strong.body.items);
      return true;
    });
  });

  test('a repeated bounded read is answered from the isolate\'s memory, a strong one from the object', async () => {
    const items = async () => {
      const m = parseMetrics((await a.admin('GET', '/v1/metrics')).text);
      const at = (source) => m[`stockedge_availability_items_total{source="${source}"}`];
      return { memory: at('memory'), cache: at('cache'), object: at('object') };
    };
    await withinTheBound('TIERS', async (sku) => {
      assertOk(await put(sku, { on_hand: 4 }), 200, 'stock');
      const t0 = Date.now();
      const before = await items();
      assertOk(await read([sku]), 200, 'the read that fills the cache');
      const filled = await items();
      assertOk(await read([sku]), 200, 'the same read again');
      const again = await items();
      if (Date.now() - t0 >= BOUND_MS) return false;
      // Under `wrangler dev` one isolate serves every request, so this one counts them all (and
      // other files' runtimes are their own).
      assert.deepEqual(
        [filled.object - before.object, filled.memory - before.memory],
        [1, 0],
        `the first read asks the object: ${JSON.stringify({ before, filled })}`,
      );
      assert.deepEqual(
        [again.memory - filled.memory, again.cache - filled.cache, again.object - filled.object],
        [1, 0, 0],
        `the second is answered from memory, without the Cache API: ${JSON.stringify({ filled, again })}`,
      );
      assertOk(await read([sku], '&consistency=strong'), 200, 'strong');
      const strong = await items();
      assert.equal(strong.object - again.object, 1, 'a strong read asks the object');
      return true;
    });
  });

  test('after the bound the new value shows without a strong read', async () => {
    await withinTheBound('EXPIRES', async (sku) => {
      assertOk(await put(sku, { on_hand: 5 }), 200, 'stock');
      const t0 = Date.now();
      assertOk(await read([sku]), 200, 'the read that fills the cache');
      const filled = Date.now(); // the entry was observed before this
      await importStock(sku, 2);
      const early = assertOk(await read([sku]), 200, 'early read');
      if (Date.now() - t0 >= BOUND_MS) return false;
      assert.equal(early.items[0].available, 5, 'served from the cache');
      await sleep(filled + BOUND_MS + 50 - Date.now());
      const late = assertOk(await read([sku]), 200, 'read after the bound');
      assert.equal(late.items[0].available, 2, 'a cached item older than the bound never answers');
      return true;
    });
  });

  test('every write through the Worker forgets the SKUs it changed: the next read shows it', async () => {
    const sku = unique('WRITES');
    assertOk(await put(sku, { on_hand: 6 }), 200, 'stock');
    assert.equal(assertOk(await read([sku]), 200, 'read').items[0].available, 6);
    assertOk(await a.admin('POST', `/v1/skus/${enc(sku)}/adjustments`, { delta: -1, reason: 'damaged' }), 200, 'adjust');
    assert.equal(assertOk(await read([sku]), 200, 'after adjust').items[0].available, 5);
    const held = assertOk(await reserve({ lines: [{ sku, qty: 2 }] }), 201, 'hold');
    assert.equal(assertOk(await read([sku]), 200, 'after hold').items[0].available, 3);
    assertOk(await a.storefront('POST', `/v1/reservations/${held.id}/release`, {}), 200, 'release');
    assert.equal(assertOk(await read([sku]), 200, 'after release').items[0].available, 5);
    const sale = { channel: 'amazon', order_id: unique('O'), lines: [{ sku, qty: 4 }] };
    assertOk(await a.admin('POST', '/v1/sales', sale), 200, 'sale');
    assert.equal(assertOk(await read([sku]), 200, 'after sale').items[0].available, 1);
    assertOk(await a.admin('POST', `/v1/sales/amazon/${sale.order_id}/cancel`, {}), 200, 'cancel');
    assert.equal(assertOk(await read([sku]), 200, 'after cancel').items[0].available, 5);
  });

  test('ETag and If-None-Match: 304 with no body while nothing changed', async () => {
    const [s1, s2] = [unique('TAG-A'), unique('TAG-B')];
    assertOk(await put(s1, { on_hand: 3 }), 200, 'stock');
    const r = await read([s1, s2]);
    assertOk(r, 200, 'read');
    const tag = r.headers.get('etag');
    assert.match(tag, /^"[0-9a-f]{32}"$/);
    for (const inm of [tag, `W/${tag}`, `"nope", ${tag}`, '*']) {
      const again = await read([s1, s2], '', { 'if-none-match': inm });
      assert.equal(again.status, 304, `If-None-Match: ${inm}`);
      assert.equal(again.text, '');
      assert.equal(again.headers.get('etag'), tag);
      assert.match(again.headers.get('cache-control'), /^private, max-age=\d+$/);
      documented(again);
    }
    assert.equal((await read([s1, s2], '', { 'if-none-match': '"nope"' })).status, 200);
    assert.equal((await read([s2, s1], '', { 'if-none-match': tag })).status, 200, 'another order is another answer');
    const strong = await read([s1, s2], '&consistency=strong', { 'if-none-match': tag });
    assert.equal(strong.status, 304, 'the same items under a strong read');
    assert.equal(strong.headers.get('cache-control'), 'no-store');
    assertOk(await put(s1, { on_hand: 4 }), 200, 'a change');
    const changed = await read([s1, s2], '', { 'if-none-match': tag });
    assert.equal(assertOk(changed, 200, 'changed').items[0].available, 4);
    assert.notEqual(changed.headers.get('etag'), tag);
  });

  test('consistency is bounded or strong, anything else is named', async () => {
    const p = assertProblem(await read(['A', 'bad sku'], '&consistency=eventual'), 422, 'validation-failed', 'bad');
    assert.deepEqual(fieldsOf(p), ['sku[1]', 'consistency']);
  });

  test('a SKU read as sold out is refused at the edge with the object\'s own 409', async () => {
    await withinTheBound('SOLDOUT', async (sku) => {
      const lines = [{ sku, qty: 2, location: 'east' }, { sku, qty: 1 }];
      assertOk(await put(sku, { on_hand: 0 }), 200, 'stock 0');
      const t0 = Date.now(); // before the read that fills the cache
      assert.equal(assertOk(await read([sku]), 200, 'read').items[0].sellable, 0);
      // The object's refusal of the same lines (a request with an id is never shed).
      const object = await reserve({ id: unique('res'), lines });
      assertProblem(object, 409, 'insufficient-stock', 'object refusal');
      assert.deepEqual(object.body.lines, [{ sku, location: 'east', requested: 2, available: 0 }]);
      await importStock(sku, 10, ['east', 'main']);
      const edge = await reserve({ lines });
      if (Date.now() - t0 >= BOUND_MS) return false;
      // Stock exists now: only the edge refuses this, and with the object's body byte for byte.
      assertProblem(edge, 409, 'insufficient-stock', 'edge refusal');
      assert.equal(edge.text, object.text);
      assert.equal(edge.headers.get('content-type'), object.headers.get('content-type'));
      // Named requests go to the object, which holds.
      assertOk(await reserve({ id: unique('res'), lines }), 201, 'named hold');
      return true;
    });
  });

  test('an object\'s refusal records the SKU as sold out; the restock shows within the bound', async () => {
    await withinTheBound('REFUSED', async (sku) => {
      assertOk(await put(sku, { on_hand: 1 }), 200, 'stock 1');
      assertOk(await reserve({ lines: [{ sku, qty: 1 }] }), 201, 'the last unit');
      const t0 = Date.now(); // before the refusal that teaches the cache
      const object = await reserve({ lines: [{ sku, qty: 1 }] });
      assertProblem(object, 409, 'insufficient-stock', 'object refusal');
      const taught = Date.now(); // the refusal was observed before this
      await importStock(sku, 6);
      const edge = await reserve({ lines: [{ sku, qty: 1 }] });
      if (Date.now() - t0 >= BOUND_MS) return false;
      assertProblem(edge, 409, 'insufficient-stock', 'edge refusal after a restock, within the bound');
      assert.equal(edge.text, object.text);
      await sleep(taught + BOUND_MS + 50 - Date.now());
      assertOk(await reserve({ lines: [{ sku, qty: 1 }] }), 201, 'after the bound the restock is held');
      return true;
    });
  });

  test('no false 201 under a burst: 50 concurrent holds on stock 5 hold exactly 5', async () => {
    const sku = unique('BURST');
    assertOk(await put(sku, { on_hand: 5 }), 200, 'stock 5');
    assertOk(await read([sku]), 200, 'cache filled with 5 available');
    const answers = await Promise.all(Array.from({ length: 50 }, () => reserve({ lines: [{ sku, qty: 1 }] })));
    // wrangler's dev proxy (not the Worker) can lose its connection to the runtime under load
    // and answer 503 "Your worker restarted mid-request" itself (main shows it too; see
    // ledger.test.mjs); the Worker may or may not have held such a request. Counted apart.
    const lost = answers.filter((r) => r.proxyRestart).length;
    const others = answers.filter((r) => r.status !== 201 && r.status !== 409 && !r.proxyRestart);
    assert.deepEqual(others.map((r) => `${r.status} ${r.text}`), [], 'every hold is held or refused');
    const held = answers.filter((r) => r.status === 201).length;
    const refused = answers.filter((r) => r.status === 409);
    assert.ok(held <= 5, `never a false 201: ${held} held of 5`);
    if (lost === 0) assert.deepEqual([held, refused.length], [5, 45]);
    else console.log(`burst: ${lost} requests lost by wrangler's dev proxy; log ${w.logFile}`);
    for (const r of refused) {
      assertProblem(r, 409, 'insufficient-stock', 'burst refusal');
      assert.deepEqual(r.body.lines, [{ sku, location: 'main', requested: 1, available: 0 }]);
    }
    const state = assertOk(await a.admin('GET', `/v1/skus/${enc(sku)}`), 200, 'state');
    assert.ok(state.reserved >= held && state.reserved <= Math.min(5, held + lost), `reserved ${state.reserved}`);
    const strong = assertOk(await read([sku], '&consistency=strong'), 200, 'strong');
    assert.equal(strong.items[0].available, 5 - state.reserved);
  });
});
