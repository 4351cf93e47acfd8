// Orders to the ERP end to end (docs/erp.md "Orders to the ERP", docs/api.md "ERP connections"):
// storefront checkouts and marketplace sales at a location the SAP Business One simulator
// (tests/sim/sap_b1.mjs) masters reach it through the queue exactly once — one sales order per
// order and SKU, NumAtCard `<channel>/<order id>|<sku>` — despite ~10 % injected failures on the
// Orders calls (500, 503, 429, and answers lost after the order was created) and a session that
// times out mid-run; a cancellation cancels the ERP's order; a later poll does not count the
// delivered orders twice; a delivery that cannot succeed (its SKU has no item code) is a dead
// letter listed with the sync failures, and retrying it from there delivers it. NetSuite
// (tests/sim/netsuite.mjs): sales orders found by `eid:<externalId>` and created once under ~10 %
// injected failures (500, 503, 429 CONCURRENCY_LIMIT_EXCEEDED, lost answers) and access tokens that
// expire mid-run; a cancellation closes the sales order's lines once, despite failures and lost
// answers, and NetSuite gives the units back. The delivery's reads (masters, item codes,
// connections) cost the queue consumer no D1 round trip of their own (counted by
// `stockedge_d1_queries_total{origin="queue"}`).
//
//   STOCKEDGE_SKIP_BUILD=1 node --test --test-concurrency=1 tests/e2e/erp_orders.test.mjs

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';

import { assertOk } from './lib/expect.mjs';
import { erpClient } from './lib/erp.mjs';
import { availableAt, failuresOf } from './lib/reads.mjs';
import { parseMetrics, unique, until, useRuntime } from './lib/worker.mjs';
import { startSapB1Sim } from '../sim/sap_b1.mjs';
import { startOdooSim } from '../sim/odoo.mjs';
import { startNetSuiteSim } from '../sim/netsuite.mjs';

const enc = encodeURIComponent;
const SAP_CREDENTIALS = JSON.stringify({ CompanyDB: 'SBODEMOUS', UserName: 'manager', Password: 'secret' });
const STOCK = 100;
const NS_KEY = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
const NS_SECRET = JSON.stringify({ client_id: 'ns-sim-client', certificate_id: 'ns-sim-cert', private_key: NS_KEY.privateKey.export({ type: 'pkcs8', format: 'pem' }) });

describe('orders to the ERP: SAP Business One, Odoo and NetSuite', () => {
  const a = useRuntime({ vars: { SIM_SAP_B1: SAP_CREDENTIALS, SIM_ODOO_KEY: 'odoo-sim-key', SIM_NETSUITE: NS_SECRET } });
  let sap;
  let odoo;
  let ns;
  const conn = unique('sapo');
  const sku = (i) => `SAPO-${conn}-${i}`;
  const ref = (channel, order, s) => `${channel}/${order}|${s}`;

  before(async () => {
    sap = await startSapB1Sim({
      items: ['I0', 'I1', 'I2', 'I3'].map((ItemCode) => ({ ItemCode, warehouses: [{ WarehouseCode: '01', InStock: STOCK }] })),
    });
  });
  after(() => Promise.all([sap?.close(), odoo?.close(), ns?.close()]));

  const { call, available, pollUntilFinished } = erpClient(a);

  test('a connection masters main and its first poll brings the SKUs under the ERP', async () => {
    assertOk(await call('PUT', `/v1/erp/connections/${enc(conn)}`, {
      kind: 'sap_b1', base_url: sap.url, credentials_secret: 'SIM_SAP_B1', settings: { card_code: 'C20000' },
    }), 200, 'put connection');
    // I3 is left unmapped until the dead-letter test maps it.
    assertOk(await call('PUT', `/v1/erp/connections/${enc(conn)}/mappings`, {
      items: { I0: sku(0), I1: sku(1), I2: sku(2) }, warehouses: { '01': 'main' },
    }), 200, 'mappings');
    await pollUntilFinished(conn);
    for (const i of [0, 1, 2]) assert.equal(await available(sku(i)), STOCK);
  });

  test('checkouts and marketplace sales reach the ERP exactly once despite failures and a session expiry', async () => {
    const expected = new Map(); // NumAtCard → {item, qty}
    const checkout = async (i) => {
      const r = assertOk(await a.storefront('POST', '/v1/reservations', { lines: [{ sku: sku(0), qty: 1 }, { sku: sku(1), qty: 2 }] }), 201, 'hold');
      const order = unique('web');
      assertOk(await a.storefront('POST', `/v1/reservations/${enc(r.id)}/commit`, { order_id: order }), 200, `commit ${i}`);
      expected.set(ref('direct', order, sku(0)), { item: 'I0', qty: 1 });
      expected.set(ref('direct', order, sku(1)), { item: 'I1', qty: 2 });
    };
    const sale = async (i) => {
      const order = unique('amz');
      assertOk(await a.admin('POST', '/v1/sales', { channel: 'amazon', order_id: order, lines: [{ sku: sku(2), qty: 3, line_id: 'l1' }] }), 200, `sale ${i}`);
      expected.set(ref('amazon', order, sku(2)), { item: 'I2', qty: 3 });
    };
    sap.faults.set({ rate: 0.1, kinds: ['500', '503', '429', 'lost'], retryAfterSeconds: 1, seed: 11, paths: ['/b1s/v1/Orders'] });
    const loginsBefore = sap.logins;
    for (let i = 0; i < 6; i++) {
      await checkout(i);
      await sale(i);
      if (i === 2) sap.expireSessions();
    }
    const done = await until(() => [...expected.keys()].every((r) => sap.ordersByRef(r).length > 0), { timeoutMs: 60_000, everyMs: 250 });
    const injected = sap.faults.history.length;
    sap.faults.clear();
    assert.ok(done, `missing: ${[...expected.keys()].filter((r) => sap.ordersByRef(r).length === 0).join(', ')}`);
    assert.ok(injected > 0, 'faults were injected');
    assert.ok(sap.logins > loginsBefore, 'a new session after the expiry');
    // Settle: a redelivered message or a retry must not add a second order.
    await new Promise((r) => setTimeout(r, 1500));
    for (const [r, { item, qty }] of expected) {
      const docs = sap.ordersByRef(r);
      assert.equal(docs.length, 1, `${r}: ${docs.length} documents`);
      assert.deepEqual(docs[0].DocumentLines.map((l) => [l.ItemCode, l.Quantity, l.WarehouseCode]), [[item, qty, '01']], r);
      assert.equal(docs[0].CardCode, 'C20000');
    }
    // StockEdge's available: 6 × 1, 6 × 2, 6 × 3 sold.
    assert.deepEqual([await available(sku(0)), await available(sku(1)), await available(sku(2))], [STOCK - 6, STOCK - 12, STOCK - 18]);
  });

  test('a later poll counts the delivered orders as seen: not subtracted twice', async () => {
    await new Promise((r) => setTimeout(r, 20)); // the poll's as-of point follows the confirmations
    await pollUntilFinished(conn);
    // The ERP's available (InStock − Committed) has them; StockEdge subtracts them once.
    assert.deepEqual([await available(sku(0)), await available(sku(1)), await available(sku(2))], [STOCK - 6, STOCK - 12, STOCK - 18]);
    const s = assertOk(await a.admin('GET', `/v1/skus/${enc(sku(2))}`), 200, 'sku');
    assert.equal(s.locations.find((l) => l.location === 'main').on_hand, STOCK, 'on hand is the shelf, the sales committed');
  });

  test('a cancellation cancels the ERP order once', async () => {
    const order = unique('amzc');
    assertOk(await a.admin('POST', '/v1/sales', { channel: 'amazon', order_id: order, lines: [{ sku: sku(2), qty: 2, line_id: 'l1' }] }), 200, 'sale');
    const r = ref('amazon', order, sku(2));
    assert.ok(await until(() => sap.ordersByRef(r).length === 1, { timeoutMs: 20_000 }), 'delivered');
    assertOk(await a.admin('POST', `/v1/sales/amazon/${enc(order)}/cancel`, {}), 200, 'cancel');
    assert.ok(await until(() => sap.ordersByRef(r)[0]?.Cancelled === 'tYES', { timeoutMs: 20_000 }), 'cancelled in the ERP');
    assert.equal(sap.ordersByRef(r).length, 1);
    await pollUntilFinished(conn);
    assert.equal(await available(sku(2)), STOCK - 18, 'the cancelled units are back, once');
  });

  test('a delivery that cannot succeed is a dead letter with the sync failures; a retry from there delivers it', async () => {
    const order = unique('amzd');
    assertOk(await a.admin('POST', '/v1/sales', { channel: 'amazon', order_id: order, lines: [{ sku: sku(3), qty: 1, line_id: 'l1' }] }), 200, 'sale');
    const channel = `erp:${conn}`;
    const failure = await until(async () => (await failuresOf(a, (x) => x.channel === channel && x.sku === sku(3)))[0], { timeoutMs: 20_000 });
    assert.ok(failure, 'listed with the sync failures');
    assert.match(failure.reason, /no item code/);
    assert.equal(sap.ordersByRef(ref('amazon', order, sku(3))).length, 0);
    assertOk(await call('PUT', `/v1/erp/connections/${enc(conn)}/mappings`, { items: { I3: sku(3) } }), 200, 'map I3');
    assertOk(await a.admin('POST', `/v1/sync/failures/${failure.id}/retry`), 200, 'retry');
    const r = ref('amazon', order, sku(3));
    assert.ok(await until(() => sap.ordersByRef(r).length === 1, { timeoutMs: 20_000 }), 'delivered after the retry');
    assert.deepEqual(await failuresOf(a, (x) => x.channel === channel), [], 'no open failure left');
  });

  // --- Odoo: sale.order create + action_confirm, found by client_order_ref -----------------
  const oconn = unique('odooo');
  const osku = (i) => `ODOO-${oconn}-${i}`;
  const atOdoo = (s) => availableAt(a, s, 'odoo');

  test('Odoo: checkouts and sales become confirmed sales orders exactly once despite failures', async () => {
    odoo = await startOdooSim({ quants: [11, 12].map((product) => ({ product, location: 8, quantity: STOCK })) });
    assertOk(await call('PUT', `/v1/erp/connections/${enc(oconn)}`, {
      kind: 'odoo', base_url: odoo.url, credentials_secret: 'SIM_ODOO_KEY', settings: { partner_id: 3 },
    }), 200, 'put connection');
    assertOk(await call('PUT', `/v1/erp/connections/${enc(oconn)}/mappings`, {
      items: { 11: osku(0), 12: osku(1) }, warehouses: { 8: 'odoo' },
    }), 200, 'mappings');
    await pollUntilFinished(oconn);
    assert.equal(await atOdoo(osku(0)), STOCK);
    const expected = new Map();
    odoo.faults.set({ rate: 0.1, kinds: ['500', '503', '429', 'lost'], retryAfterSeconds: 1, seed: 5, paths: ['/json/2/sale.order'] });
    for (let i = 0; i < 5; i++) {
      const r = assertOk(await a.storefront('POST', '/v1/reservations', { lines: [{ sku: osku(0), qty: 1, location: 'odoo' }] }), 201, 'hold');
      const web = unique('web');
      assertOk(await a.storefront('POST', `/v1/reservations/${enc(r.id)}/commit`, { order_id: web }), 200, 'commit');
      expected.set(ref('direct', web, osku(0)), { product: 11, qty: 1 });
      const amz = unique('amz');
      assertOk(await a.admin('POST', '/v1/sales', { channel: 'amazon', order_id: amz, lines: [{ sku: osku(1), qty: 2, location: 'odoo', line_id: 'l1' }] }), 200, 'sale');
      expected.set(ref('amazon', amz, osku(1)), { product: 12, qty: 2 });
    }
    const done = await until(() => [...expected.keys()].every((r) => odoo.ordersByRef(r)[0]?.state === 'sale'), { timeoutMs: 60_000, everyMs: 250 });
    const injected = odoo.faults.history.length;
    odoo.faults.clear();
    assert.ok(done, `not confirmed: ${[...expected.keys()].filter((r) => odoo.ordersByRef(r)[0]?.state !== 'sale').join(', ')}`);
    assert.ok(injected > 0, 'faults were injected');
    await new Promise((r) => setTimeout(r, 1500));
    for (const [r, { product, qty }] of expected) {
      const docs = odoo.ordersByRef(r);
      assert.equal(docs.length, 1, `${r}: ${docs.length} orders`);
      assert.deepEqual(docs[0].order_line, [{ product_id: product, product_uom_qty: qty }], r);
      assert.equal(docs[0].partner_id, 3);
    }
    // A later poll (the confirmed orders reserve their units in Odoo) does not subtract them twice.
    await pollUntilFinished(oconn);
    assert.deepEqual([await atOdoo(osku(0)), await atOdoo(osku(1))], [STOCK - 5, STOCK - 10]);
  });

  // --- NetSuite: salesOrder found by eid:<externalId>, created once; a cancellation closes its lines ---
  const nconn = unique('nso');
  const nsku = (i) => `NSO-${nconn}-${i}`;
  const atNs = (s) => availableAt(a, s, 'netsuite');

  test('NetSuite: checkouts and sales become sales orders exactly once despite failures and a token expiry', async () => {
    ns = await startNetSuiteSim({
      publicKey: NS_KEY.publicKey.export({ type: 'spki', format: 'pem' }),
      balances: [300, 301].map((item) => ({ item, location: 1, quantityonhand: STOCK, quantityavailable: STOCK })),
    });
    assertOk(await call('PUT', `/v1/erp/connections/${enc(nconn)}`, {
      kind: 'netsuite', base_url: ns.url, credentials_secret: 'SIM_NETSUITE', settings: { customer_id: '42' },
    }), 200, 'put connection');
    assertOk(await call('PUT', `/v1/erp/connections/${enc(nconn)}/mappings`, {
      items: { 300: nsku(0), 301: nsku(1) }, warehouses: { 1: 'netsuite' },
    }), 200, 'mappings');
    await pollUntilFinished(nconn);
    assert.equal(await atNs(nsku(0)), STOCK);
    const expected = new Map(); // externalId → {item, qty}
    ns.faults.set({ rate: 0.1, kinds: ['500', '503', '429', 'lost'], retryAfterSeconds: 1, seed: 3, paths: ['/services/rest/record/v1/salesOrder'] });
    const tokensBefore = ns.tokenRequests;
    for (let i = 0; i < 6; i++) {
      const r = assertOk(await a.storefront('POST', '/v1/reservations', { lines: [{ sku: nsku(0), qty: 1, location: 'netsuite' }] }), 201, 'hold');
      const web = unique('web');
      assertOk(await a.storefront('POST', `/v1/reservations/${enc(r.id)}/commit`, { order_id: web }), 200, 'commit');
      expected.set(ref('direct', web, nsku(0)), { item: '300', qty: 1 });
      const amz = unique('amz');
      assertOk(await a.admin('POST', '/v1/sales', { channel: 'amazon', order_id: amz, lines: [{ sku: nsku(1), qty: 2, location: 'netsuite', line_id: 'l1' }] }), 200, 'sale');
      expected.set(ref('amazon', amz, nsku(1)), { item: '301', qty: 2 });
      if (i === 2) ns.expireTokens();
    }
    const done = await until(() => [...expected.keys()].every((r) => ns.ordersByReference(r).length > 0), { timeoutMs: 60_000, everyMs: 250 });
    const injected = ns.faults.history.length;
    ns.faults.clear();
    assert.ok(done, `missing: ${[...expected.keys()].filter((r) => ns.ordersByReference(r).length === 0).join(', ')}`);
    assert.ok(injected > 0, 'faults were injected');
    assert.ok(ns.tokenRequests > tokensBefore, 'a new access token after the expiry');
    await new Promise((r) => setTimeout(r, 1500));
    for (const [r, { item, qty }] of expected) {
      const docs = ns.ordersByReference(r);
      assert.equal(docs.length, 1, `${r}: ${docs.length} orders`);
      assert.deepEqual(docs[0].lines, [{ item, quantity: qty, location: '1' }], r);
      assert.equal(docs[0].entity, '42');
    }
    const failures = await failuresOf(a, (x) => x.channel === `erp:${nconn}`);
    assert.deepEqual(failures, [], 'no dead letter');
    // A later poll (the orders commit their units in NetSuite) does not subtract them twice.
    await new Promise((r) => setTimeout(r, 20));
    await pollUntilFinished(nconn);
    assert.deepEqual([await atNs(nsku(0)), await atNs(nsku(1))], [STOCK - 6, STOCK - 12]);
  });

  test("NetSuite: a cancellation closes the sales order's lines, once, despite failures and lost answers", async () => {
    const order = unique('amzn');
    assertOk(await a.admin('POST', '/v1/sales', { channel: 'amazon', order_id: order, lines: [{ sku: nsku(1), qty: 3, location: 'netsuite', line_id: 'l1' }] }), 200, 'sale');
    const r = ref('amazon', order, nsku(1));
    assert.ok(await until(() => ns.ordersByReference(r).length === 1, { timeoutMs: 20_000 }), 'delivered');
    const before = await counters();
    const closes = ns.closeCalls;
    // Lookups and closes fail or lose their answers (the close applied, its 204 lost) now and then.
    ns.faults.set({ rate: 0.3, kinds: ['500', '503', '429', 'lost'], retryAfterSeconds: 1, seed: 11, paths: ['/services/rest/record/v1/salesOrder'] });
    assertOk(await a.admin('POST', `/v1/sales/amazon/${enc(order)}/cancel`, {}), 200, 'cancel');
    const closed = await until(() => ns.ordersByReference(r)[0].lines.every((l) => l.closed), { timeoutMs: 30_000, everyMs: 250 });
    // The cancellation's message received by the consumer and its writes done (not a fixed wait).
    await quiet(before, 1, DELIVERIES);
    const injected = ns.faults.history.length;
    ns.faults.clear();
    assert.ok(closed, 'every line of the sales order closed');
    assert.ok(injected > 0, 'faults were injected');
    assert.equal(ns.closeCalls - closes, 1, 'one close changed the order (a repeat closes nothing more)');
    const [doc] = ns.ordersByReference(r);
    assert.equal(ns.ordersByReference(r).length, 1);
    assert.equal(doc.cancelled, undefined, 'closed by StockEdge, not cancelled by a person');
    assert.deepEqual(await failuresOf(a, (x) => x.channel === `erp:${nconn}`), [], 'no dead letter');
    await pollUntilFinished(nconn);
    assert.equal(await atNs(nsku(1)), STOCK - 12, 'the closed order gives its units back in NetSuite, once');
  });

  // --- The ERP delivery's reads ride in the consumer's one D1 read batch ------------------------
  const D1_QUEUE = 'stockedge_d1_queries_total{origin="queue"}';
  const CHANGES = 'stockedge_queue_changes_total';
  const DELIVERIES = 'stockedge_queue_deliveries_total';
  async function counters() {
    const r = await a.admin('GET', '/v1/metrics');
    assert.equal(r.status, 200, r.text);
    return parseMetrics(r.text);
  }
  /**
   * The counters once the consumer has received `changes` more of `counter` (distinct changes by
   * default; `DELIVERIES` counts repeats, a retried message among them) than `base` and its D1
   * count stays put.
   */
  async function quiet(base, changes, counter = CHANGES) {
    let last = null;
    const m = await until(async () => {
      const now = await counters();
      const still = last && now[D1_QUEUE] === last[D1_QUEUE] && now[counter] === last[counter];
      last = now;
      return (now[counter] ?? 0) - (base?.[counter] ?? 0) >= changes && still ? now : null;
    }, { timeoutMs: 30_000, everyMs: 700 });
    assert.ok(m, `the consumer did not settle: ${JSON.stringify(last)}`);
    return m;
  }

  test("a batch's ERP routes are read with the consumer's other reads: no D1 round trip of their own", async () => {
    // Two marketplace sales of fresh SKUs (each oversold alike): one at a location no ERP masters,
    // one at `main` (the SAP connection's) whose SKU has no item code — a dead letter, no ERP call.
    // The second costs exactly one D1 round trip more than the first: the dead letter's write.
    // (Reading the master, the item code and the connection one query each, as before, cost 3.)
    const base = await quiet(null, 0);
    const free = unique('FREE');
    assertOk(await a.admin('POST', '/v1/sales', { channel: 'amazon', order_id: unique('amzq'), lines: [{ sku: free, qty: 1, location: 'nowhere', line_id: 'l1' }] }), 200, 'sale elsewhere');
    const afterFree = await quiet(base, 1);
    const unmapped = sku(9);
    assertOk(await a.admin('POST', '/v1/sales', { channel: 'amazon', order_id: unique('amzq'), lines: [{ sku: unmapped, qty: 1, line_id: 'l1' }] }), 200, 'sale at main');
    const failed = await until(async () => (await failuresOf(a, (x) => x.channel === `erp:${conn}` && x.sku === unmapped))[0], { timeoutMs: 20_000 });
    assert.ok(failed, 'the unmapped delivery is a dead letter');
    const afterUnmapped = await quiet(afterFree, 1);
    const elsewhere = afterFree[D1_QUEUE] - base[D1_QUEUE];
    const atMain = afterUnmapped[D1_QUEUE] - afterFree[D1_QUEUE];
    assert.ok(elsewhere > 0, 'the queue\'s D1 queries are counted');
    assert.equal(atMain - elsewhere, 1, `D1 round trips: ${elsewhere} for the sale elsewhere, ${atMain} for the one at main`);
  });

  test('a stock-only connection (orders off) is polled but receives no order: no document, no dead letter', async () => {
    const c = assertOk(await call('PUT', `/v1/erp/connections/${enc(conn)}`, {
      kind: 'sap_b1', base_url: sap.url, credentials_secret: 'SIM_SAP_B1', settings: { orders: 'off' },
    }), 200, 'stock only, no card code needed');
    assert.equal(c.settings.orders, 'off');
    const base = await quiet(null, 0);
    const order = unique('amzoff');
    assertOk(await a.admin('POST', '/v1/sales', { channel: 'amazon', order_id: order, lines: [{ sku: sku(0), qty: 1, line_id: 'l1' }] }), 200, 'sale');
    await quiet(base, 1);
    assert.equal(sap.ordersByRef(ref('amazon', order, sku(0))).length, 0, 'no document reached the ERP');
    const failures = await failuresOf(a, (x) => x.channel === `erp:${conn}` && x.sku === sku(0));
    assert.deepEqual(failures, [], 'no dead letter');
    await pollUntilFinished(conn);
    // The ERP does not have the sale; StockEdge subtracts it once (its own commitment).
    assert.equal(await available(sku(0)), STOCK - 7);
  });
});
