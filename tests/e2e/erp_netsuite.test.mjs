// The NetSuite connector end to end (docs/erp.md "NetSuite", docs/api.md "ERP connections"): the
// Worker gets an OAuth 2.0 access token from the NetSuite simulator (tests/sim/netsuite.mjs) with an
// ES256-signed JWT assertion (client credentials, kid = certificate id), reads inventorybalance
// through SuiteQL page by page (limit/offset, hasMore), maps item and location ids, and applies each
// change exactly once despite ~10 % injected failures (500, 503, 429 CONCURRENCY_LIMIT_EXCEEDED with
// Retry-After) and access tokens that expire mid-run.
//
//   STOCKEDGE_SKIP_BUILD=1 node --test --test-concurrency=1 tests/e2e/erp_netsuite.test.mjs

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';

import { assertOk } from './lib/expect.mjs';
import { erpClient } from './lib/erp.mjs';
import { unique, useRuntime } from './lib/worker.mjs';
import { startNetSuiteSim } from '../sim/netsuite.mjs';

const enc = encodeURIComponent;
const pem = (k, type) => k.export({ type, format: 'pem' });
const KEY = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
const OTHER = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
const secret = (key) => JSON.stringify({ client_id: 'ns-sim-client', certificate_id: 'ns-sim-cert', private_key: pem(key.privateKey, 'pkcs8') });

describe('ERP connectors: NetSuite', () => {
  const a = useRuntime({ vars: { SIM_NETSUITE: secret(KEY), SIM_NETSUITE_UNREGISTERED: secret(OTHER) } });
  let ns;
  const ITEMS = 12;
  const conn = unique('ns');
  const sku = (i) => `NSE2E-${conn}-${i}`;

  before(async () => {
    ns = await startNetSuiteSim({
      publicKey: pem(KEY.publicKey, 'spki'),
      balances: [
        // Two bins of each item at location 1: NetSuite answers one row per bin, the query sums them.
        ...Array.from({ length: ITEMS }, (_, i) => ({ item: 200 + i, location: 1, quantityonhand: 6 + i, quantityavailable: 4 + i })),
        ...Array.from({ length: ITEMS }, (_, i) => ({ item: 200 + i, location: 1, quantityonhand: 4, quantityavailable: 4 })),
        { item: 999, location: 1, quantityonhand: 3, quantityavailable: 3 },
      ],
    });
  });
  after(() => ns?.close());

  const { call, available, pollUntilFinished: pollConnection } = erpClient(a);

  async function snapshotEntries(s) {
    const j = assertOk(await a.admin('GET', `/v1/skus/${enc(s)}/journal?limit=1000`), 200, `journal ${s}`);
    return j.entries.filter((e) => e.op === 'erp_snapshot');
  }

  const pollUntilFinished = (id = conn) => pollConnection(id);

  test('a netsuite connection and its mappings are stored', async () => {
    const c = assertOk(await call('PUT', `/v1/erp/connections/${enc(conn)}`, {
      kind: 'netsuite', base_url: ns.url, credentials_secret: 'SIM_NETSUITE', settings: { page_size: 2, orders: 'off' },
    }), 200, 'put connection');
    assert.equal(c.kind, 'netsuite');
    const items = Object.fromEntries(Array.from({ length: ITEMS }, (_, i) => [String(200 + i), sku(i)]));
    assertOk(await call('PUT', `/v1/erp/connections/${enc(conn)}/mappings`, { items, warehouses: { 1: 'main' } }), 200, 'mappings');
  });

  test('SuiteQL pages are read despite ~10 % failures; each change is applied once; one token serves every page', async () => {
    ns.faults.set({ rate: 0.1, kinds: ['500', '503', '429'], retryAfterSeconds: 1, seed: 4, paths: ['/services/rest/'] });
    const runs = await pollUntilFinished();
    const injected = ns.faults.history.length;
    ns.faults.clear();
    assert.ok(injected > 0, 'faults were injected');
    assert.ok(runs.every((r) => r.result === 'ok'), JSON.stringify(runs));
    assert.equal(runs.reduce((n, r) => n + r.rows, 0), ITEMS + 1, 'every balance row read once (summed over bins)');
    assert.equal(ns.tokenRequests, 1, 'the access token is cached across pages and runs');
    // quantityavailable (on hand less NetSuite's commitments), summed over bins.
    for (const i of [0, 5, ITEMS - 1]) assert.equal(await available(sku(i)), 8 + i, `SKU ${i}`);
    const un = assertOk(await call('GET', `/v1/erp/unmapped?connection=${enc(conn)}`), 200, 'unmapped');
    assert.deepEqual(un.items.map((u) => [u.item, u.warehouse, u.missing]), [['999', '1', 'item']]);
    // A second full read finds the same figures: every line is in step, nothing is journaled again.
    const again = await pollUntilFinished();
    assert.ok(again.every((r) => r.result === 'ok' && r.refused === 0), JSON.stringify(again));
    assert.equal(ns.tokenRequests, 1);
    for (const i of [0, 5]) assert.equal((await snapshotEntries(sku(i))).length, 1, `one erp_snapshot entry for SKU ${i}`);
  });

  test('tokens that expire mid-run are renewed once; a storefront sale is not counted twice', async () => {
    const s = sku(4);
    const hold = assertOk(await a.storefront('POST', '/v1/reservations', { lines: [{ sku: s, qty: 2 }] }), 201, 'hold');
    const order = unique('o');
    assertOk(await a.storefront('POST', `/v1/reservations/${enc(hold.id)}/commit`, { order_id: order }), 200, 'commit');
    assert.equal(await available(s), 10);
    const before = ns.tokenRequests;
    ns.expireTokens();
    // NetSuite's own order of 2 and 20 more received: on hand 30, available 28 (both bins).
    ns.setBalance(204, 1, { quantityonhand: 26, quantityavailable: 24 });
    ns.faults.set({ rate: 0.1, kinds: ['500', '503', '429'], retryAfterSeconds: 1, seed: 5, paths: ['/services/rest/query/'] });
    await pollUntilFinished();
    const injected = ns.faults.history.length;
    ns.faults.clear();
    assert.ok(injected > 0, 'faults were injected');
    assert.equal(ns.tokenRequests, before + 1, 'one new token');
    // NetSuite does not have the storefront sale (the connection is stock only, `orders: off`: no
    // sales order was sent, no dead letter recorded): 28 − 2 (StockEdge's own commitment).
    assert.equal(ns.ordersByReference(`direct/${order}|${s}`).length, 0, 'no sales order reached NetSuite');
    const failures = assertOk(await a.admin('GET', '/v1/sync/failures'), 200, 'failures').items.filter((x) => x.channel === `erp:${conn}`);
    assert.deepEqual(failures, [], 'no dead letter');
    assert.equal(await available(s), 26);
    assert.equal((await snapshotEntries(s)).length, 2);
  });

  test('a private key NetSuite has not registered: the token is refused and the run stops with why', async () => {
    const bad = unique('nsbad');
    assertOk(await call('PUT', `/v1/erp/connections/${enc(bad)}`, {
      kind: 'netsuite', base_url: ns.url, credentials_secret: 'SIM_NETSUITE_UNREGISTERED', settings: { orders: 'off' },
    }), 200, 'connection');
    const run = assertOk(await call('POST', `/v1/erp/polls/run?connection=${enc(bad)}`), 200, 'poll').runs[0];
    assert.equal(run.result, 'error');
    assert.match(run.error, /invalid_grant/);
    assert.equal(run.pages, 0);
    assert.equal((await call('DELETE', `/v1/erp/connections/${enc(bad)}`)).status, 204);
    assert.equal((await call('DELETE', `/v1/erp/connections/${enc(conn)}`)).status, 204);
  });
});
