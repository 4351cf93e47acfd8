// ERP connectors end to end (docs/erp.md "Connections", docs/api.md "ERP connections"): the
// Worker polls the SAP Business One Service Layer simulator (tests/sim/sap_b1.mjs) — login
// cookies, Items paged by odata.nextLink and filtered by UpdateDate — and the Odoo JSON-2
// simulator (tests/sim/odoo.mjs), maps item and warehouse codes, lists what it cannot map, and
// applies the ERP's figures exactly once despite ~10 % injected failures (500, 503, 429 with
// Retry-After) and a session that times out mid-run; local changes at the ERP's locations are
// refused or forwarded.
//
//   STOCKEDGE_SKIP_BUILD=1 node --test --test-concurrency=1 tests/e2e/erp_connectors.test.mjs

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { assertOk, assertProblem, fieldsOf } from './lib/expect.mjs';
import { erpClient } from './lib/erp.mjs';
import { validateResponse } from './lib/openapi.mjs';
import { unique, until, useRuntime } from './lib/worker.mjs';
import { startSapB1Sim } from '../sim/sap_b1.mjs';
import { startOdooSim } from '../sim/odoo.mjs';

const enc = encodeURIComponent;
const SAP_CREDENTIALS = JSON.stringify({ CompanyDB: 'SBODEMOUS', UserName: 'manager', Password: 'secret' });

describe('ERP connectors: SAP Business One and Odoo', () => {
  const a = useRuntime({ vars: { SIM_SAP_B1: SAP_CREDENTIALS, SIM_ODOO_KEY: 'odoo-sim-key' } });
  let sap;
  let odoo;
  const ITEMS = 25;
  const conn = unique('sap');
  const sku = (i) => `SAPE2E-${conn}-${i}`;

  before(async () => {
    sap = await startSapB1Sim({
      items: [
        ...Array.from({ length: ITEMS }, (_, i) => ({ ItemCode: `A${String(i).padStart(3, '0')}`, warehouses: [{ WarehouseCode: '01', InStock: 10 + i, Committed: 2, Ordered: 100 }] })),
        { ItemCode: 'Z999', warehouses: [{ WarehouseCode: '01', InStock: 4 }] },
        { ItemCode: 'A000X', warehouses: [{ WarehouseCode: '99', InStock: 4 }] },
      ],
    });
  });
  after(() => Promise.all([sap?.close(), odoo?.close()]));

  const { call, available, pollUntilFinished: pollConnection } = erpClient(a);

  const pollUntilFinished = () => pollConnection(conn);

  test('a connection and its mappings are validated and stored', async () => {
    const bad = await call('PUT', `/v1/erp/connections/${enc(conn)}`, { kind: 'oracle', base_url: 'ftp://x', local_adjustments: 'allow' });
    assert.deepEqual(fieldsOf(assertProblem(bad, 422, 'validation-failed')), ['kind', 'base_url', 'local_adjustments']);
    const noCard = await call('PUT', `/v1/erp/connections/${enc(conn)}`, { kind: 'sap_b1', base_url: sap.url });
    assert.deepEqual(fieldsOf(assertProblem(noCard, 422, 'validation-failed')), ['settings.card_code']);
    // A connection that delivers orders names the customer they are booked to; stock only needs none.
    const other = unique('cust');
    const noCustomer = await call('PUT', `/v1/erp/connections/${enc(other)}`, { kind: 'netsuite', base_url: sap.url, settings: { page_size: 2 } });
    assert.deepEqual(fieldsOf(assertProblem(noCustomer, 422, 'validation-failed')), ['settings.customer_id']);
    const noPartner = await call('PUT', `/v1/erp/connections/${enc(other)}`, { kind: 'odoo', base_url: sap.url, settings: { orders: 'deliver', partner_id: '3' } });
    assert.deepEqual(fieldsOf(assertProblem(noPartner, 422, 'validation-failed')), ['settings.partner_id']);
    const badOrders = await call('PUT', `/v1/erp/connections/${enc(other)}`, { kind: 'netsuite', base_url: sap.url, settings: { orders: 'never', customer_id: '42' } });
    assert.deepEqual(fieldsOf(assertProblem(badOrders, 422, 'validation-failed')), ['settings.orders']);
    assert.equal((await call('GET', `/v1/erp/connections/${enc(other)}`)).status, 404, 'nothing stored');
    const c = assertOk(await call('PUT', `/v1/erp/connections/${enc(conn)}`, {
      kind: 'sap_b1', base_url: `${sap.url}/`, credentials_secret: 'SIM_SAP_B1', settings: { card_code: 'C20000', page_size: 10 },
    }), 200, 'put connection');
    assert.equal(c.base_url, sap.url);
    assert.equal(c.local_adjustments, 'refuse');
    const items = Object.fromEntries(Array.from({ length: ITEMS }, (_, i) => [`A${String(i).padStart(3, '0')}`, sku(i)]));
    const m = assertOk(await call('PUT', `/v1/erp/connections/${enc(conn)}/mappings`, { items, warehouses: { '01': 'main' } }), 200, 'mappings');
    assert.equal(Object.keys(m.items).length, ITEMS);
    const badMap = await call('PUT', `/v1/erp/connections/${enc(conn)}/mappings`, { items: { A: 'bad sku' } });
    assert.deepEqual(fieldsOf(assertProblem(badMap, 422, 'validation-failed')), ['items.A']);
    assertProblem(await call('GET', '/v1/erp/connections/nothing-here/mappings'), 404, 'not-found');
  });

  test('a poll reads every page despite ~10 % failures and applies each figure once', async () => {
    sap.faults.set({ rate: 0.1, kinds: ['500', '503', '429'], retryAfterSeconds: 1, seed: 7, paths: ['/b1s/v1/Items'] });
    const runs = await pollUntilFinished();
    const injected = sap.faults.history.length;
    sap.faults.clear();
    assert.ok(injected > 0, 'faults were injected');
    const total = runs.reduce((n, r) => n + r.rows, 0);
    assert.ok(total >= ITEMS + 1, `rows read ${total}`);
    assert.ok(runs.every((r) => r.result === 'ok' || r.result === 'error'), JSON.stringify(runs));
    // available = InStock − Committed; Ordered (purchase orders) is not on the shelf.
    for (const i of [0, 7, ITEMS - 1]) assert.equal(await available(sku(i)), 8 + i, `SKU ${i}`);
    const un = assertOk(await call('GET', `/v1/erp/unmapped?connection=${enc(conn)}`), 200, 'unmapped');
    assert.deepEqual(un.items.map((u) => [u.item, u.warehouse, u.missing]).sort(), [['A000X', '99', 'item'], ['Z999', '01', 'item']]);
    const st = assertOk(await call('GET', '/v1/erp/polls'), 200, 'polls').items.find((p) => p.connection === conn);
    assert.ok(st.state.watermark > 0, JSON.stringify(st));
    // A second poll reads the overlap again: the figures are the same, nothing moves.
    await pollUntilFinished();
    assert.equal(await available(sku(3)), 11);
  });

  test('a session that times out mid-run is renewed; storefront sales are not counted twice', async () => {
    const s = sku(4);
    const hold = assertOk(await a.storefront('POST', '/v1/reservations', { lines: [{ sku: s, qty: 2 }] }), 201, 'hold');
    const order = unique('o');
    assertOk(await a.storefront('POST', `/v1/reservations/${enc(hold.id)}/commit`, { order_id: order }), 200, 'commit');
    assert.equal(await available(s), 10);
    // The commit is also delivered to the ERP as a sales order (its own login); let that land
    // first, so that the only login counted below is the poll's.
    const delivered = await until(() => sap.ordersByRef(`direct/${order}|${s}`).length === 1, { timeoutMs: 30_000, everyMs: 100 });
    assert.ok(delivered, 'the commit reached the ERP as one sales order');
    const logins = sap.logins;
    sap.expireSessions();
    sap.setStock('A004', '01', { InStock: 30 });
    await pollUntilFinished();
    assert.equal(sap.logins, logins + 1, 'one new login');
    // The ERP has the storefront sale among its commitments (its own 2 and the delivered 2):
    // 30 − 4, and StockEdge does not subtract the delivered order again.
    assert.equal(await available(s), 26);
  });

  test('mapping a code forgets its unmapped row and the next poll applies it', async () => {
    assertOk(await call('PUT', `/v1/erp/connections/${enc(conn)}/mappings`, { items: { Z999: `SAPE2E-${conn}-Z` } }), 200, 'map');
    const un = assertOk(await call('GET', `/v1/erp/unmapped?connection=${enc(conn)}`), 200, 'unmapped');
    assert.deepEqual(un.items.map((u) => u.item), ['A000X']);
    sap.setStock('Z999', '01', { InStock: 4 }); // changed today: inside the next stretch
    await pollUntilFinished();
    assert.equal(await available(`SAPE2E-${conn}-Z`), 4);
  });

  test('who may change on hand: refused, then forwarded, at the locations the ERP masters only', async () => {
    const s = sku(5);
    const before = await available(s);
    const refused = await a.admin('PUT', `/v1/skus/${enc(s)}/stock`, { on_hand: 99, location: 'main' });
    validateResponse('PUT', '/v1/skus/{sku}/stock', refused.status, refused.headers.get('content-type'), refused.text, refused.headers);
    const p = assertProblem(refused, 409, 'erp-is-master');
    assert.equal(p.connection, conn);
    assert.equal(p.location, 'main');
    // A location no connection maps is StockEdge's own.
    assertOk(await a.admin('PUT', '/v1/locations/backroom', { name: 'Back room' }), 201, 'location');
    const own = await a.admin('PUT', `/v1/skus/${enc(s)}/stock`, { on_hand: 3, location: 'backroom' });
    assert.ok(own.status === 200 || own.status === 201, `${own.status} ${own.text}`);
    assertOk(await call('PUT', `/v1/erp/connections/${enc(conn)}`, {
      kind: 'sap_b1', base_url: sap.url, credentials_secret: 'SIM_SAP_B1', settings: { card_code: 'C20000', page_size: 10 }, local_adjustments: 'forward',
    }), 200, 'forward');
    const fw = await a.admin('POST', `/v1/skus/${enc(s)}/adjustments`, { delta: -2, reason: 'damaged', location: 'main' });
    validateResponse('POST', '/v1/skus/{sku}/adjustments', fw.status, fw.headers.get('content-type'), fw.text, fw.headers);
    const f = assertOk(fw, 202, 'forwarded').forwarded;
    assert.deepEqual({ ...f, id: 0 }, { id: 0, connection: conn, sku: s, location: 'main', op: 'adjust', delta: -2, reason: 'damaged' });
    assert.equal(await available(s), before, 'on hand waits for the ERP');
    const list = assertOk(await call('GET', `/v1/erp/adjustment-requests?connection=${enc(conn)}`), 200, 'requests');
    assert.deepEqual(list.items.map((r) => [r.id, r.op, r.quantity]), [[f.id, 'adjust', -2]]);
  });

  test('a keyed repeat answers its first answer even after a connection took the location over', async () => {
    const s = sku(6);
    const loc = unique('repl').toLowerCase();
    assertOk(await a.admin('PUT', `/v1/locations/${enc(loc)}`, { name: 'Replayed' }), 201, 'location');
    const key = { 'Idempotency-Key': unique('key') };
    const first = await a.admin('PUT', `/v1/skus/${enc(s)}/stock`, { on_hand: 7, location: loc }, key);
    assert.ok(first.status === 200 || first.status === 201, `${first.status} ${first.text}`);
    assertOk(await call('PUT', `/v1/erp/connections/${enc(conn)}/mappings`, { warehouses: { 77: loc } }), 200, 'map');
    const again = await a.admin('PUT', `/v1/skus/${enc(s)}/stock`, { on_hand: 7, location: loc }, key);
    assert.equal(again.status, first.status, again.text);
    assert.equal(again.text, first.text, 'the first answer, byte for byte');
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    const reused = await a.admin('PUT', `/v1/skus/${enc(s)}/stock`, { on_hand: 8, location: loc }, key);
    assertProblem(reused, 422, 'idempotency-key-reused');
    const fresh = await a.admin('PUT', `/v1/skus/${enc(s)}/stock`, { on_hand: 7, location: loc }, { 'Idempotency-Key': unique('key') });
    assert.equal(fresh.status, 202, 'a new key is forwarded (the connection forwards by now)');
  });

  test('Odoo: quants read page by page despite ~10 % failures; a revoked key stops the run', async () => {
    odoo = await startOdooSim({ quants: [11, 12, 13, 14, 15].map((p) => ({ product: p, location: 8, quantity: p, reserved_quantity: 1 })) });
    const oc = unique('odoo');
    assertOk(await call('PUT', `/v1/erp/connections/${enc(oc)}`, {
      kind: 'odoo', base_url: odoo.url, credentials_secret: 'SIM_ODOO_KEY', settings: { page_size: 2, orders: 'off' },
    }), 200, 'odoo connection');
    const items = Object.fromEntries([11, 12, 13, 14, 15].map((p) => [String(p), `ODOOE2E-${oc}-${p}`]));
    assertOk(await call('PUT', `/v1/erp/connections/${enc(oc)}/mappings`, { items, warehouses: { 8: 'main' } }), 200, 'map');
    odoo.faults.set({ rate: 0.1, kinds: ['500', '503', '429'], retryAfterSeconds: 1, seed: 3 });
    let last;
    for (let i = 0; i < 10 && !last?.finished; i++) {
      last = assertOk(await call('POST', `/v1/erp/polls/run?connection=${enc(oc)}`), 200, 'poll').runs[0];
    }
    const injected = odoo.faults.history.length;
    odoo.faults.clear();
    assert.ok(injected > 0, 'faults were injected');
    assert.ok(last.finished, JSON.stringify(last));
    for (const p of [11, 15]) assert.equal(await available(`ODOOE2E-${oc}-${p}`), p - 1);
    odoo.revokeKey();
    const denied = assertOk(await call('POST', `/v1/erp/polls/run?connection=${enc(oc)}`), 200, 'poll').runs[0];
    assert.equal(denied.result, 'error');
    assert.match(denied.error, /401/);
    assert.equal((await call('DELETE', `/v1/erp/connections/${enc(oc)}`)).status, 204);
  });

  test('a removed connection is no longer polled', async () => {
    const r = await call('DELETE', `/v1/erp/connections/${enc(conn)}`);
    assert.equal(r.status, 204);
    assertProblem(await call('GET', `/v1/erp/connections/${enc(conn)}`), 404, 'not-found');
    const runs = assertOk(await call('POST', `/v1/erp/polls/run?connection=${enc(conn)}`), 200, 'poll').runs;
    assert.deepEqual(runs, []);
  });
});
