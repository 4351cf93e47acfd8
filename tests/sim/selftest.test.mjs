// Self-test of the platform simulators: each one enforces its published contract.
// Run: node --test tests/sim/

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import crypto from 'node:crypto';

import { startSim, json, FaultInjector, TokenBucket, KeyedRateLimiter, createClock, tooManyRequests } from './lib.mjs';
import {
  startShopifySim, gid, sendWebhook as sendShopifyWebhook, orderCreatedPayload, orderCancelledPayload,
  refundCreatedPayload, inventoryLevelsUpdatePayload,
} from './shopify.mjs';
import { startWooCommerceSim, sendWebhook as sendWooWebhook, sendPing } from './woocommerce.mjs';
import { startAmazonSim } from './amazon.mjs';
import { startEbaySim, formatEbayKey, notificationPayload, challengeResponse, sendChallenge, SCOPE_INVENTORY, SCOPE_FULFILLMENT } from './ebay.mjs';
import { startWholesaleSim, build846 } from './wholesale.mjs';
import { startAll } from './index.mjs';
import { startSapB1Sim } from './sap_b1.mjs';
import { startOdooSim } from './odoo.mjs';
import { startNetSuiteSim, signJwt, BALANCES_QUERY, ASSERTION_TYPE, onHandQuery, netsuiteExternalId } from './netsuite.mjs';
import { startErpWebhookSim, stockedgeSignature } from './erp_webhook.mjs';

async function call(url, { method = 'GET', headers = {}, body, timeoutMs = 5000 } = {}) {
  const init = { method, headers: { ...headers }, signal: AbortSignal.timeout(timeoutMs) };
  if (body !== undefined) {
    if (typeof body === 'string') init.body = body;
    else { init.body = JSON.stringify(body); if (!Object.keys(init.headers).some((h) => h.toLowerCase() === 'content-type')) init.headers['content-type'] = 'application/json'; }
  }
  const r = await fetch(url, init);
  const text = await r.text();
  let parsed;
  try { parsed = JSON.parse(text); } catch { parsed = undefined; }
  return { status: r.status, headers: r.headers, text, body: parsed };
}

/** A receiver that records raw requests (for the webhook senders). */
async function startReceiver(respond = () => ({ status: 200, body: 'ok' })) {
  const received = [];
  const server = http.createServer(async (req, res) => {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const raw = Buffer.concat(chunks);
    const url = new URL(req.url, 'http://x');
    received.push({ method: req.method, path: url.pathname, query: url.searchParams, headers: req.headers, raw });
    const r = respond({ method: req.method, url, headers: req.headers, raw });
    res.writeHead(r.status, { 'content-type': r.contentType ?? 'text/plain' });
    res.end(r.body ?? '');
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  server.unref(); // a failing test must not keep the run alive
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    received,
    close: () => new Promise((r) => { server.close(r); server.closeAllConnections(); }),
  };
}

const hmac = (secret, raw) => crypto.createHmac('sha256', secret).update(raw).digest('base64');

// -------------------------------------------------------------------------------------------------
describe('lib: framework, faults, rate limiter', () => {
  let sim;
  before(async () => {
    sim = await startSim(async (ctx) => {
      if (ctx.path === '/write') { sim.log.record('L1', { value: Number(ctx.query.get('v')), version: ctx.query.get('ver') }); return json(200, { ok: true }); }
      return json(200, { hello: 'world' });
    }, { port: 0 });
  });
  after(() => sim.close());

  test('listens on 127.0.0.1 with a free port', async () => {
    assert.match(sim.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.ok(sim.port > 0);
    const r = await call(`${sim.url}/x`);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { hello: 'world' });
  });

  test('faults configured over HTTP are deterministic for a seed', async () => {
    const run = async () => {
      const set = await call(`${sim.url}/__sim/faults`, { method: 'POST', body: { rate: 0.5, kinds: ['500', '503', '429'], seed: 42, retryAfterSeconds: 3 } });
      assert.equal(set.status, 200);
      const statuses = [];
      for (let i = 0; i < 20; i++) statuses.push((await call(`${sim.url}/x`)).status);
      return statuses;
    };
    const a = await run();
    const b = await run();
    assert.deepEqual(a, b);
    assert.ok(a.some((s) => s !== 200) && a.some((s) => s === 200), `mixed outcome expected: ${a}`);
    // Same seed programmatically on a fresh injector gives the same decisions.
    const f = new FaultInjector({ rate: 0.5, kinds: ['500', '503', '429'], seed: 42 });
    const expected = Array.from({ length: 20 }, () => { const x = f.next('GET', '/x'); return x ? Number(x.kind) : 200; });
    assert.deepEqual(a, expected);
    await call(`${sim.url}/__sim/faults`, { method: 'DELETE' });
  });

  test('429 and 503 faults carry Retry-After', async () => {
    sim.faults.set({ sequence: ['429', '503'], retryAfterSeconds: 7 });
    const r1 = await call(`${sim.url}/x`);
    assert.equal(r1.status, 429);
    assert.equal(r1.headers.get('retry-after'), '7');
    const r2 = await call(`${sim.url}/x`);
    assert.equal(r2.status, 503);
    assert.equal(r2.headers.get('retry-after'), '7');
    assert.equal((await call(`${sim.url}/x`)).status, 200);
    sim.faults.clear();
  });

  test('timeout fault never answers; slow fault answers late; /__sim is never faulted', async () => {
    sim.faults.set({ rate: 1, kinds: ['timeout'], hangMs: 5000 });
    await assert.rejects(call(`${sim.url}/x`, { timeoutMs: 150 }), /abort|timeout/i);
    assert.equal((await call(`${sim.url}/__sim/state`)).status, 200);
    sim.faults.set({ rate: 1, kinds: ['slow'], slowMs: 120 });
    const t0 = Date.now();
    assert.equal((await call(`${sim.url}/x`)).status, 200);
    assert.ok(Date.now() - t0 >= 110);
    sim.faults.clear();
  });

  test('lost fault applies the write but drops the answer', async () => {
    sim.log.clear();
    sim.faults.set({ sequence: ['lost'] });
    await assert.rejects(call(`${sim.url}/write?v=5&ver=1`));
    assert.deepEqual(sim.log.values('L1'), [5]);
    sim.faults.clear();
  });

  test('write log keeps arrival order, values and versions, over HTTP too', async () => {
    sim.log.clear();
    await call(`${sim.url}/write?v=1&ver=10`);
    await call(`${sim.url}/write?v=2&ver=11`);
    await call(`${sim.url}/write?v=3`);
    const r = await call(`${sim.url}/__sim/log?listing=L1`);
    assert.deepEqual(r.body.entries.map((e) => [e.value, e.version]), [[1, '10'], [2, '11'], [3, null]]);
    assert.deepEqual(r.body.entries.map((e) => e.seq), [...r.body.entries.map((e) => e.seq)].sort((x, y) => x - y));
  });

  test('token bucket: burst then 429 with Retry-After, refills with time', () => {
    const clock = createClock();
    const b = new TokenBucket({ rate: 2, burst: 3, clock });
    assert.ok(b.take().ok && b.take().ok && b.take().ok);
    const t = b.take();
    assert.equal(t.ok, false);
    assert.equal(t.retryAfterSeconds, 1);
    const resp = tooManyRequests({ error: 'slow down' }, t.retryAfterSeconds);
    assert.equal(resp.status, 429);
    assert.equal(resp.headers['retry-after'], '1');
    clock.advance(600);
    assert.ok(b.take().ok);
    clock.freeze();
    const t1 = clock.now();
    clock.advance(5);
    assert.equal(clock.now(), t1 + 5);
    clock.unfreeze();
    const k = new KeyedRateLimiter({ rate: 1, burst: 1, clock });
    assert.ok(k.take('a').ok && k.take('b').ok);
    assert.equal(k.take('a').ok, false);
  });
});

// -------------------------------------------------------------------------------------------------
describe('shopify', () => {
  let s;
  const M = 'mutation Set($input: InventorySetQuantitiesInput!) { inventorySetQuantities(input: $input) { inventoryAdjustmentGroup { id reason referenceDocumentUri changes { name delta quantityAfterChange } } userErrors { code field message } } }';
  const gql = (body, { version = '2026-04', token } = {}) => call(s.graphqlUrl(version), { method: 'POST', headers: { 'x-shopify-access-token': token ?? s.accessToken }, body });
  const setQty = (quantities, extra = {}, opts) => gql({ query: M, variables: { input: { name: 'available', reason: 'correction', quantities, ...extra } } }, opts);
  const q = (item, quantity, changeFromQuantity, loc = 1) => ({ inventoryItemId: gid.item(item), locationId: gid.location(loc), quantity, ...(changeFromQuantity === undefined ? {} : { changeFromQuantity }) });

  before(async () => {
    s = await startShopifySim({
      locations: [{ id: 1, name: 'Main' }, { id: 2, name: 'Store' }],
      items: [
        { id: 101, sku: 'TEE-BLK-M', levels: { 1: { available: 10, committed: 2 } } },
        { id: 102, sku: 'MUG-01', levels: { 1: { available: 4 } } },
      ],
    });
  });
  after(() => s.close());

  test('auth required: no or wrong X-Shopify-Access-Token → 401', async () => {
    const r1 = await call(s.graphqlUrl(), { method: 'POST', body: { query: '{ location { id } }' } });
    assert.equal(r1.status, 401);
    assert.match(r1.body.errors, /Invalid API key or access token/);
    assert.equal((await gql({ query: '{ location { id } }' }, { token: 'nope' })).status, 401);
  });

  test('body must carry a query', async () => {
    const r = await gql({ variables: {} });
    assert.equal(r.status, 400);
    assert.deepEqual(r.body, { errors: { query: 'Required parameter missing or invalid' } });
  });

  test('set with matching changeFromQuantity writes, logs the referenceDocumentUri version', async () => {
    const r = await setQty([q(101, 7, 10)], { referenceDocumentUri: 'gid://stockedge/SkuVersion/TEE-BLK-M?version=41' });
    assert.equal(r.status, 200);
    const p = r.body.data.inventorySetQuantities;
    assert.deepEqual(p.userErrors, []);
    assert.equal(p.inventoryAdjustmentGroup.changes.find((c) => c.name === 'available').quantityAfterChange, 7);
    assert.equal(p.inventoryAdjustmentGroup.changes.find((c) => c.name === 'on_hand').quantityAfterChange, 9);
    assert.ok(r.body.extensions.cost.throttleStatus.currentlyAvailable <= 2000);
    assert.equal(s.quantity(101, 1), 7);
    const e = s.log.last('101:1');
    assert.equal(e.value, 7);
    assert.equal(e.version, 41);
    assert.equal(e.sku, 'TEE-BLK-M');
  });

  test("aliased root fields (StockEdge's batching) are independent units; StockChange URI versions", async () => {
    const mut = `mutation {
      q0: inventorySetQuantities(input: {name: "available", reason: "correction", referenceDocumentUri: "gid://stockedge/StockChange/TEE-BLK-M/43", quantities: [{inventoryItemId: "${gid.item(101)}", locationId: "${gid.location(1)}", quantity: 8, changeFromQuantity: 7}]}) { userErrors { code } }
      q1: inventorySetQuantities(input: {name: "available", reason: "correction", referenceDocumentUri: "gid://stockedge/StockChange/MUG-01/9", quantities: [{inventoryItemId: "${gid.item(102)}", locationId: "${gid.location(1)}", quantity: 1, changeFromQuantity: 999}]}) { userErrors { code } }
    }`;
    const r = await gql({ query: mut });
    assert.deepEqual(r.body.data.q0.userErrors, []);
    assert.deepEqual(r.body.data.q1.userErrors.map((u) => u.code), ['CHANGE_FROM_QUANTITY_STALE']);
    assert.equal(s.quantity(101, 1), 8);
    assert.equal(s.log.last('101:1').version, 43);
    assert.equal(s.quantity(102, 1), 4);
    const back = await setQty([q(101, 7, 8)]);
    assert.deepEqual(back.body.data.inventorySetQuantities.userErrors, []);
  });

  test("StockEdge's documents: $q0..$qN variables mutation and the StockEdgeAvailable re-read", async () => {
    const doc = 'mutation StockEdgeSetAvailable($q0: InventorySetQuantitiesInput!, $q1: InventorySetQuantitiesInput!) { '
      + 'q0: inventorySetQuantities(input: $q0) { inventoryAdjustmentGroup { id } userErrors { code field message } } '
      + 'q1: inventorySetQuantities(input: $q1) { inventoryAdjustmentGroup { id } userErrors { code field message } } }';
    const input = (item, quantity, cfq, version) => ({ name: 'available', reason: 'correction', referenceDocumentUri: `gid://stockedge/StockChange/${encodeURIComponent('A/B 1')}/${version}`, quantities: [q(item, quantity, cfq)] });
    const r = await gql({ query: doc, variables: { q0: input(101, 7, 7, 50), q1: input(999, 1, null, 51) } });
    assert.equal(r.status, 200);
    assert.ok(r.body.data.q0.inventoryAdjustmentGroup.id);
    assert.deepEqual(r.body.data.q1.userErrors.map((u) => u.code), ['INVALID_INVENTORY_ITEM']);
    assert.equal(s.log.last('101:1').version, 50);
    const reread = 'query StockEdgeAvailable($item: ID!, $location: ID!) { inventoryItem(id: $item) { inventoryLevel(locationId: $location) { quantities(names: ["available"]) { name quantity } } } }';
    const rr = await gql({ query: reread, variables: { item: gid.item(101), location: gid.location(1) } });
    assert.deepEqual(rr.body.data.inventoryItem.inventoryLevel.quantities, [{ name: 'available', quantity: 7 }]);
  });

  test('stale changeFromQuantity → CHANGE_FROM_QUANTITY_STALE and nothing written (all or nothing)', async () => {
    const before = s.log.entries().length;
    const r = await setQty([q(102, 1, 4), q(101, 99, 10)]);
    const p = r.body.data.inventorySetQuantities;
    assert.equal(p.inventoryAdjustmentGroup, null);
    assert.deepEqual(p.userErrors.map((u) => u.code), ['CHANGE_FROM_QUANTITY_STALE']);
    assert.deepEqual(p.userErrors[0].field, ['input', 'quantities', '1', 'changeFromQuantity']);
    assert.equal(s.quantity(101, 1), 7);
    assert.equal(s.quantity(102, 1), 4);
    assert.equal(s.log.entries().length, before);
  });

  test('2026-04: changeFromQuantity is mandatory; explicit null skips the check', async () => {
    const r1 = await setQty([q(102, 3)]);
    assert.equal(r1.body.data.inventorySetQuantities.userErrors[0].code, 'COMPARE_QUANTITY_REQUIRED');
    assert.equal(s.quantity(102, 1), 4);
    const r2 = await setQty([q(102, 3, null)]);
    assert.deepEqual(r2.body.data.inventorySetQuantities.userErrors, []);
    assert.equal(s.quantity(102, 1), 3);
  });

  test('2026-04 removed compareQuantity (GraphQL error); 2025-10 still requires it', async () => {
    const r1 = await setQty([{ ...q(102, 3, null), compareQuantity: 3 }]);
    assert.equal(r1.body.data, undefined);
    assert.match(r1.body.errors[0].message, /compareQuantity/);
    const r2 = await setQty([q(102, 2)], {}, { version: '2025-10' });
    assert.equal(r2.body.data.inventorySetQuantities.userErrors[0].code, 'COMPARE_QUANTITY_REQUIRED');
    const r3 = await setQty([{ ...q(102, 2), compareQuantity: 1 }], {}, { version: '2025-10' });
    assert.equal(r3.body.data.inventorySetQuantities.userErrors[0].code, 'COMPARE_QUANTITY_STALE');
    const r4 = await setQty([q(102, 2)], { ignoreCompareQuantity: true }, { version: '2025-10' });
    assert.deepEqual(r4.body.data.inventorySetQuantities.userErrors, []);
    assert.equal(s.quantity(102, 1), 2);
  });

  test('unknown item / location / name / reason → userErrors', async () => {
    const codes = async (quantities, extra) => (await setQty(quantities, extra)).body.data.inventorySetQuantities.userErrors.map((u) => u.code);
    assert.deepEqual(await codes([q(999, 1, null)]), ['INVALID_INVENTORY_ITEM']);
    assert.deepEqual(await codes([q(101, 1, null, 77)]), ['INVALID_LOCATION']);
    assert.deepEqual(await codes([q(101, 1, null, 2)]), ['ITEM_NOT_STOCKED_AT_LOCATION']);
    assert.deepEqual(await codes([q(101, 1, null)], { name: 'committed' }), ['INVALID_NAME']);
    assert.deepEqual(await codes([q(101, 1, null)], { reason: 'because' }), ['INVALID_REASON']);
    const noReason = await gql({ query: M, variables: { input: { name: 'available', quantities: [q(101, 1, null)] } } });
    assert.equal(noReason.body.data, undefined);
    assert.equal(noReason.body.errors[0].extensions.code, 'INVALID_VARIABLE');
  });

  test('read query re-reads the current quantity (inline literals, aliases, fragments)', async () => {
    const query = `query { a: inventoryItem(id: "${gid.item(101)}") { sku inventoryLevel(locationId: "${gid.location(1)}") { ...L } } }
      fragment L on InventoryLevel { id quantities(names: ["available", "on_hand", "committed"]) { name quantity } }`;
    const r = await gql({ query });
    assert.equal(r.status, 200);
    const lvl = r.body.data.a.inventoryLevel;
    assert.equal(lvl.id, gid.level(101, 1));
    assert.deepEqual(lvl.quantities, [{ name: 'available', quantity: 7 }, { name: 'on_hand', quantity: 9 }, { name: 'committed', quantity: 2 }]);
    const bad = await gql({ query: '{ inventoryItem(id: "x") { nope } }' });
    assert.equal(bad.body.errors[0].extensions.code, 'undefinedField');
  });

  test('cost throttle: THROTTLED with throttleStatus, 200 by default and 429 when configured', async () => {
    s.setThrottle({ maximumAvailable: 30, restoreRate: 1, currentlyAvailable: 12 });
    const ok = await setQty([q(102, 2, null)]);
    assert.equal(ok.status, 200);
    const r = await setQty([q(102, 2, null)]);
    assert.equal(r.status, 200);
    assert.equal(r.body.errors[0].extensions.code, 'THROTTLED');
    assert.equal(r.body.extensions.cost.actualQueryCost, null);
    assert.equal(r.body.extensions.cost.throttleStatus.maximumAvailable, 30);
    s.setThrottleStatusCode(429);
    const r429 = await setQty([q(102, 2, null)]);
    assert.equal(r429.status, 429);
    assert.ok(Number(r429.headers.get('retry-after')) >= 1);
    s.setThrottleStatusCode(200);
    s.setThrottle({ maximumAvailable: 2000, restoreRate: 100 });
  });

  test('writes fire a signed inventory_levels/update to subscribers', async () => {
    const rx = await startReceiver();
    s.subscribe('inventory_levels/update', `${rx.url}/hooks`, { secret: 'shh' });
    await setQty([q(101, 6, null)]);
    await s.flushWebhooks();
    const h = rx.received[0];
    assert.equal(h.headers['x-shopify-topic'], 'inventory_levels/update');
    assert.equal(h.headers['x-shopify-hmac-sha256'], hmac('shh', h.raw));
    const body = JSON.parse(h.raw);
    assert.deepEqual(Object.keys(body).sort(), ['admin_graphql_api_id', 'available', 'inventory_item_id', 'location_id', 'updated_at']);
    assert.equal(body.available, 6);
    assert.equal(body.admin_graphql_api_id, 'gid://shopify/InventoryLevel/1?inventory_item_id=101');
    await rx.close();
  });

  test('webhook sender: documented headers and a verifiable base64 HMAC-SHA256', async () => {
    const rx = await startReceiver();
    const order = orderCreatedPayload({ id: 5001, orderNumber: 1042, lineItems: [{ id: 9, variant_id: 77, product_id: 66, sku: 'TEE-BLK-M', quantity: 2 }] });
    const sent = await sendShopifyWebhook(`${rx.url}/wh`, 'orders/create', order, { secret: 'app-secret', shopDomain: 'x.myshopify.com', eventId: 'evt-1', triggeredAt: '2026-01-01T00:00:00Z', apiVersion: '2026-04' });
    assert.equal(sent.status, 200);
    const h = rx.received[0].headers;
    for (const name of ['x-shopify-topic', 'x-shopify-hmac-sha256', 'x-shopify-shop-domain', 'x-shopify-api-version', 'x-shopify-webhook-id', 'x-shopify-event-id', 'x-shopify-triggered-at']) assert.ok(h[name], name);
    assert.equal(h['x-shopify-event-id'], 'evt-1');
    assert.equal(h['x-shopify-shop-domain'], 'x.myshopify.com');
    const expected = hmac('app-secret', rx.received[0].raw);
    assert.ok(crypto.timingSafeEqual(Buffer.from(h['x-shopify-hmac-sha256']), Buffer.from(expected)));
    const body = JSON.parse(rx.received[0].raw);
    assert.equal(body.line_items[0].sku, 'TEE-BLK-M');
    assert.equal(body.admin_graphql_api_id, 'gid://shopify/Order/5001');
    const cancelled = orderCancelledPayload({ id: 5001, lineItems: [{ id: 9, sku: 'TEE-BLK-M', quantity: 2 }] });
    assert.ok(cancelled.cancelled_at && cancelled.cancel_reason);
    const refund = refundCreatedPayload({ id: 8, orderId: 5001, refundLineItems: [{ line_item_id: 9, quantity: 1, restock_type: 'return', location_id: 1, line_item: { sku: 'TEE-BLK-M' } }] });
    assert.equal(refund.refund_line_items[0].restock_type, 'return');
    assert.equal(refund.restock, true);
    assert.equal(inventoryLevelsUpdatePayload({ inventory_item_id: 1, location_id: 2, available: 3 }).admin_graphql_api_id, 'gid://shopify/InventoryLevel/2?inventory_item_id=1');
    await rx.close();
  });
});

// -------------------------------------------------------------------------------------------------
describe('woocommerce', () => {
  let w;
  const batch = (path, body, auth) => call(`${w.apiBase}${path}`, { method: 'POST', headers: auth === null ? {} : { authorization: auth ?? w.authHeader }, body });

  before(async () => {
    w = await startWooCommerceSim({
      products: [
        { id: 10, sku: 'TEE', manage_stock: true, stock_quantity: 5 },
        { id: 20, sku: 'SHIRT', type: 'variable', variations: [{ id: 21, sku: 'SHIRT-S', manage_stock: true, stock_quantity: 3 }, { id: 22, sku: 'SHIRT-M', manage_stock: true, stock_quantity: 1 }] },
      ],
    });
  });
  after(() => w.close());

  test('Basic auth required; bad key/secret → 401 WP error JSON', async () => {
    const r1 = await batch('/products/batch', { update: [{ id: 10, stock_quantity: 1 }] }, null);
    assert.equal(r1.status, 401);
    assert.deepEqual(r1.body, { code: 'woocommerce_rest_cannot_batch', message: 'Sorry, you are not allowed to batch manipulate this resource.', data: { status: 401 } });
    const bad = `Basic ${Buffer.from(`${w.consumerKey}:wrong`).toString('base64')}`;
    const r2 = await batch('/products/batch', { update: [] }, bad);
    assert.equal(r2.status, 401);
    assert.equal(r2.body.message, 'Consumer secret is invalid.');
    assert.equal(w.stockOf(10), 5);
  });

  test('more than 100 items in total → 413 woocommerce_rest_request_entity_too_large', async () => {
    const update = Array.from({ length: 60 }, () => ({ id: 10, stock_quantity: 1 }));
    const del = Array.from({ length: 41 }, (_, i) => 9000 + i);
    const r = await batch('/products/batch', { update, delete: del });
    assert.equal(r.status, 413);
    assert.deepEqual(r.body, { code: 'woocommerce_rest_request_entity_too_large', message: 'Unable to accept more than 100 items for this request.', data: { status: 413 } });
    assert.equal(w.stockOf(10), 5);
  });

  test('updates apply, unknown ids get per-item errors, last writer wins, log in order', async () => {
    w.log.clear();
    const r = await batch('/products/batch', { update: [{ id: 10, manage_stock: true, stock_quantity: 8 }, { id: 404, stock_quantity: 1 }, { id: 10, stock_quantity: 2, meta_data: [{ key: 'stockedge_version', value: '12' }] }] });
    assert.equal(r.status, 200);
    assert.equal(r.body.update[0].stock_quantity, 8);
    assert.deepEqual(r.body.update[1], { id: 404, error: { code: 'woocommerce_rest_product_invalid_id', message: 'Invalid ID.', data: { status: 400 } } });
    assert.equal(r.body.update[2].stock_quantity, 2);
    assert.equal(w.stockOf(10), 2);
    assert.deepEqual(w.log.values('10'), [8, 2]);
    assert.deepEqual(w.log.versions('10'), [null, 12]);
    const v = await batch('/products/20/variations/batch', { update: [{ id: 21, stock_quantity: 0 }, { id: 10, stock_quantity: 1 }] });
    assert.equal(v.body.update[0].stock_status, 'outofstock');
    assert.equal(v.body.update[1].error.code, 'woocommerce_rest_product_variation_invalid_id');
    assert.equal(w.stockOf(21), 0);
    const state = await call(`${w.url}/__sim/state`);
    assert.equal(state.body.quantities['21'], 0);
  });

  test('orders: modified_after, page/per_page, X-WP-Total/X-WP-TotalPages', async () => {
    const t0 = w.clock.iso();
    w.clock.advance(1000);
    const ids = [];
    for (let i = 0; i < 5; i++) { ids.push(w.addOrder({ line_items: [{ product_id: 10, sku: 'TEE', quantity: 1 }] }).id); w.clock.advance(10); }
    w.clock.advance(1000);
    const mid = w.clock.iso();
    w.clock.advance(1000);
    w.setOrderStatus(ids[0], 'cancelled');
    w.updateOrder(ids[1], { status: 'refunded', refunds: [{ total: '10.00' }] });
    const list = (qs, auth = w.authHeader) => call(`${w.apiBase}/orders?${qs}`, { headers: auth ? { authorization: auth } : {} });
    assert.equal((await list('per_page=2', null)).status, 401);
    const p1 = await list(`modified_after=${encodeURIComponent(t0)}&per_page=2&page=1&orderby=id&order=asc`);
    assert.equal(p1.headers.get('x-wp-total'), '5');
    assert.equal(p1.headers.get('x-wp-totalpages'), '3');
    assert.match(p1.headers.get('link'), /rel="next"/);
    const all = [...p1.body];
    for (let page = 2; page <= 3; page++) all.push(...(await list(`modified_after=${encodeURIComponent(t0)}&per_page=2&page=${page}&orderby=id&order=asc`)).body);
    assert.deepEqual(all.map((o) => o.id), ids);
    assert.deepEqual((await list(`modified_after=${encodeURIComponent(t0)}&per_page=2&page=9`)).body, []);
    const changed = await list(`modified_after=${encodeURIComponent(mid)}`);
    assert.deepEqual(changed.body.map((o) => o.status).sort(), ['cancelled', 'refunded']);
    assert.equal(changed.body[0].line_items[0].sku, 'TEE');
    assert.deepEqual(Object.keys(changed.body[0].line_items[0]).filter((k) => ['id', 'product_id', 'variation_id', 'sku', 'quantity'].includes(k)).sort(), ['id', 'product_id', 'quantity', 'sku', 'variation_id']);
    const bad = await list('per_page=101');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, 'rest_invalid_param');
  });

  test('webhook sender signs the exact body; ping is form-encoded and unsigned', async () => {
    const rx = await startReceiver();
    const payload = { id: 7, status: 'processing', billing: { email: 'a/b@example.com', city: 'Zürich' } };
    const sent = await sendWooWebhook(`${rx.url}/wc`, 'order.created', payload, { secret: 'wcsecret', webhookId: 3, source: 'https://shop.example/' });
    assert.equal(sent.status, 200);
    const h = rx.received[0].headers;
    assert.equal(h['x-wc-webhook-topic'], 'order.created');
    assert.equal(h['x-wc-webhook-resource'], 'order');
    assert.equal(h['x-wc-webhook-event'], 'created');
    assert.equal(h['x-wc-webhook-id'], '3');
    assert.equal(h['x-wc-webhook-source'], 'https://shop.example/');
    assert.ok(h['x-wc-webhook-delivery-id']);
    assert.equal(h['x-wc-webhook-signature'], hmac('wcsecret', rx.received[0].raw));
    const raw = rx.received[0].raw.toString();
    assert.ok(raw.includes('a\\/b@example.com') && raw.includes('Z\\u00fcrich'), 'PHP-style escaping');
    assert.notEqual(hmac('wcsecret', JSON.stringify(JSON.parse(raw))), h['x-wc-webhook-signature'], 're-serialising breaks the signature');
    await sendPing(`${rx.url}/wc`, 3);
    const ping = rx.received[1];
    assert.equal(ping.raw.toString(), 'webhook_id=3');
    assert.match(ping.headers['content-type'], /application\/x-www-form-urlencoded/);
    assert.equal(ping.headers['x-wc-webhook-signature'], undefined);
    await rx.close();
  });

  test('order webhooks: no retries, disabled after more than 5 consecutive failures', async () => {
    const rx = await startReceiver(() => ({ status: 500, body: 'down' }));
    const hook = w.addWebhook({ topic: 'order.updated', url: `${rx.url}/wc`, secret: 's' });
    const id = w.addOrder({ line_items: [{ product_id: 10, sku: 'TEE', quantity: 1 }] }).id;
    for (let i = 0; i < 8; i++) { w.updateOrder(id, { status: i % 2 ? 'on-hold' : 'processing' }); await w.flushWebhooks(); }
    assert.equal(hook.status, 'disabled');
    assert.equal(rx.received.length, 7);
    await rx.close();
  });
});

// -------------------------------------------------------------------------------------------------
describe('amazon', () => {
  let a;
  let token;
  const listingUrl = (sku, seller) => `${a.url}/listings/2021-08-01/items/${seller ?? a.sellerId}/${encodeURIComponent(sku)}?marketplaceIds=${a.marketplaceId}`;
  const patch = (sku, body, t = token) => call(listingUrl(sku), { method: 'PATCH', headers: t ? { 'x-amz-access-token': t } : {}, body });
  const qtyBody = (quantity, op = 'replace') => ({ productType: 'PRODUCT', patches: [{ op, path: '/attributes/fulfillment_availability', value: [{ fulfillment_channel_code: 'DEFAULT', quantity }] }] });
  const lwa = (params) => call(a.lwaUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(params).toString() });

  before(async () => {
    a = await startAmazonSim({ listings: [{ sku: 'TEE-BLK-M', quantity: 4 }, { sku: 'MUG-01', quantity: 1 }] });
  });
  after(() => a.close());

  test('LWA refresh_token grant issues bearer tokens and counts requests', async () => {
    const bad = await lwa({ grant_type: 'refresh_token', refresh_token: 'nope', client_id: a.clientId, client_secret: a.clientSecret });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error, 'invalid_grant');
    const badClient = await lwa({ grant_type: 'refresh_token', refresh_token: a.refreshToken, client_id: a.clientId, client_secret: 'x' });
    assert.equal(badClient.status, 401);
    const r = await lwa({ grant_type: 'refresh_token', refresh_token: a.refreshToken, client_id: a.clientId, client_secret: a.clientSecret });
    assert.equal(r.status, 200);
    assert.equal(r.body.token_type, 'bearer');
    assert.equal(r.body.expires_in, 3600);
    assert.match(r.body.access_token, /^Atza\|/);
    assert.ok(r.body.access_token.length >= 350);
    token = r.body.access_token;
    assert.equal(a.tokenRequestCount, 3);
  });

  test('x-amz-access-token required; unknown and expired tokens refused (403)', async () => {
    const r1 = await patch('TEE-BLK-M', qtyBody(3), null);
    assert.equal(r1.status, 403);
    assert.equal(r1.body.errors[0].code, 'Unauthorized');
    assert.equal((await patch('TEE-BLK-M', qtyBody(3), 'Atza|forged')).status, 403);
    const clock = a.clock;
    clock.advance(3601 * 1000);
    const r2 = await patch('TEE-BLK-M', qtyBody(3));
    assert.equal(r2.status, 403);
    assert.match(r2.body.errors[0].details, /expired/);
    clock.advance(-3601 * 1000);
    assert.equal(a.quantity('TEE-BLK-M'), 4);
  });

  test('ACCEPTED for a valid quantity patch; INVALID with issues otherwise; 400 on schema errors', async () => {
    const ok = await patch('TEE-BLK-M', qtyBody(9), token);
    assert.equal(ok.status, 200);
    assert.equal(ok.body.status, 'ACCEPTED');
    assert.equal(ok.body.sku, 'TEE-BLK-M');
    assert.deepEqual(ok.body.issues, []);
    assert.ok(ok.body.submissionId);
    assert.ok(ok.headers.get('x-amzn-ratelimit-limit'));
    assert.equal(a.quantity('TEE-BLK-M'), 9);
    const neg = await patch('TEE-BLK-M', qtyBody(-1));
    assert.equal(neg.body.status, 'INVALID');
    assert.equal(neg.body.issues[0].severity, 'ERROR');
    assert.equal(a.quantity('TEE-BLK-M'), 9);
    const unknown = await patch('NOPE', qtyBody(1));
    assert.equal(unknown.body.status, 'INVALID');
    const badOp = await patch('TEE-BLK-M', { productType: 'PRODUCT', patches: [{ op: 'set', path: '/attributes/fulfillment_availability', value: [] }] });
    assert.equal(badOp.status, 400);
    const noType = await patch('TEE-BLK-M', { patches: qtyBody(1).patches });
    assert.equal(noType.status, 400);
    a.clock.advance(250); // six calls so far: let the 5 rps bucket refill one token
    const merged = await patch('TEE-BLK-M', qtyBody(6, 'merge'));
    assert.equal(merged.body.status, 'ACCEPTED');
    assert.deepEqual(a.log.values('TEE-BLK-M'), [9, 6]);
  });

  test('5 req/s burst 5 per seller → 429 QuotaExceeded with x-amzn-RateLimit-Limit', async () => {
    a.clock.freeze(); // count tokens exactly: no refill while the loop runs
    a.clock.advance(1000); // a full bucket after the previous test
    const statuses = [];
    let last;
    for (let i = 0; i < 7; i++) { last = await patch('MUG-01', qtyBody(i)); statuses.push(last.status); }
    a.clock.unfreeze();
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429, 429]);
    assert.equal(last.body.errors[0].code, 'QuotaExceeded');
    assert.equal(last.headers.get('x-amzn-ratelimit-limit'), '5.0');
  });

  test('getOrders with LastUpdatedAfter and NextToken; getOrderItems pages; cancel bumps LastUpdateDate', async () => {
    const start = new Date(a.clock.now() - 1000).toISOString();
    const ids = [];
    for (let i = 0; i < 5; i++) { ids.push(a.addOrder({ items: [{ SellerSKU: 'TEE-BLK-M', QuantityOrdered: 1 }, { SellerSKU: 'MUG-01', QuantityOrdered: 2 }, { SellerSKU: 'CAP', QuantityOrdered: 1 }] }).AmazonOrderId); a.clock.advance(1000); }
    const get = (qs) => call(`${a.url}/orders/v0/orders?${qs}`, { headers: { 'x-amz-access-token': token } });
    assert.equal((await get(`LastUpdatedAfter=${start}`)).status, 400);
    assert.equal((await get(`MarketplaceIds=${a.marketplaceId}`)).status, 400);
    const seen = [];
    let r = await get(`MarketplaceIds=${a.marketplaceId}&LastUpdatedAfter=${encodeURIComponent(start)}&MaxResultsPerPage=2`);
    seen.push(...r.body.payload.Orders.map((o) => o.AmazonOrderId));
    while (r.body.payload.NextToken) {
      r = await get(`MarketplaceIds=${a.marketplaceId}&NextToken=${encodeURIComponent(r.body.payload.NextToken)}`);
      seen.push(...r.body.payload.Orders.map((o) => o.AmazonOrderId));
    }
    assert.deepEqual(seen, ids);
    a.setOrderItemsPageSize(2);
    const items = [];
    let ri = await call(`${a.url}/orders/v0/orders/${ids[0]}/orderItems`, { headers: { 'x-amz-access-token': token } });
    items.push(...ri.body.payload.OrderItems);
    assert.ok(ri.body.payload.NextToken);
    ri = await call(`${a.url}/orders/v0/orders/${ids[0]}/orderItems?NextToken=${encodeURIComponent(ri.body.payload.NextToken)}`, { headers: { 'x-amz-access-token': token } });
    items.push(...ri.body.payload.OrderItems);
    assert.deepEqual(items.map((i) => [i.SellerSKU, i.QuantityOrdered]), [['TEE-BLK-M', 1], ['MUG-01', 2], ['CAP', 1]]);
    const mark = new Date(a.clock.now()).toISOString();
    a.clock.advance(1000);
    a.cancelOrder(ids[2]);
    const changed = await get(`MarketplaceIds=${a.marketplaceId}&LastUpdatedAfter=${encodeURIComponent(mark)}`);
    assert.deepEqual(changed.body.payload.Orders.map((o) => [o.AmazonOrderId, o.OrderStatus]), [[ids[2], 'Canceled']]);
  });
});

// -------------------------------------------------------------------------------------------------
describe('ebay', () => {
  let e;
  const bulk = (requests, token) => call(`${e.url}/sell/inventory/v1/bulk_update_price_quantity`, { method: 'POST', headers: token === null ? {} : { authorization: `Bearer ${token ?? e.token}` }, body: { requests } });

  before(async () => {
    e = await startEbaySim({
      inventory: [
        { sku: 'TEE', quantity: 10, offers: [{ offerId: '5001', availableQuantity: 10 }] },
        { sku: 'MUG', quantity: 3, offers: [{ offerId: '5002', availableQuantity: 3 }] },
      ],
    });
  });
  after(() => e.close());

  test('bearer token required → 401 OAuth error', async () => {
    const r = await bulk([{ sku: 'TEE', shipToLocationAvailability: { quantity: 1 } }], null);
    assert.equal(r.status, 401);
    assert.equal(r.body.errors[0].errorId, 1001);
    assert.equal((await bulk([], 'bad')).status, 401);
  });

  test('more than 25 requests → 400', async () => {
    const reqs = Array.from({ length: 26 }, () => ({ sku: 'TEE', shipToLocationAvailability: { quantity: 1 } }));
    const r = await bulk(reqs);
    assert.equal(r.status, 400);
    assert.equal(r.body.errors[0].errorId, 25002);
    assert.equal(e.item('TEE').quantity, 10);
  });

  test('per-request responses: 200s, and 207 with errors for unknown sku/offer', async () => {
    const ok = await bulk([{ sku: 'TEE', shipToLocationAvailability: { quantity: 8 }, offers: [{ offerId: '5001', availableQuantity: 6 }] }]);
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.body.responses, [{ offerId: '5001', sku: 'TEE', statusCode: 200 }]);
    assert.equal(e.listedQuantity('5001'), 6);
    const mixed = await bulk([
      { sku: 'MUG', shipToLocationAvailability: { quantity: 2 }, offers: [{ offerId: '5002', availableQuantity: 2 }] },
      { sku: 'GHOST', shipToLocationAvailability: { quantity: 1 } },
      { offers: [{ offerId: '9999', availableQuantity: 1 }] },
    ]);
    assert.equal(mixed.status, 207);
    assert.equal(mixed.body.responses[0].statusCode, 200);
    assert.equal(mixed.body.responses[1].statusCode, 400);
    assert.equal(mixed.body.responses[1].errors[0].errorId, 25709);
    assert.equal(mixed.body.responses[2].errors[0].errorId, 25709);
    assert.deepEqual(e.log.values('TEE'), [6]);
  });

  test('the 251st revision of a listing in a UTC day is refused; the next day it works', async () => {
    e.setRevisionsToday('5002', 249);
    const r250 = await bulk([{ offers: [{ offerId: '5002', availableQuantity: 1 }] }]);
    assert.equal(r250.status, 200);
    assert.equal(e.revisionsToday('5002'), 250);
    const r251 = await bulk([{ offers: [{ offerId: '5002', availableQuantity: 0 }] }]);
    assert.equal(r251.status, 207);
    assert.equal(r251.body.responses[0].statusCode, 400);
    assert.equal(r251.body.responses[0].errors[0].errorId, 25002);
    assert.equal(e.offer('5002').availableQuantity, 1);
    const now = new Date(e.clock.now());
    const nextDay = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1, 0, 0, 1);
    e.clock.set(nextDay);
    const ok = await bulk([{ offers: [{ offerId: '5002', availableQuantity: 0 }] }]);
    assert.equal(ok.status, 200);
    assert.equal(e.revisionsToday('5002'), 1);
    e.clock.reset();
  });

  test('getOrders: filter=lastmodifieddate:[from..], limit/offset pagination', async () => {
    const from = new Date(e.clock.now() - 1).toISOString();
    const ids = [];
    for (let i = 0; i < 5; i++) { ids.push(e.addOrder({ lineItems: [{ sku: 'TEE', quantity: 1 }] }).orderId); e.clock.advance(1000); }
    e.clock.advance(1000);
    const mark = new Date(e.clock.now()).toISOString();
    e.clock.advance(1000);
    e.cancelOrder(ids[1]);
    const page = (filter, limit, offset) => call(`${e.url}/sell/fulfillment/v1/order?filter=${encodeURIComponent(filter)}&limit=${limit}&offset=${offset}`, { headers: { authorization: `Bearer ${e.token}` } });
    const got = [];
    let r = await page(`lastmodifieddate:[${from}..]`, 2, 0);
    assert.equal(r.body.total, 5);
    got.push(...r.body.orders);
    while (r.body.next) { r = await call(r.body.next, { headers: { authorization: `Bearer ${e.token}` } }); got.push(...r.body.orders); }
    assert.deepEqual(got.map((o) => o.orderId).sort(), [...ids].sort());
    const changed = await page(`lastmodifieddate:[${mark}..]`, 50, 0);
    assert.deepEqual(changed.body.orders.map((o) => [o.orderId, o.cancelStatus.cancelState]), [[ids[1], 'CANCELED']]);
    assert.equal(changed.body.orders[0].lineItems[0].sku, 'TEE');
    assert.equal((await page('bogus:[x..]', 1, 0)).status, 400);
  });

  test('notification sender: X-EBAY-SIGNATURE verifies with the served public key', async () => {
    const rx = await startReceiver();
    const payload = notificationPayload({ topic: 'MARKETPLACE_ACCOUNT_DELETION', data: { username: 'u', userId: 'x' } });
    const sent = await e.sendNotification(`${rx.url}/ebay`, payload);
    assert.equal(sent.status, 200);
    const got = rx.received[0];
    const header = JSON.parse(Buffer.from(got.headers['x-ebay-signature'], 'base64').toString());
    assert.equal(header.alg, 'ecdsa');
    assert.equal(header.digest, 'SHA256');
    assert.equal(header.kid, e.keyId);
    assert.equal((await call(`${e.url}/commerce/notification/v1/public_key/${header.kid}`)).status, 401);
    const pk = await call(`${e.url}/commerce/notification/v1/public_key/${header.kid}`, { headers: { authorization: `Bearer ${e.token}` } });
    assert.equal(pk.status, 200);
    assert.equal(pk.body.algorithm, 'ECDSA');
    assert.equal(pk.body.digest, 'SHA256');
    const key = crypto.createPublicKey(formatEbayKey(pk.body.key));
    assert.ok(crypto.verify('sha256', got.raw, key, Buffer.from(header.signature, 'base64')));
    // eBay's SDKs verify over the compactly re-serialised JSON: identical bytes here.
    assert.ok(crypto.verify('sha256', Buffer.from(JSON.stringify(JSON.parse(got.raw))), key, Buffer.from(header.signature, 'base64')));
    assert.equal(crypto.verify('sha256', Buffer.from(got.raw.toString().replace('"u"', '"v"')), key, Buffer.from(header.signature, 'base64')), false);
    // SHA1 mode (as in eBay's SDK fixtures): header and public key both say SHA1.
    e.setDigest('SHA1');
    await e.sendNotification(`${rx.url}/ebay`, payload);
    const h1 = JSON.parse(Buffer.from(rx.received[1].headers['x-ebay-signature'], 'base64').toString());
    assert.equal(h1.digest, 'SHA1');
    assert.ok(crypto.verify('sha1', rx.received[1].raw, key, Buffer.from(h1.signature, 'base64')));
    e.setDigest('SHA256');
    await rx.close();
  });

  test('endpoint validation challenge helper', async () => {
    const endpoint = 'http://127.0.0.1/ebay';
    const rx = await startReceiver(({ url }) => ({ status: 200, contentType: 'application/json', body: JSON.stringify({ challengeResponse: challengeResponse(url.searchParams.get('challenge_code'), 'tok', `${endpointBase}/ebay`) }) }));
    const endpointBase = rx.url;
    const r = await sendChallenge(`${rx.url}/ebay`, 'tok');
    assert.ok(r.ok, JSON.stringify(r));
    assert.equal(challengeResponse('a', 'b', 'c'), crypto.createHash('sha256').update('abc').digest('hex'));
    assert.ok(endpoint);
    await rx.close();
  });

  test('OAuth refresh-token grant: Basic client credentials, invalid_grant, issued tokens expire on the simulator clock', async () => {
    const o = await startEbaySim({ tokenTtlSeconds: 60, inventory: [{ sku: 'TEE', quantity: 1, offers: [{ offerId: '7001', availableQuantity: 1 }] }] });
    try {
      const basic = (id, secret) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
      const form = (fields) => new URLSearchParams(fields).toString().replace(/\+/g, '%20');
      const mint = ({ auth = basic(o.clientId, o.clientSecret), ct = 'application/x-www-form-urlencoded', fields = { grant_type: 'refresh_token', refresh_token: o.refreshToken, scope: `${SCOPE_INVENTORY} ${SCOPE_FULFILLMENT}` } } = {}) =>
        call(o.tokenUrl, { method: 'POST', headers: { 'content-type': ct, ...(auth ? { authorization: auth } : {}) }, body: form(fields) });
      const badClient = await mint({ auth: basic(o.clientId, 'wrong') });
      assert.equal(badClient.status, 401);
      assert.equal(badClient.body.error, 'invalid_client');
      assert.equal((await mint({ auth: null })).body.error, 'invalid_client');
      const badGrant = await mint({ fields: { grant_type: 'refresh_token', refresh_token: 'v^1.1#nope' } });
      assert.equal(badGrant.status, 400);
      assert.equal(badGrant.body.error, 'invalid_grant');
      assert.equal((await mint({ fields: { grant_type: 'password' } })).body.error, 'unsupported_grant_type');
      // The client-credentials grant gives application tokens, for the public scope only.
      assert.equal((await mint({ fields: { grant_type: 'client_credentials' } })).body.error, 'invalid_scope');
      const app = await mint({ fields: { grant_type: 'client_credentials', scope: 'https://api.ebay.com/oauth/api_scope' } });
      assert.equal(app.status, 200);
      assert.equal(app.body.token_type, 'Application Access Token');
      assert.equal((await mint({ fields: { grant_type: 'refresh_token', refresh_token: o.refreshToken, scope: 'https://api.ebay.com/oauth/api_scope/sell.finances' } })).body.error, 'invalid_scope');
      assert.equal((await mint({ ct: 'application/json' })).body.error, 'invalid_request');
      const ok = await mint();
      assert.equal(ok.status, 200, ok.text);
      assert.equal(ok.body.token_type, 'User Access Token');
      assert.equal(ok.body.expires_in, 60);
      assert.equal(o.tokenRequestCount, 9);
      assert.deepEqual(o.tokenRequests.map((r) => r.status), [401, 401, 400, 400, 400, 200, 400, 400, 200]);
      // getPublicKey takes the application token, not the seller's user token.
      const key = (token) => call(o.publicKeyUrl(), { headers: { authorization: `Bearer ${token}` } });
      assert.equal((await key(app.body.access_token)).status, 200);
      assert.equal((await key(ok.body.access_token)).status, 401);
      const read = (token) => call(`${o.url}/sell/inventory/v1/offer/7001`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal((await read(ok.body.access_token)).status, 200, 'an issued token works');
      assert.equal((await read(o.token)).status, 200, 'the fixed token still works');
      o.clock.advance(59_000);
      assert.equal((await read(ok.body.access_token)).status, 200);
      o.clock.advance(1_000);
      const expired = await read(ok.body.access_token);
      assert.equal(expired.status, 401, 'expired on the simulator clock');
      assert.equal(expired.body.errors[0].errorId, 1001);
      assert.equal(expired.body.errors[0].domain, 'OAuth');
      assert.equal((await read(o.token)).status, 200, 'the fixed token never expires');
      const again = await mint();
      assert.notEqual(again.body.access_token, ok.body.access_token);
      assert.equal((await read(again.body.access_token)).status, 200);
      o.expireTokens();
      assert.equal((await read(again.body.access_token)).status, 401);
      assert.deepEqual(JSON.parse(o.oauthSecret()), { client_id: o.clientId, client_secret: o.clientSecret, refresh_token: o.refreshToken });
    } finally {
      await o.close();
    }
  });
});

// -------------------------------------------------------------------------------------------------
describe('wholesale (X12 846)', () => {
  let h;
  const post = (body, { ct = 'application/edi-x12', auth } = {}) => call(h.endpoint, { method: 'POST', headers: { 'content-type': ct, ...(auth === null ? {} : { authorization: auth ?? h.authHeader('ACME') }) }, body });

  before(async () => {
    h = await startWholesaleSim({ partners: [{ id: 'ACME', username: 'acme', password: 'pw', senderId: 'STOCKEDGE' }] });
  });
  after(() => h.close());

  test('Basic auth per partner', async () => {
    const doc = build846({ items: [{ code: 'TEE', quantity: 1 }], controlNumber: 1 });
    const r = await post(doc, { auth: null });
    assert.equal(r.status, 401);
    assert.match(r.headers.get('www-authenticate'), /Basic/);
    assert.equal((await post(doc, { auth: `Basic ${Buffer.from('acme:bad').toString('base64')}` })).status, 401);
  });

  test('a valid 846 is accepted and QTY*33 recorded per item code, in order', async () => {
    const doc = build846({ items: [{ code: 'TEE', quantity: 5 }, { code: 'MUG', quantity: 0 }], controlNumber: 2 });
    const r = await post(doc, { ct: 'text/plain' });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.status, 'accepted');
    assert.equal(h.quantity('TEE'), 5);
    assert.equal(h.quantity('MUG'), 0);
    const r2 = await post(build846({ items: [{ code: 'TEE', quantity: 3 }], controlNumber: 3 }));
    assert.equal(r2.status, 200);
    assert.deepEqual(h.log.values('TEE'), [5, 3]);
    const dup = await post(build846({ items: [{ code: 'TEE', quantity: 99 }], controlNumber: 3 }));
    assert.equal(dup.body.status, 'duplicate');
    assert.equal(h.quantity('TEE'), 3);
    assert.equal((await post(doc, { ct: 'application/json' })).status, 415);
  });

  test("StockEdge's LIN form (LIN**IN*<code>*VN*<sku>) with BIA05 and DTM in the loop", async () => {
    const doc = build846({ items: [{ ids: { IN: 'P-77', VN: 'TEE-BLK-M' }, quantity: 4 }], controlNumber: 10 })
      .replace(/(BIA\*00\*MM\*INV0001\*\d{8})~/, '$1*1200~')
      .replace(/(QTY\*33\*4\*EA~)/, '$1\nDTM*007*20260101*1200~')
      .replace(/SE\*(\d+)\*/, (_, n) => `SE*${Number(n) + 1}*`);
    const r = await post(doc);
    assert.equal(r.status, 200, r.text);
    assert.equal(h.quantity('P-77'), 4);
    assert.deepEqual(h.log.last('P-77').ids, { IN: 'P-77', VN: 'TEE-BLK-M' });
    assert.equal(h.log.entries({ sku: 'TEE-BLK-M' }).length, 1);
  });

  test('invalid envelopes are refused with a reason and write nothing', async () => {
    const good = build846({ items: [{ code: 'CAP', quantity: 2 }], controlNumber: 4 });
    const cases = [
      [good.replace('*ZZ*STOCKEDGE      *', '*ZZ*STOCKEDGE     *'), /106/],
      [good.replace(/SE\*\d+\*/, 'SE*99*'), /SE01/],
      [good.replace('SE*6*0001', 'SE*6*0002'), /SE02/],
      [good.replace('GE*1*4', 'GE*1*5'), /GE02/],
      [good.replace('IEA*1*000000004', 'IEA*1*000000009'), /IEA02/],
      [good.replace('GS*IB*', 'GS*IN*'), /GS01/],
      [good.replace('QTY*33*2*EA', 'QTY*17*2*EA'), /QTY\*33/],
      [good.replace('QTY*33*2*EA', 'QTY*33*-2*EA'), /non-negative/],
      [good.replace('CTT*1', 'CTT*2'), /CTT01/],
      [good.replace(/GE\*1\*4~\n/, ''), /GE/],
    ];
    for (const [doc, reason] of cases) {
      const r = await post(doc);
      assert.equal(r.status, 400, `${reason}: ${r.text}`);
      assert.equal(r.body.status, 'rejected');
      assert.match(r.body.reason, reason);
    }
    assert.equal(h.quantity('CAP'), undefined);
    const foreign = build846({ senderId: 'OTHER', items: [{ code: 'CAP', quantity: 2 }], controlNumber: 5 });
    assert.equal((await post(foreign)).status, 403);
  });
});

// -------------------------------------------------------------------------------------------------
describe('faults speak each platform\'s error shape', () => {
  let sims;
  before(async () => { sims = await startAll(); });
  after(() => sims.close());

  test('500 / 429 bodies and headers per platform; faults settable over HTTP on each', async () => {
    const probe = {
      shopify: [sims.shopify.graphqlUrl(), 'POST'],
      woocommerce: [`${sims.woocommerce.apiBase}/orders`, 'GET'],
      amazon: [`${sims.amazon.url}/orders/v0/orders?MarketplaceIds=x`, 'GET'],
      ebay: [`${sims.ebay.url}/sell/fulfillment/v1/order`, 'GET'],
      wholesale: [sims.wholesale.endpoint, 'POST'],
    };
    for (const [name, [url, method]] of Object.entries(probe)) {
      const set = await call(`${sims[name].url}/__sim/faults`, { method: 'POST', body: { sequence: ['500', '429'], retryAfterSeconds: 2 } });
      assert.equal(set.status, 200, name);
      const r500 = await call(url, { method, body: method === 'POST' ? '' : undefined });
      assert.equal(r500.status, 500, name);
      const r429 = await call(url, { method, body: method === 'POST' ? '' : undefined });
      assert.equal(r429.status, 429, name);
      if (name === 'amazon') {
        assert.equal(r429.headers.get('retry-after'), null); // SP-API sends none
        assert.ok(r429.headers.get('x-amzn-ratelimit-limit'));
        assert.equal(r429.body.errors[0].code, 'QuotaExceeded');
      } else {
        assert.equal(r429.headers.get('retry-after'), '2', name);
      }
      if (name === 'woocommerce') assert.deepEqual(Object.keys(r500.body).sort(), ['code', 'data', 'message']);
      if (name === 'ebay') assert.equal(r500.body.errors[0].errorId, 25001);
      if (name === 'shopify') assert.ok(r500.body.errors);
      const journal = await call(`${sims[name].url}/__sim/requests`);
      assert.deepEqual(journal.body.requests.slice(-2).map((x) => x.fault), ['500', '429'], name);
    }
  });
});

describe("reconciliation: each platform's read endpoint shows a merchant's edit made in the channel's admin", () => {
  let s; let w; let a; let e;
  before(async () => {
    s = await startShopifySim({ items: [{ id: 301, sku: 'TEE', levels: { 1: { available: 4 } } }] });
    w = await startWooCommerceSim({
      products: [
        { id: 10, sku: 'TEE', manage_stock: true, stock_quantity: 5 },
        { id: 20, sku: 'SHIRT', type: 'variable', variations: [{ id: 21, sku: 'SHIRT-S', manage_stock: true, stock_quantity: 3 }] },
      ],
    });
    a = await startAmazonSim({ listings: [{ sku: 'TEE/BLK', quantity: 6 }] });
    e = await startEbaySim({ inventory: [{ sku: 'TEE', quantity: 7, offers: [{ offerId: '5001', availableQuantity: 7 }] }] });
  });
  after(() => Promise.all([s, w, a, e].map((x) => x?.close())));

  test('Shopify: inventoryItem.inventoryLevel.quantities(names: ["available"]) after setQuantities', async () => {
    const query = 'query StockEdgeAvailable($item: ID!, $location: ID!) { inventoryItem(id: $item) { inventoryLevel(locationId: $location) { quantities(names: ["available"]) { name quantity } } } }';
    const read = () => call(s.graphqlUrl(), { method: 'POST', headers: { 'x-shopify-access-token': s.accessToken }, body: { query, variables: { item: gid.item(301), location: gid.location(1) } } });
    assert.deepEqual((await read()).body.data.inventoryItem.inventoryLevel.quantities, [{ name: 'available', quantity: 4 }]);
    s.log.clear();
    s.setQuantities(301, 1, { available: 11 });
    assert.deepEqual((await read()).body.data.inventoryItem.inventoryLevel.quantities, [{ name: 'available', quantity: 11 }]);
    assert.equal(s.log.entries().length, 0, 'a merchant edit is not an API write');
  });

  test('WooCommerce: GET products/{id} and products/{id}/variations/{vid} stock_quantity after setStock', async () => {
    const get = (path, auth = w.authHeader) => call(`${w.apiBase}${path}`, { headers: auth ? { authorization: auth } : {} });
    assert.equal((await get('/products/10')).body.stock_quantity, 5);
    assert.equal(w.setStock(10, 2), 2);
    assert.equal((await get('/products/10')).body.stock_quantity, 2);
    w.setStock(21, 9);
    assert.equal((await get('/products/20/variations/21')).body.stock_quantity, 9);
    assert.equal((await get('/products/999')).status, 404);
    assert.equal((await get('/products/10', null)).status, 401);
  });

  test('Amazon: getListingsItem includedData=fulfillmentAvailability after setQuantity', async () => {
    const lwa = await call(a.lwaUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: a.refreshToken, client_id: a.clientId, client_secret: a.clientSecret }).toString() });
    const token = lwa.body.access_token;
    const url = `${a.url}/listings/2021-08-01/items/${a.sellerId}/${encodeURIComponent('TEE/BLK')}?marketplaceIds=${a.marketplaceId}&includedData=fulfillmentAvailability`;
    const read = (t = token) => call(url, { headers: t ? { 'x-amz-access-token': t } : {} });
    assert.deepEqual((await read()).body.fulfillmentAvailability, [{ fulfillmentChannelCode: 'DEFAULT', quantity: 6 }]);
    a.setQuantity('TEE/BLK', 1);
    assert.deepEqual((await read()).body.fulfillmentAvailability, [{ fulfillmentChannelCode: 'DEFAULT', quantity: 1 }]);
    assert.equal(a.quantity('TEE/BLK'), 1);
    assert.equal((await read(null)).status, 403);
  });

  test('eBay: getInventoryItem availability.shipToLocationAvailability.quantity after setQuantity', async () => {
    const read = (sku, token = e.token) => call(`${e.url}/sell/inventory/v1/inventory_item/${encodeURIComponent(sku)}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    assert.equal((await read('TEE')).body.availability.shipToLocationAvailability.quantity, 7);
    e.setQuantity('TEE', 12);
    assert.equal((await read('TEE')).body.availability.shipToLocationAvailability.quantity, 12);
    assert.equal(e.listedQuantity('5001'), 12, 'the offer shows the edit too');
    assert.equal((await read('GHOST')).status, 404);
    assert.equal((await read('TEE', null)).status, 401);
  });
});

// -------------------------------------------------------------------------------------------------
describe('sap_b1: Service Layer sessions, Items paging, Orders, goods receipts and issues', () => {
  let sim;
  before(async () => {
    sim = await startSapB1Sim({
      items: Array.from({ length: 5 }, (_, i) => ({ ItemCode: `I${i}`, warehouses: [{ WarehouseCode: '01', InStock: 10 + i, Committed: 1 }] })),
    });
  });
  after(() => sim.close());
  const login = async (body = { CompanyDB: 'SBODEMOUS', UserName: 'manager', Password: 'secret' }) => {
    const r = await call(`${sim.url}/b1s/v1/Login`, { method: 'POST', body });
    return { r, cookie: r.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ') };
  };

  test('login sets B1SESSION and ROUTEID; a wrong password is 401; calls need the session', async () => {
    const bad = await login({ CompanyDB: 'SBODEMOUS', UserName: 'manager', Password: 'x' });
    assert.equal(bad.r.status, 401);
    assert.equal(bad.r.body.error.code, -304);
    const { r, cookie } = await login();
    assert.equal(r.status, 200);
    assert.equal(r.body.SessionTimeout, 30);
    assert.match(cookie, /^B1SESSION=[^;]+; ROUTEID=\.node1$/);
    const none = await call(`${sim.url}/b1s/v1/Items`);
    assert.equal(none.status, 401);
    assert.equal(none.body.error.code, 301);
    sim.expireSessions();
    assert.equal((await call(`${sim.url}/b1s/v1/Items`, { headers: { cookie } })).status, 401);
  });

  test('Items page by Prefer maxpagesize and odata.nextLink, filtered by UpdateDate', async () => {
    const { cookie } = await login();
    const seen = [];
    let path = `/b1s/v1/Items?$select=ItemCode,ItemWarehouseInfoCollection&$orderby=ItemCode&$filter=${encodeURIComponent("UpdateDate ge '2000-01-01'")}`;
    for (let i = 0; path && i < 10; i++) {
      const r = await call(`${sim.url}${path}`, { headers: { cookie, prefer: 'odata.maxpagesize=2' } });
      assert.equal(r.status, 200);
      assert.ok(r.body.value.length <= 2);
      seen.push(...r.body.value.map((v) => v.ItemCode));
      assert.deepEqual(Object.keys(r.body.value[0]), ['ItemCode', 'ItemWarehouseInfoCollection']);
      path = r.body['odata.nextLink'] ? `/b1s/v1/${r.body['odata.nextLink']}` : null;
    }
    assert.deepEqual(seen, ['I0', 'I1', 'I2', 'I3', 'I4']);
    const future = await call(`${sim.url}/b1s/v1/Items?$filter=${encodeURIComponent("UpdateDate ge '2999-01-01'")}`, { headers: { cookie } });
    assert.deepEqual(future.body.value, []);
  });

  test('an order commits stock, is found by NumAtCard, and its cancellation releases it', async () => {
    const { cookie } = await login();
    const r = await call(`${sim.url}/b1s/v1/Orders`, { method: 'POST', headers: { cookie }, body: { CardCode: 'C1', DocDueDate: '2026-12-06', NumAtCard: 'web/1', DocumentLines: [{ ItemCode: 'I0', Quantity: 2, WarehouseCode: '01' }] } });
    assert.equal(r.status, 201);
    assert.ok(r.body.DocEntry > 0);
    const found = await call(`${sim.url}/b1s/v1/Orders?$filter=${encodeURIComponent("NumAtCard eq 'web/1'")}`, { headers: { cookie } });
    assert.deepEqual(found.body.value.map((o) => o.DocEntry), [r.body.DocEntry]);
    const state = async () => (await call(`${sim.url}/__sim/state`)).body.items.find((i) => i.ItemCode === 'I0').ItemWarehouseInfoCollection[0].Committed;
    assert.equal(await state(), 3);
    assert.equal((await call(`${sim.url}/b1s/v1/Orders(${r.body.DocEntry})/Cancel`, { method: 'POST', headers: { cookie } })).status, 204);
    assert.equal(await state(), 1);
    const bad = await call(`${sim.url}/b1s/v1/Orders`, { method: 'POST', headers: { cookie }, body: { CardCode: 'C1', DocumentLines: [{ ItemCode: 'NOPE', Quantity: 1 }] } });
    assert.equal(bad.status, 400);
  });

  test('goods receipts and issues move InStock, are found by JournalMemo; an item reads by key', async () => {
    const { cookie } = await login();
    const item = await call(`${sim.url}/b1s/v1/Items(${encodeURIComponent("'I1'")})?$select=ItemCode,ItemWarehouseInfoCollection`, { headers: { cookie } });
    assert.equal(item.status, 200);
    assert.deepEqual([item.body.ItemCode, item.body.ItemWarehouseInfoCollection[0].InStock], ['I1', 11]);
    assert.equal((await call(`${sim.url}/b1s/v1/Items('NOPE')`, { headers: { cookie } })).status, 404);
    assert.equal((await call(`${sim.url}/b1s/v1/Items('I1')`)).status, 401);
    const post = (collection, body) => call(`${sim.url}/b1s/v1/${collection}`, { method: 'POST', headers: { cookie }, body });
    const line = (Quantity) => [{ ItemCode: 'I1', Quantity, WarehouseCode: '01' }];
    const r = await post('InventoryGenEntries', { JournalMemo: 'StockEdge adjustment request 1', DocumentLines: line(4) });
    assert.equal(r.status, 201);
    assert.equal(sim.inStock('I1', '01'), 15);
    assert.equal((await post('InventoryGenExits', { JournalMemo: 'x', DocumentLines: line(6) })).status, 201);
    assert.equal(sim.inStock('I1', '01'), 9);
    assert.equal((await post('InventoryGenExits', { DocumentLines: line(100) })).status, 400, 'no negative inventory');
    assert.equal((await post('InventoryGenEntries', { JournalMemo: 'y'.repeat(51), DocumentLines: line(1) })).status, 400);
    assert.equal((await post('InventoryGenEntries', { DocumentLines: line(0) })).status, 400);
    const find = (collection, memo) => call(`${sim.url}/b1s/v1/${collection}?$select=DocEntry&$filter=${encodeURIComponent(`JournalMemo eq '${memo}'`)}`, { headers: { cookie } });
    assert.deepEqual((await find('InventoryGenEntries', 'StockEdge adjustment request 1')).body.value.map((d) => d.DocEntry), [r.body.DocEntry]);
    assert.deepEqual((await find('InventoryGenExits', 'StockEdge adjustment request 1')).body.value, []);
    assert.equal(sim.postings.length, 2);
  });
});

// -------------------------------------------------------------------------------------------------
describe('odoo: JSON-2 stock.quant/search_read, sale.order, inventory adjustments', () => {
  let sim;
  before(async () => { sim = await startOdooSim({ quants: [1, 2, 3].map((p) => ({ product: p, location: 8, quantity: 10 * p, reserved_quantity: 1 })) }); });
  after(() => sim.close());
  const read = (body, key = 'odoo-sim-key') => call(`${sim.url}/json/2/stock.quant/search_read`, { method: 'POST', headers: { authorization: `bearer ${key}` }, body });

  test('a wrong key is 401; pages by limit and offset; filters by write_date', async () => {
    assert.equal((await read({}, 'nope')).status, 401);
    const fields = ['product_id', 'location_id', 'quantity', 'reserved_quantity'];
    const p1 = await read({ domain: [['location_id.usage', '=', 'internal']], fields, limit: 2, offset: 0, order: 'id' });
    assert.equal(p1.status, 200);
    assert.deepEqual(p1.body.map((r) => r.product_id[0]), [1, 2]);
    assert.deepEqual(p1.body[0].location_id, [8, 'WH/Loc 8']);
    const p2 = await read({ fields, limit: 2, offset: 2 });
    assert.deepEqual(p2.body.map((r) => [r.product_id[0], r.quantity, r.reserved_quantity]), [[3, 30, 1]]);
    const future = await read({ domain: [['write_date', '>=', '2999-01-01 00:00:00']], fields });
    assert.deepEqual(future.body, []);
    assert.equal((await read({ domain: [['name', 'ilike', 'x']] })).status, 422);
  });

  test('sale.order: found by client_order_ref, created as a draft, confirmed (reserving), cancelled (releasing)', async () => {
    const so = (method, body, key = 'odoo-sim-key') => call(`${sim.url}/json/2/sale.order/${method}`, { method: 'POST', headers: { authorization: `bearer ${key}` }, body });
    const find = (ref) => so('search_read', { domain: [['client_order_ref', '=', ref]], fields: ['id', 'state'], limit: 1 });
    assert.equal((await so('create', { vals_list: [] }, 'nope')).status, 401);
    assert.deepEqual((await find('web/1|A')).body, []);
    const made = await so('create', { vals_list: [{ partner_id: 3, client_order_ref: 'web/1|A', order_line: [[0, 0, { product_id: 2, product_uom_qty: 4 }]] }] });
    assert.equal(made.status, 200);
    const [id] = made.body;
    assert.deepEqual((await find('web/1|A')).body, [{ id, state: 'draft' }]);
    assert.equal((await so('create', { vals_list: [{ client_order_ref: 'x', order_line: [] }] })).status, 422, 'no customer');
    assert.equal((await so('create', { vals_list: [{ partner_id: 3, order_line: [[0, 0, { product_id: 99, product_uom_qty: 1 }]] }] })).status, 422);
    const quant = async () => (await call(`${sim.url}/__sim/state`)).body.quants.find((q) => q.product_id[0] === 2);
    assert.equal((await quant()).reserved_quantity, 1);
    assert.equal((await so('action_confirm', { ids: [id] })).status, 200);
    assert.equal((await quant()).reserved_quantity, 5, 'the delivery reserves the order line');
    assert.equal((await so('action_confirm', { ids: [id] })).status, 422, 'already confirmed');
    assert.deepEqual((await find('web/1|A')).body, [{ id, state: 'sale' }]);
    assert.equal((await so('action_cancel', { ids: [id] })).status, 200);
    assert.equal((await quant()).reserved_quantity, 1, 'released');
    assert.equal(sim.ordersByRef('web/1|A')[0].state, 'cancel');
  });

  test('stock.quant inventory mode: a count moves nothing until applied; the apply is a named move', async () => {
    const q = (model, method, body, key = 'odoo-sim-key') => call(`${sim.url}/json/2/${model}/${method}`, { method: 'POST', headers: { authorization: `bearer ${key}` }, body });
    const tag = 'StockEdge adjustment request 5';
    const moved = () => q('stock.move', 'search_read', { domain: [['is_inventory', '=', true], ['state', '=', 'done'], '|', ['name', '=', tag], ['name', '=like', `${tag} (%`]], fields: ['id', 'name'], limit: 1 });
    assert.equal((await q('stock.quant', 'write', { ids: [1], vals: { inventory_quantity: 1 } }, 'nope')).status, 401);
    const found = await q('stock.quant', 'search_read', { domain: [['product_id', '=', 1], ['location_id', '=', 8], ['lot_id', '=', false], ['package_id', '=', false], ['owner_id', '=', false]], fields: ['id', 'quantity'], limit: 1 });
    assert.deepEqual(found.body, [{ id: 1, quantity: 10 }]);
    assert.equal((await q('stock.quant', 'write', { ids: [1], vals: { inventory_quantity: 7 } })).status, 422, 'not in inventory mode');
    assert.equal((await q('stock.quant', 'write', { ids: [1], vals: { quantity: 7 }, context: { inventory_mode: true } })).status, 422, 'quantity is not writable');
    assert.equal((await q('stock.quant', 'write', { ids: [1], vals: { inventory_quantity: 7 }, context: { inventory_mode: true } })).status, 200);
    assert.equal(sim.quant(1, 8).quantity, 10, 'a count alone moves nothing');
    assert.deepEqual((await moved()).body, []);
    const applied = await q('stock.quant', 'action_apply_inventory', { ids: [1], context: { inventory_name: tag } });
    assert.deepEqual([applied.status, applied.body], [200, null]);
    assert.equal(sim.quant(1, 8).quantity, 7);
    assert.deepEqual((await moved()).body, [{ id: 1, name: tag }]);
    assert.deepEqual((await q('stock.move', 'search_read', { domain: [['name', '=like', 'StockEdge adjustment request 55%']] })).body, []);
    // Applied again without a new count: nothing moves.
    await q('stock.quant', 'action_apply_inventory', { ids: [1], context: { inventory_name: tag } });
    assert.equal(sim.moves.length, 1);
    // No quant: create counts one at 0, the apply brings it to the count.
    const made = await q('stock.quant', 'create', { vals_list: [{ product_id: 9, location_id: 8, inventory_quantity: 4 }], context: { inventory_mode: true } });
    assert.equal(made.status, 200);
    assert.equal(sim.quant(9, 8).quantity, 0);
    await q('stock.quant', 'action_apply_inventory', { ids: made.body });
    assert.deepEqual([sim.quant(9, 8).quantity, sim.moves.at(-1).name, sim.moves.at(-1).quantity], [4, 'Product Quantity Updated', 4]);
  });
});

// -------------------------------------------------------------------------------------------------
describe('netsuite: JWT client credentials, SuiteQL paging, salesOrder and inventoryAdjustment by externalId, concurrency limit', () => {
  let sim;
  before(async () => {
    sim = await startNetSuiteSim({
      balances: [
        { item: 101, location: 1, quantityonhand: 10, quantityavailable: 8 },
        { item: 101, location: 1, quantityonhand: 5, quantityavailable: 5 }, // a second bin
        { item: 102, location: 1, quantityonhand: 3, quantityavailable: 3 },
        { item: 103, location: 2, quantityonhand: 7, quantityavailable: null },
      ],
    });
  });
  after(() => sim.close());
  const creds = () => sim.credentials();
  const claims = (over = {}) => {
    const now = Math.floor(Date.now() / 1000);
    return { iss: creds().client_id, scope: ['rest_webservices'], aud: `${sim.url}/services/rest/auth/oauth2/v1/token`, iat: now, exp: now + 300, ...over };
  };
  const askToken = (jwt, type = ASSERTION_TYPE) => call(`${sim.url}/services/rest/auth/oauth2/v1/token`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_assertion_type: type, client_assertion: jwt }).toString(),
  });
  const header = (over = {}) => ({ typ: 'JWT', alg: 'ES256', kid: creds().certificate_id, ...over });
  const token = async () => (await askToken(signJwt(header(), claims(), creds().private_key))).body.access_token;
  const suiteql = (tok, { limit, offset, q = BALANCES_QUERY, prefer = 'transient' } = {}) => call(
    `${sim.url}/services/rest/query/v1/suiteql?${new URLSearchParams({ ...(limit ? { limit } : {}), ...(offset ? { offset } : {}) })}`,
    { method: 'POST', headers: { authorization: `Bearer ${tok}`, ...(prefer ? { prefer } : {}) }, body: { q } },
  );

  test('the token endpoint verifies the JWT with the registered key, kid, iss, aud and expiry', async () => {
    const ok = await askToken(signJwt(header(), claims(), creds().private_key));
    assert.equal(ok.status, 200);
    assert.equal(ok.body.expires_in, '3600');
    assert.equal(ok.body.token_type, 'bearer');
    const other = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' });
    assert.equal((await askToken(signJwt(header(), claims(), other))).body.error, 'invalid_grant', 'another key');
    assert.equal((await askToken(signJwt(header({ kid: 'nope' }), claims(), creds().private_key))).body.error, 'invalid_client');
    assert.equal((await askToken(signJwt(header(), claims({ iss: 'x' }), creds().private_key))).body.error, 'unauthorized_client');
    assert.equal((await askToken(signJwt(header(), claims({ aud: 'https://x/token' }), creds().private_key))).status, 400);
    const past = Math.floor(Date.now() / 1000) - 4000;
    assert.match((await askToken(signJwt(header(), claims({ iat: past, exp: past + 300 }), creds().private_key))).body.error_description, /expired/);
    assert.match((await askToken(signJwt(header(), claims({ exp: claims().iat + 3600 }), creds().private_key))).body.error_description, /60 minutes/);
    assert.equal((await askToken(signJwt(header(), claims(), creds().private_key), 'password')).status, 400);
    const rsa = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const ps = await startNetSuiteSim({ publicKey: rsa.publicKey.export({ type: 'spki', format: 'pem' }) });
    try {
      const jwt = signJwt({ typ: 'JWT', alg: 'PS256', kid: 'ns-sim-cert' }, { ...claims(), aud: `${ps.url}/services/rest/auth/oauth2/v1/token` }, rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }));
      const r = await call(`${ps.url}/services/rest/auth/oauth2/v1/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, client_assertion: jwt }).toString() });
      assert.equal(r.status, 200, 'PS256 with an RSA certificate');
    } finally { await ps.close(); }
  });

  test('SuiteQL needs a live token and Prefer: transient, sums bins and pages with hasMore and links', async () => {
    assert.equal((await suiteql('nope')).status, 401);
    const tok = await token();
    const noPrefer = await suiteql(tok, { prefer: null });
    assert.equal(noPrefer.status, 400);
    assert.equal(noPrefer.body['o:errorDetails'][0]['o:errorCode'], 'INVALID_HEADER');
    assert.equal((await suiteql(tok, { q: 'SELECT * FROM customer' })).status, 400);
    assert.equal((await suiteql(tok, { limit: 1001 })).status, 400);
    const p1 = await suiteql(tok, { limit: 2 });
    assert.equal(p1.status, 200);
    assert.deepEqual([p1.body.count, p1.body.hasMore, p1.body.totalResults, p1.body.offset], [2, true, 3, 0]);
    assert.deepEqual(p1.body.items.map((r) => [r.item, r.location, r.quantityonhand, r.quantityavailable]), [['101', '1', '15', '13'], ['102', '1', '3', '3']]);
    const next = p1.body.links.find((l) => l.rel === 'next').href;
    assert.equal(next, `${sim.url}/services/rest/query/v1/suiteql?limit=2&offset=2`);
    const p2 = await suiteql(tok, { limit: 2, offset: 2 });
    assert.deepEqual([p2.body.hasMore, p2.body.items.map((r) => [r.item, r.quantityavailable])], [false, [['103', null]]]);
    assert.equal(p2.body.links.find((l) => l.rel === 'next'), undefined);
    sim.expireTokens();
    const expired = await suiteql(tok);
    assert.equal(expired.status, 401);
    assert.equal(expired.body['o:errorDetails'][0]['o:errorCode'], 'INVALID_LOGIN');
  });

  test('a sales order commits stock, is found by externalId, and its externalId stays unique', async () => {
    const tok = await token();
    const auth = { authorization: `Bearer ${tok}` };
    const body = { externalId: 'web_2F1', entity: { id: '42' }, item: { items: [{ item: { id: '102' }, quantity: 2, location: { id: '1' } }] } };
    const r = await call(`${sim.url}/services/rest/record/v1/salesOrder`, { method: 'POST', headers: auth, body });
    assert.equal(r.status, 204);
    const id = r.headers.get('location').split('/').pop();
    const found = await call(`${sim.url}/services/rest/record/v1/salesOrder/eid:web_2F1`, { headers: auth });
    assert.deepEqual([found.status, found.body.id, found.body.externalId], [200, id, 'web_2F1']);
    const dup = await call(`${sim.url}/services/rest/record/v1/salesOrder`, { method: 'POST', headers: auth, body });
    assert.deepEqual([dup.status, dup.body['o:errorDetails'][0]['o:errorCode']], [400, 'DUP_RCRD']);
    assert.equal(sim.orders.length, 1);
    const missing = await call(`${sim.url}/services/rest/record/v1/salesOrder/eid:web_2F2`, { headers: auth });
    assert.deepEqual([missing.status, missing.body['o:errorDetails'][0]['o:errorCode']], [404, 'NONEXISTENT_ID']);
    const p = await suiteql(tok);
    assert.equal(p.body.items.find((x) => x.item === '102').quantityavailable, '1');
    const badEntity = await call(`${sim.url}/services/rest/record/v1/salesOrder`, { method: 'POST', headers: auth, body: { ...body, externalId: 'web_2F3', entity: { id: '9' } } });
    assert.equal(badEntity.status, 400);
  });

  test('eid: lookup of a StockEdge reference (escaped to NetSuite characters) reads orderStatus; a raw one is refused; a cancellation in NetSuite gives the units back', async () => {
    const tok = await token();
    const auth = { authorization: `Bearer ${tok}` };
    const raw = 'amazon/A-9|TEE_1';
    const ext = netsuiteExternalId(raw);
    assert.equal(ext, 'amazon_2FA-9_7CTEE__1');
    const refused = await call(`${sim.url}/services/rest/record/v1/salesOrder`, { method: 'POST', headers: auth, body: { externalId: raw, entity: { id: '42' }, item: { items: [{ item: { id: '102' }, quantity: 1, location: { id: '1' } }] } } });
    assert.equal(refused.status, 400, 'an externalId with / and | is refused');
    assert.equal((await call(`${sim.url}/services/rest/record/v1/salesOrder/eid:${encodeURIComponent(raw)}`, { headers: auth })).status, 400);
    const before = Number((await suiteql(tok)).body.items.find((x) => x.item === '102').quantityavailable);
    const body = { externalId: ext, entity: { id: '42' }, item: { items: [{ item: { id: '102' }, quantity: 1, location: { id: '1' } }] } };
    const r = await call(`${sim.url}/services/rest/record/v1/salesOrder`, { method: 'POST', headers: auth, body });
    assert.equal(r.status, 204);
    const id = r.headers.get('location').split('/').pop();
    const url = `${sim.url}/services/rest/record/v1/salesOrder/eid:${encodeURIComponent(ext)}`;
    const open = await call(url, { headers: auth });
    assert.deepEqual([open.status, open.body.id, open.body.externalId, open.body.orderStatus.id], [200, id, ext, 'B']);
    assert.equal(Number((await suiteql(tok)).body.items.find((x) => x.item === '102').quantityavailable), before - 1);
    assert.equal(sim.cancelOrder(id), true);
    assert.equal(sim.cancelOrder(id), false, 'cancelled once');
    const cancelled = await call(url, { headers: auth });
    assert.deepEqual([cancelled.status, cancelled.body.orderStatus.id], [200, 'C']);
    assert.equal(Number((await suiteql(tok)).body.items.find((x) => x.item === '102').quantityavailable), before);
    assert.equal(sim.ordersByExternalId(ext).length, 1);
    assert.equal(sim.ordersByReference(raw).length, 1);
    const noToken = await call(url, {});
    assert.equal(noToken.status, 401, 'the lookup needs a token like every call');
  });

  test('an inventory adjustment moves on hand by adjustQtyBy once per externalId, is found by eid:, and the on-hand query reads it', async () => {
    const tok = await token();
    const auth = { authorization: `Bearer ${tok}` };
    const url = `${sim.url}/services/rest/record/v1/inventoryAdjustment`;
    const onHand = async (item, location) => (await suiteql(tok, { q: onHandQuery(item, location), limit: 1 })).body.items[0].quantityonhand;
    assert.equal(await onHand(101, 1), '15', 'summed over bins');
    assert.equal(await onHand(102, 2), undefined, 'no balance there: the column is left out');
    const before = sim.onHand(101, 1);
    const body = { externalId: 'stockedge-adjustment-request-1', account: { id: '540' }, adjLocation: { id: '1' }, memo: 'StockEdge adjustment request 1',
      inventory: { items: [{ item: { id: '101' }, location: { id: '1' }, adjustQtyBy: -2 }] } };
    const r = await call(url, { method: 'POST', headers: auth, body });
    assert.equal(r.status, 204);
    const id = r.headers.get('location').split('/').pop();
    assert.equal(sim.onHand(101, 1), before - 2);
    assert.equal(await onHand(101, 1), String(before - 2));
    const found = await call(`${url}/eid:stockedge-adjustment-request-1`, { headers: auth });
    assert.deepEqual([found.status, found.body.id, found.body.externalId, found.body.account.id], [200, id, 'stockedge-adjustment-request-1', '540']);
    const dup = await call(url, { method: 'POST', headers: auth, body });
    assert.deepEqual([dup.status, dup.body['o:errorDetails'][0]['o:errorCode']], [400, 'DUP_RCRD']);
    assert.equal(sim.onHand(101, 1), before - 2, 'a duplicate moves nothing');
    assert.equal(sim.adjustmentsByExternalId('stockedge-adjustment-request-1').length, 1);
    const missing = await call(`${url}/eid:stockedge-adjustment-request-2`, { headers: auth });
    assert.deepEqual([missing.status, missing.body['o:errorDetails'][0]['o:errorCode']], [404, 'NONEXISTENT_ID']);
    // A new location gets a balance row.
    const there = await call(url, { method: 'POST', headers: auth, body: { ...body, externalId: 'x-2', inventory: { items: [{ item: { id: '102' }, location: { id: '2' }, adjustQtyBy: 4 }] } } });
    assert.equal(there.status, 204);
    assert.equal(await onHand(102, 2), '4');
    for (const bad of [{ ...body, externalId: 'x-3', account: { id: '1' } }, { ...body, externalId: 'x-4', adjLocation: undefined },
      { ...body, externalId: 'x-5', inventory: { items: [{ item: { id: '999' }, location: { id: '1' }, adjustQtyBy: 1 }] } },
      { ...body, externalId: 'x-6', inventory: { items: [] } }]) {
      assert.equal((await call(url, { method: 'POST', headers: auth, body: bad })).status, 400, JSON.stringify(bad));
    }
    assert.equal((await call(url, { method: 'POST', body })).status, 401, 'a token like every call');
    assert.equal(sim.adjustments.length, 2);
  });

  test('a sales order is closed by closing its lines (PATCH isclosed): units given back once, status H, lines listed when expanded', async () => {
    const tok = await token();
    const auth = { authorization: `Bearer ${tok}` };
    const avail = async () => Number((await suiteql(tok)).body.items.find((x) => x.item === '102').quantityavailable);
    const before = await avail();
    const ext = 'web_2Fclose-1';
    const body = { externalId: ext, entity: { id: '42' }, item: { items: [{ item: { id: '102' }, quantity: 2, location: { id: '1' } }, { item: { id: '102' }, quantity: 1, location: { id: '1' } }] } };
    const r = await call(`${sim.url}/services/rest/record/v1/salesOrder`, { method: 'POST', headers: auth, body });
    assert.equal(r.status, 204);
    const id = r.headers.get('location').split('/').pop();
    const url = `${sim.url}/services/rest/record/v1/salesOrder/eid:${encodeURIComponent(ext)}`;
    const plain = await call(url, { headers: auth });
    assert.equal(plain.body.item.items, undefined, 'lines only when expanded');
    const expanded = await call(`${url}?expandSubResources=true`, { headers: auth });
    assert.deepEqual(expanded.body.item.items.map((l) => [l.line, l.quantity, l.isClosed]), [[1, 2, false], [2, 1, false]]);
    assert.equal(await avail(), before - 3);
    const patch = (items) => call(`${sim.url}/services/rest/record/v1/salesOrder/${id}`, { method: 'PATCH', headers: auth, body: { item: { items } } });
    assert.equal((await patch([{ line: 1, isclosed: true }])).status, 204);
    assert.equal(await avail(), before - 1, 'line 1 gives its 2 units back');
    assert.equal((await call(url, { headers: auth })).body.orderStatus.id, 'B', 'one line still open');
    assert.equal((await patch([{ line: 1, isclosed: true }, { line: 2, isClosed: true }])).status, 204);
    assert.equal(await avail(), before, 'each line given back once');
    assert.equal((await call(url, { headers: auth })).body.orderStatus.id, 'H');
    assert.equal(sim.closeCalls, 2);
    assert.equal((await patch([{ line: 2, isclosed: true }])).status, 204, 'closing a closed line changes nothing');
    assert.equal(await avail(), before);
    assert.equal(sim.closeCalls, 2);
    assert.equal((await patch([{ line: 3, isclosed: true }])).status, 400, 'no such line');
    assert.equal((await patch([{ line: 1, quantity: 5 }])).status, 400, 'only isclosed');
    assert.equal((await call(`${sim.url}/services/rest/record/v1/salesOrder/${id}`, { method: 'PATCH', body: { item: { items: [] } } })).status, 401);
  });

  test('past the concurrency limit, and as an injected 429: CONCURRENCY_LIMIT_EXCEEDED with Retry-After', async () => {
    const slow = await startNetSuiteSim({ concurrencyLimit: 1, callMs: 150, balances: [{ item: 1, location: 1, quantityonhand: 1 }] });
    try {
      const c = slow.credentials();
      const now = Math.floor(Date.now() / 1000);
      const jwt = signJwt({ typ: 'JWT', alg: 'ES256', kid: c.certificate_id }, { iss: c.client_id, scope: 'restlets,rest_webservices', aud: `${slow.url}/services/rest/auth/oauth2/v1/token`, iat: now, exp: now + 300 }, c.private_key);
      const tok = (await call(`${slow.url}/services/rest/auth/oauth2/v1/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, client_assertion: jwt }).toString() })).body.access_token;
      const ask = () => call(`${slow.url}/services/rest/query/v1/suiteql`, { method: 'POST', headers: { authorization: `Bearer ${tok}`, prefer: 'transient' }, body: { q: BALANCES_QUERY } });
      const [a, b] = await Promise.all([ask(), ask()]);
      const limited = [a, b].find((r) => r.status === 429);
      assert.ok(limited && [a, b].some((r) => r.status === 200), `${a.status} ${b.status}`);
      assert.equal(limited.headers.get('retry-after'), '1');
      assert.equal(limited.body['o:errorDetails'][0]['o:errorCode'], 'CONCURRENCY_LIMIT_EXCEEDED');
      slow.faults.set({ sequence: ['429'], retryAfterSeconds: 2 });
      const injected = await ask();
      assert.deepEqual([injected.status, injected.headers.get('retry-after'), injected.body['o:errorDetails'][0]['o:errorCode']], [429, '2', 'CONCURRENCY_LIMIT_EXCEEDED']);
    } finally { await slow.close(); }
  });
});

// -------------------------------------------------------------------------------------------------
describe('erp webhook: signed documents, 409 on a repeated Idempotency-Key, injected faults', () => {
  let sim;
  before(async () => { sim = await startErpWebhookSim(); });
  after(() => sim.close());
  const post = (doc, { key = 'web/1|TEE:order.created', headers } = {}) => {
    const body = JSON.stringify(doc);
    return call(sim.endpoint, { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': key, ...(headers ?? sim.sign(body)) }, body });
  };
  const created = { type: 'order.created', reference: 'web/1|TEE', order: { key: 'web/1', channel: 'web', id: '1' }, lines: [{ sku: 'TEE', item_code: 'A1', location: 'main', warehouse: '01', quantity: 2 }], at: '2026-12-06T10:00:00.000Z' };

  test('the signature is HMAC-SHA256 over "<timestamp>.<body>", hex, as StockEdge computes it', () => {
    // The same vector as src/alerts/render.rs's test: key "Jefe", timestamp 0.
    const mac = crypto.createHmac('sha256', 'Jefe').update('0.what do ya want for nothing?').digest('hex');
    assert.equal(stockedgeSignature('Jefe', 0, 'what do ya want for nothing?'), `sha256=${mac}`);
  });

  test('a signed document is received once; its repeat is 409; bad signatures, old timestamps, unknown types refused', async () => {
    await call(`${sim.url}/__sim/reset`, { method: 'POST' });
    assert.equal((await post(created)).status, 202);
    assert.equal((await post(created)).status, 409, 'the same Idempotency-Key');
    assert.equal(sim.documents.length, 1);
    assert.equal(sim.ofReference('web/1|TEE')[0].body.lines[0].quantity, 2);
    const body = JSON.stringify(created);
    const wrong = { 'x-stockedge-timestamp': String(Math.floor(Date.now() / 1000)), 'x-stockedge-signature': stockedgeSignature('other', Math.floor(Date.now() / 1000), body) };
    assert.equal((await post(created, { key: 'k2', headers: wrong })).status, 401);
    const old = Math.floor(Date.now() / 1000) - 600;
    assert.equal((await post(created, { key: 'k3', headers: sim.sign(body, old) })).status, 401, 'outside the window');
    assert.equal((await post({ ...created, type: 'order.exploded' }, { key: 'k4' })).status, 422);
    const noKey = await call(sim.endpoint, { method: 'POST', headers: sim.sign(body), body });
    assert.equal(noKey.status, 400);
    assert.equal(sim.documents.length, 1);
    assert.deepEqual(sim.refused.map((r) => r.status), [401, 401, 422, 400]);
  });

  test('injects 429 with Retry-After and 500; a lost answer is recorded, so its retry meets 409', async () => {
    await call(`${sim.url}/__sim/reset`, { method: 'POST' });
    await call(`${sim.url}/__sim/faults`, { method: 'POST', body: { sequence: ['429', '500', 'lost'], retryAfterSeconds: 2 } });
    const throttled = await post(created);
    assert.equal(throttled.status, 429);
    assert.equal(throttled.headers.get('retry-after'), '2');
    assert.equal((await post(created)).status, 500);
    await assert.rejects(post(created), 'the answer is lost');
    assert.equal(sim.documents.length, 1, 'but the document arrived');
    assert.equal((await post(created)).status, 409);
  });
});
