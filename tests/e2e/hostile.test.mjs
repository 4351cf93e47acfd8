// Hostile input end to end: bodies that name a JSON member twice (read differently by a proxy
// that keeps the first value and by a parser that keeps the last), and SKUs made of dot or empty
// segments (`../../etc/passwd`). Each is refused before anything is written, and the SKU grammar
// the Worker applies is the `Sku` pattern openapi.json publishes. Then a table of hostile
// requests (issue 14 point 5): each is answered with its documented status — a 4xx
// application/problem+json with a stable `type` and the field at fault where there is one, or
// the first answer again for a replay — and changes nothing: every watched SKU's journal, the
// availability of those SKUs, the held reservations and the alerts are read before and after
// each case and must be equal.
//
//   node --test tests/e2e/hostile.test.mjs

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { assertOk, assertProblem, fieldsOf } from './lib/expect.mjs';
import { document } from './lib/openapi.mjs';
import { api, start, unique } from './lib/worker.mjs';
import { fixtures, hostileCases } from './lib/hostile_cases.mjs';
import { startEbaySim } from '../sim/ebay.mjs';

const enc = encodeURIComponent;

describe('hostile input', () => {
  let w;
  let a;

  before(async () => {
    w = await start();
    a = api(w.url);
  });

  after(async () => {
    await w?.discard();
  });

  const stockPath = (sku) => `/v1/skus/${enc(sku)}/stock`;
  const getSku = (sku) => a.admin('GET', `/v1/skus/${enc(sku)}`);
  const available = async (sku) =>
    assertOk(await a.storefront('GET', `/v1/availability?sku=${enc(sku)}`), 200, `availability ${sku}`).items[0];

  async function stocked(prefix, onHand) {
    const sku = unique(prefix);
    assertOk(await a.admin('PUT', stockPath(sku), { on_hand: onHand }), 200, `stock ${sku}`);
    return sku;
  }

  /** A 400 invalid-json whose detail names `member` and the pointer of its object. */
  function assertDuplicate(r, member, pointer, what) {
    const p = assertProblem(r, 400, 'invalid-json', what);
    assert.ok(p.detail.includes(JSON.stringify(member)), `${what}: detail names ${member}: ${p.detail}`);
    assert.ok(p.detail.includes(JSON.stringify(pointer)), `${what}: detail names ${pointer}: ${p.detail}`);
    return p;
  }

  // -------------------------------------------------------------------------------------------
  describe('a JSON member named twice is 400 invalid-json, whichever value would have won', () => {
    test('reservation line with qty -1 then 1: refused, nothing held', async () => {
      const sku = await stocked('DUP-RES', 5);
      const body = `{"lines":[{"sku":${JSON.stringify(sku)},"qty":-1,"qty":1}]}`;
      assertDuplicate(await a.storefront('POST', '/v1/reservations', body), 'qty', '/lines/0', 'reserve');
      const item = await available(sku);
      assert.equal(item.available, 5, 'nothing held');
      assert.equal(item.version, 1, 'the ledger did not move');
    });

    test('PUT stock with on_hand 5 then 50: refused, the level stays', async () => {
      const sku = await stocked('DUP-PUT', 7);
      const r = await a.admin('PUT', stockPath(sku), '{"on_hand":5,"on_hand":50}');
      assertDuplicate(r, 'on_hand', '', 'PUT stock');
      assert.equal(assertOk(await getSku(sku), 200, 'GET').on_hand, 7);
      const fresh = unique('DUP-NEW');
      assertDuplicate(await a.admin('PUT', stockPath(fresh), '{"on_hand":5,"on_hand":50}'), 'on_hand', '', 'new SKU');
      assertProblem(await getSku(fresh), 404, 'sku-not-found', 'not created');
    });

    test('sale whose first order_id is invalid and second valid: refused, nothing sold', async () => {
      const sku = await stocked('DUP-SALE', 4);
      const order = unique('o');
      const body =
        `{"channel":"amazon","order_id":"not valid","order_id":${JSON.stringify(order)},` +
        `"lines":[{"sku":${JSON.stringify(sku)},"qty":1}]}`;
      assertDuplicate(await a.admin('POST', '/v1/sales', body), 'order_id', '', 'sale');
      const level = assertOk(await getSku(sku), 200, 'GET');
      assert.equal(level.committed, 0, 'nothing sold');
      assert.equal(level.version, 1);
    });

    test('a repeated member deep inside a catalogue body: refused, no product created', async () => {
      const sku = unique('DUP-CAT');
      const r = await a.admin('PUT', `/v1/products/${enc(sku)}`, '{"title":"Box","components":[{"sku":"C1","qty":1,"sku":"C2"}]}');
      assertDuplicate(r, 'sku', '/components/0', 'catalogue PUT');
      assertProblem(await a.admin('GET', `/v1/products/${enc(sku)}`), 404, 'not-found', 'not created');
      assertDuplicate(
        await a.admin('PUT', `/v1/products/${enc(sku)}`, '{"title":"a","title":"b"}'),
        'title',
        '',
        'top-level duplicate',
      );
    });

    test('the same name in sibling objects is fine', async () => {
      const a1 = await stocked('SIB-A', 3);
      const b1 = await stocked('SIB-B', 3);
      const body = `{"lines":[{"sku":${JSON.stringify(a1)},"qty":1},{"sku":${JSON.stringify(b1)},"qty":1}]}`;
      assertOk(await a.storefront('POST', '/v1/reservations', body), 201, 'reserve two lines');
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('SKUs of dot or empty segments are 422 naming the field, and nothing is created', () => {
    test('PUT /v1/skus/..%2F..%2Fetc%2Fpasswd/stock', async () => {
      const r = await a.admin('PUT', '/v1/skus/..%2F..%2Fetc%2Fpasswd/stock', { on_hand: 1 });
      const p = assertProblem(r, 422, 'validation-failed', 'dot segments in the path');
      assert.deepEqual(fieldsOf(p), ['sku']);
      assertProblem(await getSku('etc/passwd'), 404, 'sku-not-found', 'no normalised SKU either');
      assertProblem(await getSku('../../etc/passwd'), 422, 'validation-failed', 'GET refuses it too');
    });

    test('A/../../B, /A, A/ and A//B in the path', async () => {
      const base = unique('SEG');
      for (const sku of [`${base}/../../B`, `/${base}`, `${base}/`, `${base}//B`, `${base}/./B`]) {
        const p = assertProblem(await a.admin('PUT', stockPath(sku), { on_hand: 1 }), 422, 'validation-failed', sku);
        assert.deepEqual(fieldsOf(p), ['sku'], sku);
      }
      for (const sku of [base, `${base}/B`]) {
        assertProblem(await getSku(sku), 404, 'sku-not-found', `${sku} not created`);
      }
    });

    test('in bodies: a reservation line, a sale line, a bundle component', async () => {
      const good = await stocked('SEG-OK', 5);
      const res = assertProblem(
        await a.storefront('POST', '/v1/reservations', { lines: [{ sku: good, qty: 1 }, { sku: '../x', qty: 1 }] }),
        422,
        'validation-failed',
        'reservation',
      );
      assert.deepEqual(fieldsOf(res), ['lines[1].sku']);
      assert.equal((await available(good)).available, 5, 'no partial hold');

      const sale = assertProblem(
        await a.admin('POST', '/v1/sales', { channel: 'amazon', order_id: unique('o'), lines: [{ sku: 'A/../B', qty: 1 }] }),
        422,
        'validation-failed',
        'sale',
      );
      assert.deepEqual(fieldsOf(sale), ['lines[0].sku']);

      const bundle = unique('SEG-BUNDLE');
      const cat = assertProblem(
        await a.admin('PUT', `/v1/products/${enc(bundle)}`, { components: [{ sku: 'x/', qty: 1 }] }),
        422,
        'validation-failed',
        'component',
      );
      assert.deepEqual(fieldsOf(cat), ['components[0].sku']);
      assertProblem(await a.admin('GET', `/v1/products/${enc(bundle)}`), 404, 'not-found', 'bundle not created');
    });

    test('the Worker applies exactly the Sku pattern of openapi.json', async () => {
      const schema = document.components.schemas.Sku;
      const pattern = new RegExp(schema.pattern, 'u');
      const published = (s) => s.length >= schema.minLength && s.length <= schema.maxLength && pattern.test(s);
      const cases = [
        'A', 'TSHIRT-RED/M_1.0', '...', '.a', 'a.', '..a', 'a..', 'a/...', '.hidden/x', 'x'.repeat(64), 'x'.repeat(65),
        '.', '..', '/', '//', '/a', 'a/', 'a//b', './a', 'a/.', '../a', 'a/..', 'a/./b', 'a/../b', 'a b', 'a:b',
      ];
      // Short strings over the characters the rule is about, from a fixed seed.
      let seed = 20261201;
      const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
      const alphabet = 'a./';
      for (let i = 0; i < 40; i++) {
        const len = 1 + (next() % 6);
        cases.push(Array.from({ length: len }, () => alphabet[next() % alphabet.length]).join(''));
      }
      // Asked in a query string: a path would have its `.` and `..` segments removed by URL
      // normalisation before the Worker saw them (the path cases above encode the `/`).
      const mismatches = [];
      for (const sku of new Set(cases)) {
        const r = await a.storefront('GET', `/v1/availability?sku=${enc(sku)}`);
        const refused = r.status === 422;
        if (refused) assert.deepEqual(fieldsOf(r.body), ['sku[0]'], JSON.stringify(sku));
        else assert.equal(assertOk(r, 200, `unknown ${JSON.stringify(sku)}`).items[0].sku, sku);
        if (refused === published(sku)) mismatches.push(`${JSON.stringify(sku)}: Worker ${r.status}, pattern ${published(sku)}`);
      }
      assert.deepEqual(mismatches, []);
    });
  });
  // -------------------------------------------------------------------------------------------
  describe('the hostile table: each case is refused (or replayed) and nothing changes', () => {
    let eb;
    let fx;

    before(async () => {
      eb = await startEbaySim();
      fx = await fixtures(a, eb, w.url);
    });

    after(async () => {
      await eb?.close();
    });

    /**
     * Everything a case could change, read at once: the journal of every watched SKU, their
     * availability (strong: from the objects), the held reservations and all alerts.
     */
    async function snapshot(skus) {
      const [availability, alerts, ...rest] = await Promise.all([
        a.storefront('GET', `/v1/availability?consistency=strong&${skus.map((s) => `sku=${enc(s)}`).join('&')}`),
        a.admin('GET', '/v1/alerts?limit=1000'),
        ...fx.holds.map((id) => a.storefront('GET', `/v1/reservations/${enc(id)}`)),
        ...skus.map((s) => a.admin('GET', `/v1/skus/${enc(s)}/journal?limit=1000`)),
      ]);
      const read = (r) => ({ status: r.status, body: r.body });
      assert.equal(availability.status, 200, availability.text);
      assert.equal(alerts.status, 200, alerts.text);
      return {
        availability: availability.body.items,
        alerts: alerts.body.items,
        holds: rest.slice(0, fx.holds.length).map(read),
        journals: rest.slice(fx.holds.length).map(read),
      };
    }

    test('at least 100 cases, each answered as documented, none changing anything', async () => {
      const cases = hostileCases(fx);
      assert.ok(cases.length >= 100, `${cases.length} cases`);
      const names = new Set();
      const failures = [];
      for (const c of cases) {
        assert.ok(!names.has(c.name), `duplicate case name ${c.name}`);
        names.add(c.name);
        const skus = [...new Set([...fx.watched, ...(c.watch ?? [])])];
        const before = await snapshot(skus);
        const r = await c.send();
        try {
          if (c.type) {
            const p = assertProblem(r, c.status, c.type, c.name);
            if (c.fields) assert.deepEqual(fieldsOf(p), c.fields, `${c.name}: fields`);
          } else {
            assert.equal(r.status, c.status, `${c.name}: ${r.status} ${r.text}`);
          }
          c.check?.(r);
          assert.deepEqual(await snapshot(skus), before, `${c.name}: state changed`);
        } catch (e) {
          failures.push(e.message.split('\n')[0]);
          if (failures.length >= 30) break;
        }
      }
      assert.deepEqual(failures, []);
    });
  });
});
