// Adjustment requests applied in the vendor ERPs end to end (docs/erp.md "Adjustment requests to the
// ERP"): an operator's adjustment or count at a location an Odoo (tests/sim/odoo.mjs), SAP
// Business One (tests/sim/sap_b1.mjs) or NetSuite (tests/sim/netsuite.mjs) connection masters with
// `local_adjustments: forward` is recorded as a request; the cron applies it in the ERP — Odoo a
// counted quant applied with `action_apply_inventory` (its move named after the request), SAP B1 a
// goods receipt or issue (`JournalMemo` naming the request), NetSuite an `inventoryAdjustment`
// (`externalId` naming the request) — and the request reads `sent`; the ERP's stock moved once.
// A posting whose answer is lost after the ERP applied it is found by the next attempt, not
// applied twice. A request of a disabled connection stays pending; deleting the connection marks
// it dead.
//
//   STOCKEDGE_SKIP_BUILD=1 node --test --test-concurrency=1 tests/e2e/erp_adjust_vendors.test.mjs

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';

import { assertOk } from './lib/expect.mjs';
import { erpClient } from './lib/erp.mjs';
import { unique, until, useRuntime } from './lib/worker.mjs';
import { startNetSuiteSim } from '../sim/netsuite.mjs';
import { startOdooSim } from '../sim/odoo.mjs';
import { startSapB1Sim } from '../sim/sap_b1.mjs';

const enc = encodeURIComponent;
const SAP_CREDENTIALS = JSON.stringify({ CompanyDB: 'SBODEMOUS', UserName: 'manager', Password: 'secret' });
const NS_KEY = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
const NS_CREDENTIALS = JSON.stringify({ client_id: 'ns-sim-client', certificate_id: 'ns-sim-cert', private_key: NS_KEY.privateKey.export({ type: 'pkcs8', format: 'pem' }) });
const STOCK = 100;
const tag = (id) => `StockEdge adjustment request ${id}`;

describe('adjustment requests applied in Odoo, SAP Business One and NetSuite', () => {
  const a = useRuntime({ vars: { SIM_SAP_B1: SAP_CREDENTIALS, SIM_ODOO_KEY: 'odoo-sim-key', SIM_NETSUITE: NS_CREDENTIALS } });
  const { call } = erpClient(a);
  let odoo;
  let sap;
  let ns;
  const oconn = unique('oadj');
  const sconn = unique('sadj');
  const nconn = unique('nadj');
  const sku = (conn, i) => `ADJ-${conn}-${i}`;

  before(async () => {
    odoo = await startOdooSim({ quants: [{ product: 21, location: 8, quantity: STOCK }] });
    sap = await startSapB1Sim({ items: ['A1', 'A2'].map((ItemCode) => ({ ItemCode, warehouses: [{ WarehouseCode: '01', InStock: STOCK }] })) });
    ns = await startNetSuiteSim({
      publicKey: NS_KEY.publicKey.export({ type: 'spki', format: 'pem' }),
      // Item 301 in two bins at location 1; item 302 has no balance there yet (a count creates one).
      balances: [{ item: 301, location: 1, quantityonhand: STOCK - 10, quantityavailable: STOCK - 10 },
        { item: 301, location: 1, quantityonhand: 10, quantityavailable: 10 }, { item: 302, location: 2, quantityonhand: 5, quantityavailable: 5 }],
    });
  });
  after(() => Promise.all([odoo?.close(), sap?.close(), ns?.close()]));

  const cron = () => fetch(`${a.url}/__scheduled?cron=${enc('*/2 * * * *')}`).then((r) => r.text());
  const request = async (conn, id) => {
    const r = assertOk(await call('GET', `/v1/erp/adjustment-requests?connection=${enc(conn)}`), 200, 'list');
    return r.items.find((x) => x.id === id);
  };
  /** Forwards a change of `s` at `conn`'s location; the request's id. */
  const forward = async (conn, s, change) => {
    const r = 'on_hand' in change
      ? await a.admin('PUT', `/v1/skus/${enc(s)}/stock`, { ...change, location: conn })
      : await a.admin('POST', `/v1/skus/${enc(s)}/adjustments`, { ...change, location: conn });
    assert.equal(r.status, 202, r.text);
    return JSON.parse(r.text).forwarded.id;
  };
  /** Runs the cron until every request of `ids` reads sent (the back-off is 2 s after a failure). */
  const untilSent = async (conn, ids) => {
    const ok = await until(async () => {
      await cron();
      return (await Promise.all(ids.map((id) => request(conn, id)))).every((r) => r.status === 'sent');
    }, { timeoutMs: 15_000, everyMs: 1000 });
    assert.ok(ok, JSON.stringify(await Promise.all(ids.map((id) => request(conn, id)))));
  };

  test('connections master their locations and forward local changes', async () => {
    for (const [conn, kind, url, secret, items, wh, settings] of [
      [oconn, 'odoo', () => odoo.url, 'SIM_ODOO_KEY', { 21: sku(oconn, 0), 22: sku(oconn, 1) }, '8', {}],
      [sconn, 'sap_b1', () => sap.url, 'SIM_SAP_B1', { A1: sku(sconn, 0), A2: sku(sconn, 1) }, '01', {}],
      [nconn, 'netsuite', () => ns.url, 'SIM_NETSUITE', { 301: sku(nconn, 0), 302: sku(nconn, 1) }, '1', { adjustment_account: '540' }],
    ]) {
      for (const s of Object.values(items)) {
        assertOk(await a.admin('PUT', `/v1/skus/${enc(s)}/stock`, { on_hand: STOCK, location: conn }), 200, 'stock');
      }
      assertOk(await call('PUT', `/v1/erp/connections/${enc(conn)}`, {
        kind, base_url: url(), credentials_secret: secret, local_adjustments: 'forward', settings: { orders: 'off', ...settings },
      }), 200, `put ${kind}`);
      assertOk(await call('PUT', `/v1/erp/connections/${enc(conn)}/mappings`, { items, warehouses: { [wh]: conn } }), 200, 'mappings');
    }
  });

  test('Odoo: an adjustment and a count are applied once each, a lost answer included', async () => {
    const adjust = await forward(oconn, sku(oconn, 0), { delta: -2, reason: 'damaged' });
    const count = await forward(oconn, sku(oconn, 1), { on_hand: 30 }); // no quant yet: created
    assert.equal((await request(oconn, adjust)).status, 'pending');
    await untilSent(oconn, [adjust, count]);
    assert.equal(odoo.quant(21, 8).quantity, STOCK - 2);
    assert.equal(odoo.quant(22, 8).quantity, 30);
    const named = (id) => odoo.moves.filter((m) => m.name === tag(id));
    assert.deepEqual([named(adjust).map((m) => m.quantity), named(count).map((m) => m.quantity)], [[-2], [30]]);

    // The apply's answer lost after Odoo applied it: the next attempt finds the move.
    const lost = await forward(oconn, sku(oconn, 0), { delta: 5, reason: 'correction' });
    odoo.faults.set({ sequence: ['lost'], paths: ['/json/2/stock.quant/action_apply_inventory'] });
    await cron();
    const pending = await request(oconn, lost);
    assert.deepEqual([pending.status, pending.attempts], ['pending', 1], JSON.stringify(pending));
    assert.equal(odoo.quant(21, 8).quantity, STOCK + 3, 'applied; the answer was lost');
    await untilSent(oconn, [lost]);
    await cron();
    assert.equal(odoo.quant(21, 8).quantity, STOCK + 3, 'applied once');
    assert.deepEqual(named(lost).map((m) => m.quantity), [5]);
    const s = assertOk(await a.admin('GET', `/v1/skus/${enc(sku(oconn, 1))}`), 200, 'sku');
    assert.ok(s.locations.some((l) => l.location === oconn), 'the SKU is at the mastered location');
  });

  test('SAP Business One: a goods issue, a goods receipt for a count, a lost answer not posted twice', async () => {
    const adjust = await forward(sconn, sku(sconn, 0), { delta: -2, reason: 'damaged' });
    const count = await forward(sconn, sku(sconn, 1), { on_hand: 120 });
    await untilSent(sconn, [adjust, count]);
    assert.deepEqual([sap.inStock('A1', '01'), sap.inStock('A2', '01')], [STOCK - 2, 120]);
    const memo = (id) => sap.postings.filter((p) => p.JournalMemo === tag(id));
    assert.deepEqual(memo(adjust).map((p) => [p.collection, p.DocumentLines[0].Quantity]), [['InventoryGenExits', 2]]);
    assert.deepEqual(memo(count).map((p) => [p.collection, p.DocumentLines[0].Quantity]), [['InventoryGenEntries', 20]]);
    assert.equal(memo(adjust)[0].Comments, `${tag(adjust)}: damaged`);

    const lost = await forward(sconn, sku(sconn, 0), { delta: 5, reason: 'correction' });
    sap.faults.set({ sequence: ['lost'], paths: ['/b1s/v1/InventoryGenEntries'], methods: ['POST'] });
    sap.expireSessions(); // and a new session on the way
    await cron();
    const pending = await request(sconn, lost);
    assert.deepEqual([pending.status, pending.attempts], ['pending', 1], JSON.stringify(pending));
    assert.equal(sap.inStock('A1', '01'), STOCK + 3, 'posted; the answer was lost');
    await untilSent(sconn, [lost]);
    await cron();
    assert.equal(sap.inStock('A1', '01'), STOCK + 3, 'posted once');
    assert.equal(memo(lost).length, 1);
  });

  test('a forwarding NetSuite connection must name its adjustment account', async () => {
    const r = await call('PUT', `/v1/erp/connections/${enc(unique('nsbad'))}`, {
      kind: 'netsuite', base_url: ns.url, credentials_secret: 'SIM_NETSUITE', local_adjustments: 'forward', settings: { orders: 'off' },
    });
    assert.equal(r.status, 422, r.text);
    assert.ok(JSON.parse(r.text).errors.some((e) => e.field === 'settings.adjustment_account'), r.text);
  });

  test('NetSuite: an adjustment and a count become inventory adjustments applied once, a lost answer included', async () => {
    const adjust = await forward(nconn, sku(nconn, 0), { delta: -2, reason: 'damaged' });
    const count = await forward(nconn, sku(nconn, 1), { on_hand: 30 }); // no balance at location 1: +30
    assert.equal((await request(nconn, adjust)).status, 'pending');
    await untilSent(nconn, [adjust, count]);
    assert.deepEqual([ns.onHand(301, 1), ns.onHand(302, 1)], [STOCK - 2, 30]);
    const eid = (id) => `stockedge-adjustment-request-${id}`;
    const adj = (id) => ns.adjustmentsByExternalId(eid(id));
    assert.deepEqual(adj(adjust).map((x) => [x.account, x.adjLocation, x.lines]), [['540', '1', [{ item: '301', location: '1', adjustQtyBy: -2 }]]]);
    assert.deepEqual(adj(count).map((x) => x.lines[0].adjustQtyBy), [30]);
    assert.equal(adj(adjust)[0].memo, `${tag(adjust)}: damaged`);

    // A count at an item with stock: count minus NetSuite's on hand (summed over bins).
    const recount = await forward(nconn, sku(nconn, 0), { on_hand: 120 });
    await untilSent(nconn, [recount]);
    assert.deepEqual([ns.onHand(301, 1), adj(recount).map((x) => x.lines[0].adjustQtyBy)], [120, [22]]);

    // The create's answer lost after NetSuite applied it, and the access token expired on the way:
    // the token is renewed, and the next attempt finds the adjustment by its externalId.
    const lost = await forward(nconn, sku(nconn, 0), { delta: 5, reason: 'correction' });
    ns.faults.set({ sequence: ['lost'], paths: ['/services/rest/record/v1/inventoryAdjustment'], methods: ['POST'] });
    ns.expireTokens();
    const tokens = ns.tokenRequests;
    await cron();
    const pending = await request(nconn, lost);
    assert.deepEqual([pending.status, pending.attempts], ['pending', 1], JSON.stringify(pending));
    assert.equal(ns.onHand(301, 1), 125, 'applied; the answer was lost');
    assert.ok(ns.tokenRequests > tokens, 'a new access token after the 401');
    await untilSent(nconn, [lost]);
    await cron();
    assert.equal(ns.onHand(301, 1), 125, 'applied once');
    assert.equal(adj(lost).length, 1);
    assert.equal(ns.adjustments.length, 4, 'one inventory adjustment per request');
  });

  test('a request of a disabled connection stays pending; deleting the connection marks it dead', async () => {
    const dconn = unique('dadj');
    const s = sku(dconn, 0);
    assertOk(await a.admin('PUT', `/v1/skus/${enc(s)}/stock`, { on_hand: STOCK, location: dconn }), 200, 'stock');
    const put = (enabled) => call('PUT', `/v1/erp/connections/${enc(dconn)}`, {
      kind: 'netsuite', base_url: ns.url, credentials_secret: 'SIM_NETSUITE', local_adjustments: 'forward', enabled,
      settings: { orders: 'off', adjustment_account: '540' },
    });
    assertOk(await put(true), 200, 'put');
    assertOk(await call('PUT', `/v1/erp/connections/${enc(dconn)}/mappings`, { items: { 301: s }, warehouses: { 1: dconn } }), 200, 'mappings');
    const id = await forward(dconn, s, { delta: 1, reason: 'received' });
    assertOk(await put(false), 200, 'disable');
    await cron();
    assert.equal((await request(dconn, id)).status, 'pending', 'kept for when the connection is enabled again');
    const del = await call('DELETE', `/v1/erp/connections/${enc(dconn)}`);
    assert.equal(del.status, 204, del.text);
    const dead = await request(dconn, id);
    assert.equal(dead.status, 'dead', JSON.stringify(dead));
    assert.match(dead.last_error, new RegExp(`ERP connection ${dconn} was deleted`));
    assert.equal(ns.adjustmentsByExternalId(`stockedge-adjustment-request-${id}`).length, 0, 'nothing sent');
  });
});
