// ERP snapshots end to end (docs/erp.md, docs/api.md "ERP snapshots"): the cases against
// the Worker under workerd — a snapshot taken before 3 storefront sales and arriving after them
// leaves available right, one taken after the ERP received them does not subtract them again,
// out-of-order snapshots converge (the older answers `stale`), live holds are never disturbed,
// faults name their fields, and a keyed repeat answers the first answer.
//
//   STOCKEDGE_SKIP_BUILD=1 node --test --test-concurrency=1 tests/e2e/erp_snapshots.test.mjs

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { assertOk, assertProblem, fieldsOf, readJournal } from './lib/expect.mjs';
import { validateResponse } from './lib/openapi.mjs';
import { atLocation } from './lib/reads.mjs';
import { unique, useRuntime } from './lib/worker.mjs';

const enc = encodeURIComponent;
const CSV = { 'content-type': 'text/csv' };

describe('ERP snapshots', () => {
  const a = useRuntime();

  async function snapshot(body, headers) {
    const r = await a.admin('POST', '/v1/erp/snapshots', body, headers);
    validateResponse('POST', '/v1/erp/snapshots', r.status, r.headers.get('content-type'), r.text, r.headers);
    return r;
  }

  /** One line of `sku` at main, as of document sequence `sequence`. */
  const line = (id, sku, quantity, sequence, extra = {}) => ({
    snapshot: id,
    basis: 'available',
    as_of: { sequence },
    ...extra.top,
    lines: [{ sku, quantity, ...extra.line }],
  });

  const level = (sku) => atLocation(a, sku);

  /** 10 available from a first snapshot, then 3 storefront checkouts of 1 committed. */
  async function threeSales(prefix) {
    const sku = unique(prefix);
    const first = assertOk(await snapshot(line('s0', sku, 10, 1)), 200, 'first snapshot');
    assert.deepEqual(first.items, [{ sku, location: 'main', effect: 'applied', on_hand: 10, available: 10, version: 1 }]);
    const orders = [];
    for (let i = 0; i < 3; i++) {
      const r = assertOk(await a.storefront('POST', '/v1/reservations', { lines: [{ sku, qty: 1 }] }), 201, 'hold');
      const orderId = unique('order');
      assertOk(await a.storefront('POST', `/v1/reservations/${enc(r.id)}/commit`, { order_id: orderId }), 200, 'commit');
      orders.push(orderId);
    }
    assert.equal((await level(sku)).available, 7);
    return { sku, orders };
  }

  test('a snapshot taken before 3 sales and arriving after them leaves available right (not 3 too high)', async () => {
    const { sku } = await threeSales('ERP-BEFORE');
    const r = assertOk(await snapshot(line('s1', sku, 10, 2)), 200, 'late snapshot');
    assert.equal(r.items[0].effect, 'in_step');
    assert.equal(r.items[0].available, 7);
    assert.deepEqual(await level(sku), { location: 'main', on_hand: 10, reserved: 0, committed: 3, available: 7 });
  });

  test('a snapshot after the ERP received the sales does not subtract them again', async () => {
    const { sku, orders } = await threeSales('ERP-AFTER');
    const seen = orders.map((order_id) => ({ channel: 'direct', order_id }));
    const r = assertOk(await snapshot(line('s1', sku, 7, 2, { line: { seen_orders: seen } })), 200, 'snapshot');
    assert.equal(r.items[0].available, 7, 'not 3 too low');
    // The ERP received 5 more: on hand moves by 5 and the journal entry names the snapshot.
    const more = assertOk(await snapshot(line('s2', sku, 12, 3, { top: { seen_through: Date.now() } })), 200, 'more');
    assert.deepEqual(more.items[0], { sku, location: 'main', effect: 'applied', on_hand: 15, available: 12, version: more.items[0].version });
    const last = (await readJournal(a, sku)).at(-1);
    assert.equal(last.op, 'erp_snapshot');
    assert.deepEqual(last.cause, { snapshot: 's2' });
    assert.equal(last.deltas.on_hand, 5);
  });

  test('out-of-order snapshots converge: the older answers stale and changes nothing', async () => {
    const { sku } = await threeSales('ERP-ORDER');
    const newer = assertOk(await snapshot(line('s-new', sku, 12, 9, { top: { seen_through: Date.now() } })), 200);
    assert.equal(newer.items[0].available, 12);
    const older = assertOk(await snapshot(line('s-old', sku, 10, 8)), 200, 'older');
    assert.equal(older.items[0].effect, 'stale');
    assert.equal((await level(sku)).available, 12);
    const again = assertOk(await snapshot(line('s-new', sku, 12, 9, { top: { seen_through: Date.now() } })), 200);
    assert.equal(again.items[0].effect, 'stale', 'a repeat is stale');
  });

  test('a snapshot never disturbs live holds', async () => {
    const sku = unique('ERP-HOLD');
    assertOk(await snapshot(line('s0', sku, 5, 1)), 200);
    const hold = assertOk(await a.storefront('POST', '/v1/reservations', { lines: [{ sku, qty: 4 }] }), 201, 'hold');
    // The ERP sold 3 of its own: 2 available there.
    assertOk(await snapshot(line('s1', sku, 2, 2)), 200);
    assert.deepEqual(await level(sku), { location: 'main', on_hand: 2, reserved: 4, committed: 0, available: 0 });
    const h = assertOk(await a.storefront('GET', `/v1/reservations/${enc(hold.id)}`), 200, 'hold after');
    assert.equal(h.status, 'held');
  });

  test('faults name their fields; a point that cannot be compared is that line\'s problem', async () => {
    const bad = await a.admin('POST', '/v1/erp/snapshots', {
      snapshot: 's',
      basis: 'shelf',
      as_of: {},
      lines: [{ sku: 'a b', quantity: 'x', seen_orders: [{ channel: 'web' }] }],
    });
    validateResponse('POST', '/v1/erp/snapshots', bad.status, bad.headers.get('content-type'), bad.text, bad.headers);
    const p = assertProblem(bad, 422, 'validation-failed', 'bad body');
    for (const f of ['basis', 'as_of', 'lines[0].sku', 'lines[0].quantity', 'lines[0].seen_orders[0].order_id']) {
      assert.ok(fieldsOf(p).includes(f), `${f} in ${fieldsOf(p)}`);
    }
    const sku = unique('ERP-ASOF');
    const other = unique('ERP-ASOF');
    assertOk(await snapshot(line('s0', sku, 5, 1)), 200);
    const mixed = assertOk(
      await snapshot({
        snapshot: 's1',
        basis: 'available',
        as_of: { at: '2026-12-06T10:00:00Z' },
        lines: [{ sku, quantity: 6 }, { sku: other, quantity: 3 }],
      }),
      200,
    );
    assert.equal(mixed.items[0].problem.type, '/problems/validation-failed');
    assert.deepEqual(fieldsOf(mixed.items[0].problem), ['as_of']);
    assert.equal(mixed.items[1].effect, 'applied', 'lines are independent');
    assert.equal((await level(sku)).on_hand, 5);
  });

  test('a CSV snapshot (semicolons, a BOM) applies like JSON and names the same fields', async () => {
    const { sku } = await threeSales('ERP-CSV');
    const q = `format=csv&snapshot=sap-1&basis=available&as_of.sequence=2&seen_through=${Date.now()}`;
    const csv = `\ufeffItemCode;Quantity;SKU;Location\nX;7;${sku};main\n`;
    const r = await a.admin('POST', `/v1/erp/snapshots?${q}`, csv, CSV);
    validateResponse('POST', '/v1/erp/snapshots', r.status, r.headers.get('content-type'), r.text, r.headers);
    const body = assertOk(r, 200, 'csv snapshot');
    assert.deepEqual(body.items[0], { sku, location: 'main', effect: 'in_step', on_hand: 10, available: 7, version: body.items[0].version });
    const bad = await a.admin('POST', `/v1/erp/snapshots?${q}`, `sku,quantity\n${sku},lots\n`, CSV);
    assert.deepEqual(fieldsOf(assertProblem(bad, 422, 'validation-failed', 'bad csv')), ['lines[0].quantity']);
  });

  test('a keyed repeat answers the first answer byte for byte', async () => {
    const sku = unique('ERP-KEY');
    const key = unique('key');
    const body = line('s0', sku, 8, 1);
    const first = await snapshot(body, { 'idempotency-key': key });
    assertOk(first, 200);
    const again = await snapshot(body, { 'idempotency-key': key });
    assert.equal(again.text, first.text);
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
  });
});
