// Flash-sale allotments end to end (docs/api.md, "Hot SKUs"): a SKU marked hot lends blocks of
// units to K allotment objects that answer its holds, and a SKU turns hot by itself above a hold
// rate. Two runtimes serve the file: one with the default settings, one with a low automatic
// hotness threshold (unique SKU names per test).
//
//   STOCKEDGE_SKIP_BUILD=1 node --test --test-concurrency=1 tests/e2e/allotments.test.mjs

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { assertOk, assertProblem, fieldsOf, journalSums, readJournal } from './lib/expect.mjs';
import { pool, sleep, unique, useRuntime } from './lib/worker.mjs';

const enc = encodeURIComponent;

/** The calls both runtimes' tests make, on runtime `a`. */
function calls(a) {
  return {
    stock: (sku, onHand) => a.admin('PUT', `/v1/skus/${enc(sku)}/stock`, { on_hand: onHand }),
    policy: (sku, body, headers) => a.admin('PUT', `/v1/skus/${enc(sku)}/policy`, body, headers),
    policyOf: async (sku) => assertOk(await a.admin('GET', `/v1/skus/${enc(sku)}/policy`), 200, `policy of ${sku}`),
    levels: async (sku) => assertOk(await a.admin('GET', `/v1/skus/${enc(sku)}`), 200, `GET ${sku}`),
    reserve: (body, headers) => a.storefront('POST', '/v1/reservations', body, headers),
  };
}

describe('flash-sale allotments', () => {
  const a = useRuntime();
  const { stock, policy, levels, reserve } = calls(a);
  const resAction = (id, action, body) => a.storefront('POST', `/v1/reservations/${enc(id)}/${action}`, body);
  const available = async (sku) =>
    assertOk(await a.storefront('GET', `/v1/availability?sku=${enc(sku)}`), 200, 'availability').items[0].available;

  async function hot(sku, onHand, { allotments = 4, block = 5, lease = 60 } = {}) {
    assertOk(await stock(sku, onHand), 200, `stock ${sku}`);
    const p = assertOk(await policy(sku, { hot: true, allotments, block, lease_seconds: lease }), 200, 'policy');
    assert.deepEqual(p, { sku, hot: true, source: 'operator', allotments, block, lease_seconds: lease });
  }

  test('the policy is validated and can be turned off', async () => {
    const sku = unique('HOTP');
    const bad = assertProblem(
      await policy(sku, { hot: true, allotments: 0, block: 100000, lease_seconds: 1 }),
      422,
      'validation-failed',
      'bad policy',
    );
    assert.deepEqual(fieldsOf(bad).sort(), ['allotments', 'block', 'lease_seconds']);
    const notBool = assertProblem(await policy(sku, { hot: 'yes', allotments: 2, block: 3, lease_seconds: 30 }), 422, 'validation-failed');
    assert.deepEqual(fieldsOf(notBool), ['hot']);
    const missing = assertProblem(await policy(sku, { hot: true }), 422, 'validation-failed', 'hot without its fields');
    assert.deepEqual(fieldsOf(missing).sort(), ['allotments', 'block', 'lease_seconds']);
    assertProblem(await policy(sku, '{"hot":'), 400, 'invalid-json', 'truncated');
    assertOk(await policy(sku, { hot: true, allotments: 2, block: 3, lease_seconds: 30 }), 200, 'on');
    assert.deepEqual(assertOk(await policy(sku, { hot: false }), 200, 'off'), { sku, hot: false });
    assertOk(await stock(sku, 3), 200, 'stock');
    const r = assertOk(await reserve({ lines: [{ sku, qty: 1 }] }), 201, 'hold after off');
    assert.ok(!r.id.startsWith('hot.'), `an ordinary SKU holds at its coordinator: ${r.id}`);
    const clientId = assertProblem(await reserve({ id: 'hot.1.x', lines: [{ sku, qty: 1 }] }), 422, 'validation-failed');
    assert.deepEqual(fieldsOf(clientId), ['id']);
  });

  test('200 concurrent holds over K = 4 on stock 50: exactly 50 held, 0 oversell', async () => {
    const sku = unique('HOT');
    await hot(sku, 50);
    const results = await pool(
      Array.from({ length: 200 }, (_, i) => () => reserve({ lines: [{ sku, qty: 1 }], reference: `cust-${i}` })),
      64,
    );
    const held = results.filter((r) => r.status === 201);
    const short = results.filter((r) => r.status === 409);
    assert.equal(held.length, 50, `statuses: ${JSON.stringify(results.map((r) => r.status))}`);
    assert.equal(short.length, 150);
    for (const r of short) assertProblem(r, 409, 'insufficient-stock', 'short');
    const homes = new Set(held.map((r) => r.body.id.split('.')[1]));
    assert.ok(homes.size > 1, `holds spread over allotments: ${[...homes]}`);
    for (const r of held) assert.equal(r.body.status, 'held');
    const l = await levels(sku);
    assert.equal(l.on_hand, 50);
    assert.equal(l.oversold, 0);
    assert.ok(l.reserved + l.committed <= l.on_hand, 'lent + held + committed within what the SKU may sell');
    await sleep(1500); // every allotment has reported its holds
    assert.equal(await available(sku), 0, 'nothing left to hold');
  });

  test('availability reports free units plus the unlent units of blocks', async () => {
    const sku = unique('HOTA');
    await hot(sku, 20, { allotments: 1, block: 8 });
    const r = assertOk(await reserve({ lines: [{ sku, qty: 3 }], reference: 'one' }), 201, 'hold');
    assert.ok(r.id.startsWith('hot.0.'), r.id);
    const l = await levels(sku);
    assert.equal(l.reserved, 8, 'the block is lent whole');
    // The allotment reports its holds within REPORT_INTERVAL_MS (1 s).
    await sleep(1500);
    assert.equal(await available(sku), 17, '12 free + 5 unlent');
    assertOk(await resAction(r.id, 'release', {}), 200, 'release');
    await sleep(1500);
    assert.equal(await available(sku), 20);
  });

  test('a marketplace sale during the flash sale recalls blocks and is recorded', async () => {
    const sku = unique('HOTS');
    await hot(sku, 10, { allotments: 2, block: 5 });
    // Hold until the SKU has lent everything.
    const ids = [];
    for (let i = 0; i < 20 && ids.length < 4; i++) {
      const r = await reserve({ lines: [{ sku, qty: 1 }], reference: `c${i}` });
      if (r.status === 201) ids.push(r.body.id);
    }
    assert.equal(ids.length, 4);
    let l = await levels(sku);
    assert.ok(l.reserved >= 5, `blocks are lent: ${JSON.stringify(l)}`);
    const sale = await a.admin('POST', '/v1/sales', {
      channel: 'amazon',
      order_id: unique('AMZ'),
      lines: [{ sku, qty: 5 }],
    });
    assertOk(sale, 200, 'sale');
    l = await levels(sku);
    assert.equal(l.committed, 5);
    assert.equal(l.oversold, 0, `the blocks gave their free units back: ${JSON.stringify(l)}`);
    // The 4 customer holds still stand: 10 - 5 sold - 4 held = 1 left at most.
    for (const id of ids) {
      assert.equal(assertOk(await a.storefront('GET', `/v1/reservations/${enc(id)}`), 200, 'get').status, 'held');
    }
  });

  test('a commit from an allotment is in the SKU journal and can be fulfilled', async () => {
    const sku = unique('HOTC');
    await hot(sku, 6, { allotments: 2, block: 3 });
    const r = assertOk(await reserve({ lines: [{ sku, qty: 2 }], reference: 'buyer' }), 201, 'hold');
    const orderId = unique('ORD');
    const c = assertOk(await resAction(r.id, 'commit', { order_id: orderId }), 200, 'commit');
    assert.equal(c.status, 'committed');
    assert.equal(c.order_id, orderId);
    const again = assertOk(await resAction(r.id, 'commit', { order_id: orderId }), 200, 'commit again');
    assert.equal(again.status, 'committed');
    const entries = await readJournal(a, sku);
    const commits = entries.filter((e) => e.op === 'commit');
    assert.equal(commits.length, 1);
    assert.equal(commits[0].cause.reservation_id, r.id);
    assert.equal(commits[0].cause.order_id, orderId);
    assert.ok(entries.some((e) => e.op === 'lend'), 'the block is journaled');
    const l = await levels(sku);
    assert.equal(l.committed, 2);
    const sums = journalSums(entries);
    assert.deepEqual(sums, { on_hand: l.on_hand, reserved: l.reserved, committed: l.committed });
    const f = await a.admin('POST', '/v1/fulfilments', { order_id: orderId, lines: [{ sku, qty: 2 }] });
    assertOk(f, 200, 'fulfil');
    const after = await levels(sku);
    assert.equal(after.on_hand, 4);
    assert.equal(after.committed, 0);
  });

  test('leases expire and units return', async () => {
    const sku = unique('HOTL');
    await hot(sku, 4, { allotments: 1, block: 4, lease: 5 });
    const r = assertOk(await reserve({ lines: [{ sku, qty: 1 }], ttl_seconds: 600 }), 201, 'hold');
    const expiresIn = Date.parse(r.expires_at) - Date.now();
    assert.ok(expiresIn <= 5000, `a hold ends before its block's lease: ${r.expires_at}`);
    assert.equal((await levels(sku)).reserved, 4);
    await sleep(6500);
    const l = await levels(sku);
    assert.equal(l.reserved, 0, `the lease ended: ${JSON.stringify(l)}`);
    assert.equal(l.available, 4);
    const got = assertOk(await a.storefront('GET', `/v1/reservations/${enc(r.id)}`), 200, 'get');
    assert.equal(got.status, 'expired');
    // The allotment gives the block's free units back once it is too close to its lease to take
    // holds (reason `returned`); what it still held comes back when the lease ends.
    const entries = await readJournal(a, sku);
    const returned = entries.filter((e) => e.op === 'return').reduce((n, e) => n - e.deltas.reserved, 0);
    const lent = entries.filter((e) => e.op === 'lend').reduce((n, e) => n + e.deltas.reserved, 0);
    assert.equal(returned, lent, `every lent unit came back: ${JSON.stringify(entries.map((e) => [e.op, e.deltas, e.cause.reason]))}`);
  });
});

// Automatic hotness (docs/api.md, "Hot SKUs"): a runtime whose threshold is low enough for one
// load client to cross (the dev stack takes about 170 holds a second; production's default is
// 250 per SKU).
describe('automatic hotness above a hold rate', () => {
  const THRESHOLD = 10;
  const a = useRuntime({ vars: { HOT_AUTO_HOLDS_PER_SECOND: String(THRESHOLD) } });
  const { stock, policy, policyOf, levels, reserve } = calls(a);

  test('holds slower than the threshold leave a SKU ordinary', async () => {
    const sku = unique('AUTO-SLOW');
    assertOk(await stock(sku, 20), 200, 'stock');
    for (let i = 0; i < 6; i++) {
      const r = assertOk(await reserve({ lines: [{ sku, qty: 1 }], reference: `slow-${i}` }), 201, `hold ${i}`);
      assert.ok(!r.id.startsWith('hot.'), r.id);
      await sleep(1000 / (THRESHOLD / 2));
    }
    assert.deepEqual(await policyOf(sku), { sku, hot: false });
  });

  test('a stampede turns a SKU hot by itself; 230 holds on stock 60 hold exactly 60, 0 oversell', async () => {
    const sku = unique('AUTO');
    assertOk(await stock(sku, 60), 200, 'stock');
    assert.deepEqual(await policyOf(sku), { sku, hot: false });
    const hold = (i) => () => reserve({ lines: [{ sku, qty: 1 }], reference: `rush-${i}` });
    // The first wave reaches the SKU's own object, faster than the threshold.
    const first = await pool(Array.from({ length: 30 }, (_, i) => hold(i)), 16);
    for (const r of first) assert.equal(r.status, 201, JSON.stringify(r.body));
    // The Worker learned "not hot" just before (policyOf): the wave was held by the SKU itself.
    assert.ok(first.every((r) => !r.body.id.startsWith('hot.')), first.map((r) => r.body.id).join(' '));
    const p = await policyOf(sku);
    assert.equal(p.hot, true, `hot after ${first.length} quick holds: ${JSON.stringify(p)}`);
    assert.equal(p.source, 'automatic');
    assert.deepEqual([p.allotments, p.block, p.lease_seconds], [4, 10, 960]);
    assert.ok(Date.parse(p.automatic_since) <= Date.now() && Date.parse(p.last_demand_at) >= Date.parse(p.automatic_since), JSON.stringify(p));
    // The Worker looks at a SKU's policy again within HOT_CACHE_TTL_MS (2 s).
    await sleep(2100);
    const second = await pool(Array.from({ length: 200 }, (_, i) => hold(100 + i)), 64);
    const held = [...first, ...second].filter((r) => r.status === 201);
    const refused = second.filter((r) => r.status !== 201);
    for (const r of refused) assertProblem(r, 409, 'insufficient-stock', 'short');
    assert.equal(held.length, 60, `statuses: ${JSON.stringify(second.map((r) => r.status))}`);
    const hot = second.filter((r) => r.status === 201).map((r) => r.body.id);
    assert.ok(hot.length > 0 && hot.every((id) => id.startsWith('hot.')), `the second wave is held by allotments: ${hot}`);
    assert.ok(new Set(hot.map((id) => id.split('.')[1])).size > 1, 'spread over allotments');
    const l = await levels(sku);
    assert.equal(l.on_hand, 60);
    assert.equal(l.oversold, 0);
    assert.ok(l.reserved + l.committed <= l.on_hand, `lent + held + committed within what the SKU may sell: ${JSON.stringify(l)}`);
    // Still automatic (within its cool-down; that borrows extend it is a native test), and an
    // operator's policy overrides it.
    assert.equal((await policyOf(sku)).source, 'automatic');
    const op = assertOk(
      await policy(sku, { hot: true, allotments: 2, block: 5, lease_seconds: 60 }),
      200,
      'operator policy',
    );
    assert.equal(op.source, 'operator');
    assert.equal((await policyOf(sku)).source, 'operator');
    // Turning it ordinary ends automatic hotness too.
    assertOk(await policy(sku, { hot: false }), 200, 'off');
    assert.deepEqual(await policyOf(sku), { sku, hot: false });
  });
});
