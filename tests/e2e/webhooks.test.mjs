// Inbound webhooks (issue 6) against the running Worker, with deliveries built and signed the way
// each platform does (the simulators' senders in tests/sim/, node:crypto for the Amazon forwarder):
// for Shopify, WooCommerce, Amazon and eBay — an order reduces availability once however often and
// in whatever order it arrives (a cancellation first leaves the order cancelled), a cancellation
// restores it, a forged signature is 401 and changes nothing, an unmatched line is listed by
// GET /v1/inbound/unmatched, a body over 1 MiB is 413. Prints webhook→ledger latency.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';

import { api, latencyLine, start, unique, until } from './lib/worker.mjs';
import {
  startShopifySim, sendWebhook as sendShopify, orderCreatedPayload, orderCancelledPayload, refundCreatedPayload,
  inventoryLevelsUpdatePayload,
} from '../sim/shopify.mjs';
import { startWooCommerceSim, sendWebhook as sendWoo, sendPing } from '../sim/woocommerce.mjs';
import { startAmazonSim } from '../sim/amazon.mjs';
import { startEbaySim, notificationPayload, sendNotification, signNotification } from '../sim/ebay.mjs';

const enc = encodeURIComponent;
const MiB = 1024 * 1024;
const FORWARDER_SECRET = 'amazon-forwarder-sim-secret'; // .dev.vars SIM_AMAZON_FORWARDER_SECRET

let rt;
let A;
let woo;
let amz;
let eb;
let shopAdjust;
let shopFlag;
const CH = {};
const SHOP_DOMAIN = `${unique('orders').toLowerCase()}.myshopify.com`;
const latencies = {};

const hook = (platform) => `${rt.url}/v1/webhooks/${platform}`;

before(async () => {
  [woo, amz, eb, shopAdjust, shopFlag] = await Promise.all([
    startWooCommerceSim(),
    startAmazonSim({ orderItemsRate: { rate: 1000, burst: 1000 } }),
    startEbaySim(),
    startShopifySim({ shopDomain: `${unique('adjust').toLowerCase()}.myshopify.com` }),
    startShopifySim({ shopDomain: `${unique('flag').toLowerCase()}.myshopify.com` }),
  ]);
  rt = await start();
  A = api(rt.url);
  CH.shopify = unique('shop');
  CH.woo = unique('woo');
  CH.amazon = unique('amz');
  CH.ebay = unique('ebay');
  await channel(CH.shopify, { kind: 'shopify', account: SHOP_DOMAIN, settings: { webhook_secret: 'SIM_SHOPIFY_WEBHOOK_SECRET' } });
  await channel(CH.woo, { kind: 'woocommerce', account: woo.siteUrl.replace(/^https?:\/\//, '').replace(/\/$/, ''), settings: { webhook_secret: 'SIM_WOO_WEBHOOK_SECRET' } });
  await channel(CH.amazon, {
    kind: 'amazon',
    account: amz.sellerId,
    credentials_secret: 'SIM_AMAZON_LWA',
    settings: { webhook_secret: 'SIM_AMAZON_FORWARDER_SECRET', base_url: amz.url, token_url: amz.url },
  });
  await channel(CH.ebay, { kind: 'ebay', account: 'sim_seller', credentials_secret: 'SIM_EBAY_TOKEN', settings: { base_url: eb.url } });
});

after(async () => {
  await rt?.discard();
  await Promise.all([woo, amz, eb, shopAdjust, shopFlag].map((s) => s?.close()));
  for (const [name, ms] of Object.entries(latencies)) console.log(latencyLine(`webhook→ledger ${name}`, ms));
});

// ---------------------------------------------------------------------------------------------
// Helpers

async function ok(r, status = 200) {
  assert.equal(r.status, status, `${r.status} ${r.text}`);
  return r.body;
}

async function channel(id, body) {
  return ok(await A.admin('PUT', `/v1/channels/${enc(id)}`, body), 201);
}

async function listing(ch, sku, external) {
  return ok(await A.admin('PUT', `/v1/channels/${enc(ch)}/listings/${enc(sku)}`, { external }), 201);
}

async function stock(sku, onHand) {
  return ok(await A.admin('PUT', `/v1/skus/${enc(sku)}/stock`, { on_hand: onHand }));
}

async function state(sku) {
  return ok(await A.admin('GET', `/v1/skus/${enc(sku)}`));
}

async function unmatched(ch) {
  return (await ok(await A.admin('GET', `/v1/inbound/unmatched?channel=${enc(ch)}&limit=1000`))).items;
}

function expectProblem(r, status, slug) {
  assert.equal(r.status, status, `${r.status} ${r.text}`);
  assert.match(r.headers.get('content-type') ?? '', /application\/problem\+json/);
  assert.equal(r.body.type, `/problems/${slug}`, r.text);
}

/** A fetch-like result of the simulators' senders as the harness's shape. */
function asResult(r) {
  let body = r.text;
  try {
    body = JSON.parse(r.text);
  } catch {
    /* not JSON */
  }
  return { status: r.status, text: r.text, body, headers: new Headers(r.headers) };
}

async function post(platform, body, headers, query = '') {
  return A.raw('POST', `/v1/webhooks/${platform}${query}`, { body, headers: { 'content-type': 'application/json', ...headers } });
}

/**
 * wrangler's local proxy answers a plain-text 503 "Your worker restarted mid-request" when its
 * connection to workerd resets under CPU pressure — the runtime's answer, not StockEdge's (whose
 * 503s are problem+json). The platforms redeliver a failed webhook, so the test does too.
 */
const proxyReset = (r) => r.status === 503 && /restarted mid-request/.test(r.text ?? '');

async function delivered(send) {
  for (let attempt = 0; ; attempt++) {
    const r = await send();
    if (!proxyReset(r) || attempt === 3) return r;
  }
}

/** Sends all deliveries at once and checks each answered 200. */
async function concurrently(sends) {
  const rs = await Promise.all(sends.map((f) => delivered(f)));
  for (const r of rs) assert.equal(r.status, 200, `${r.status} ${r.text}`);
  return rs;
}

const id = () => crypto.randomInt(1e9, 9e9);
const bigText = () => 'x'.repeat(MiB + 1);

// ---------------------------------------------------------------------------------------------
// Shopify

describe('shopify', () => {
  const send = (topic, payload, opts = {}) => sendShopify(hook('shopify'), topic, payload, { shopDomain: SHOP_DOMAIN, ...opts }).then(asResult);
  const order = (sku, qty, extra = []) => {
    const oid = id();
    return { id: oid, lineItems: [{ id: id(), sku, quantity: qty, variant_id: id(), product_id: id() }, ...extra] };
  };

  test('an order applies once when delivered 5 times concurrently; its cancellation restores it', async () => {
    const S = unique('WH-SH');
    await stock(S, 10);
    await listing(CH.shopify, S, { inventory_item_id: id(), location_id: 1 });
    const o = order(S, 2);
    const created = orderCreatedPayload(o);
    const event = crypto.randomUUID();
    const rs = await concurrently([
      () => send('orders/create', created, { eventId: event }),
      () => send('orders/create', created, { eventId: event }),
      () => send('orders/create', created, { eventId: event }),
      () => send('orders/create', created), // another event id: the ledger's per-line idempotency
      () => send('orders/create', created),
    ]);
    assert.ok(rs.some((r) => r.body.result === 'applied'), JSON.stringify(rs.map((r) => r.body)));
    let s = await state(S);
    assert.equal(s.available, 8);
    assert.equal(s.committed, 2);
    const journal = await ok(await A.admin('GET', `/v1/skus/${enc(S)}/journal`));
    assert.equal(journal.entries.filter((e) => e.op === 'sale').length, 1);

    const cancelled = await send('orders/cancelled', orderCancelledPayload(o));
    assert.equal(cancelled.status, 200, cancelled.text);
    assert.equal(cancelled.body.cancelled_orders, 1);
    s = await state(S);
    assert.equal(s.available, 10);
    assert.equal(s.committed, 0);
    // A late redelivery of the creation changes nothing.
    assert.equal((await send('orders/create', created)).status, 200);
    assert.equal((await state(S)).available, 10);
  });

  test('two lines of one SKU are journaled with both platform line ids; the cancellation releases both', async () => {
    const S = unique('WH-SH-2L');
    await stock(S, 10);
    await listing(CH.shopify, S, { inventory_item_id: id(), location_id: 1 });
    const o = order(S, 1, [{ id: id(), sku: S, quantity: 2, variant_id: id(), product_id: id() }]);
    const r = await send('orders/create', orderCreatedPayload(o));
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.sold_lines, 2);
    assert.equal((await state(S)).committed, 3);
    const journal = await ok(await A.admin('GET', `/v1/skus/${enc(S)}/journal`));
    const sales = journal.entries.filter((e) => e.op === 'sale');
    assert.equal(sales.length, 1, JSON.stringify(journal.entries));
    assert.deepEqual([...sales[0].cause.line_ids].sort(), o.lineItems.map((l) => String(l.id)).sort());
    assert.equal(sales[0].deltas.committed, 3);
    // Delivered again: neither line counts twice.
    assert.equal((await send('orders/create', orderCreatedPayload(o))).status, 200);
    assert.equal((await state(S)).committed, 3);
    assert.equal((await send('orders/cancelled', orderCancelledPayload(o))).status, 200);
    const s = await state(S);
    assert.equal(s.committed, 0);
    assert.equal(s.available, 10);
  });

  test('a cancellation that arrives first wins over 5 concurrent, later creations', async () => {
    const S = unique('WH-SH-OOO');
    await stock(S, 10);
    await listing(CH.shopify, S, { inventory_item_id: id(), location_id: 1 });
    const o = order(S, 3);
    assert.equal((await send('orders/cancelled', orderCancelledPayload(o))).status, 200);
    const created = orderCreatedPayload(o);
    const event = crypto.randomUUID();
    await concurrently([
      () => send('orders/create', created, { eventId: event }),
      () => send('orders/create', created, { eventId: event }),
      () => send('orders/create', created),
      () => send('orders/cancelled', orderCancelledPayload(o)),
      () => send('orders/create', created),
    ]);
    const s = await state(S);
    assert.equal(s.available, 10);
    assert.equal(s.committed, 0);
  });

  test('a forged, missing or malformed signature is 401 and changes nothing', async () => {
    const S = unique('WH-SH-F');
    await stock(S, 10);
    await listing(CH.shopify, S, { inventory_item_id: id(), location_id: 1 });
    const created = orderCreatedPayload(order(S, 4));
    const event = crypto.randomUUID();
    expectProblem(await send('orders/create', created, { eventId: event, secret: 'not-the-secret' }), 401, 'unauthorized');
    expectProblem(await send('orders/create', created, { eventId: event, signature: '' }), 401, 'unauthorized');
    expectProblem(await send('orders/create', created, { eventId: event, signature: 'not base64!' }), 401, 'unauthorized');
    expectProblem(await send('orders/create', created, { eventId: event, shopDomain: 'someone-else.myshopify.com' }), 401, 'unauthorized');
    // A tampered body with the original signature.
    const body = JSON.stringify(created);
    const sig = crypto.createHmac('sha256', 'shopify-sim-client-secret').update(body).digest('base64');
    expectProblem(await send('orders/create', body.replace('"quantity":4', '"quantity":1'), { eventId: event, signature: sig }), 401, 'unauthorized');
    assert.equal((await state(S)).available, 10);
    // The forged deliveries recorded nothing: the genuine one with the same event id applies.
    const genuine = await send('orders/create', created, { eventId: event });
    assert.equal(genuine.status, 200, genuine.text);
    assert.equal((await state(S)).available, 6);
  });

  test('a line that maps to no listing is listed as unmatched; the rest applies', async () => {
    const S = unique('WH-SH-U');
    const ghost = unique('NOT-LISTED');
    await stock(S, 10);
    await listing(CH.shopify, S, { inventory_item_id: id(), location_id: 1 });
    const o = order(S, 1, [{ id: id(), sku: ghost, quantity: 2, variant_id: id(), product_id: id() }]);
    const r = await send('orders/create', orderCreatedPayload(o));
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.unmatched_lines, 1);
    assert.equal(r.body.sold_lines, 1);
    assert.equal((await state(S)).available, 9);
    const items = await unmatched(CH.shopify);
    const u = items.find((i) => i.order_id === String(o.id));
    assert.ok(u, JSON.stringify(items));
    assert.equal(u.line_id, String(o.lineItems[1].id));
    assert.equal(u.qty, 2);
    assert.equal(u.sku, ghost);
    assert.equal(u.kind, 'sale');
    assert.deepEqual(u.lookup_keys[0], { by: 'sku', value: ghost });
    // Delivered again: still one unmatched record.
    await send('orders/create', orderCreatedPayload(o));
    assert.equal((await unmatched(CH.shopify)).filter((i) => i.order_id === String(o.id)).length, 1);
  });

  test('a body over 1 MiB is 413, signed or not', async () => {
    const S = unique('WH-SH-L');
    await stock(S, 10);
    await listing(CH.shopify, S, { inventory_item_id: id(), location_id: 1 });
    const big = { ...orderCreatedPayload(order(S, 1)), note: bigText() };
    expectProblem(await send('orders/create', big), 413, 'payload-too-large');
    // Streamed without Content-Length.
    const body = JSON.stringify(big);
    const stream = new ReadableStream({
      start(c) {
        for (let i = 0; i < body.length; i += 64 * 1024) c.enqueue(new TextEncoder().encode(body.slice(i, i + 64 * 1024)));
        c.close();
      },
    });
    const res = await fetch(hook('shopify'), {
      method: 'POST',
      body: stream,
      duplex: 'half',
      headers: { 'content-type': 'application/json', 'x-shopify-topic': 'orders/create', 'x-shopify-shop-domain': SHOP_DOMAIN, 'x-shopify-hmac-sha256': 'x' },
    });
    assert.equal(res.status, 413, await res.text());
    assert.equal((await state(S)).available, 10);
  });

  test('a refund that restocks returned units adds them back once per refund line', async () => {
    const S = unique('WH-SH-R');
    await stock(S, 10);
    await listing(CH.shopify, S, { inventory_item_id: id(), location_id: 1 });
    const o = order(S, 3);
    assert.equal((await send('orders/create', orderCreatedPayload(o))).status, 200);
    const li = o.lineItems[0];
    const refund = refundCreatedPayload({
      id: id(),
      orderId: o.id,
      refundLineItems: [
        { id: id(), line_item_id: li.id, quantity: 2, restock_type: 'return', location_id: 1, line_item: { sku: S, variant_id: li.variant_id, product_id: li.product_id } },
        { id: id(), line_item_id: li.id, quantity: 1, restock_type: 'cancel', location_id: 1, line_item: { sku: S, variant_id: li.variant_id, product_id: li.product_id } },
      ],
    });
    const rs = await concurrently([() => send('refunds/create', refund), () => send('refunds/create', refund)]);
    assert.ok(rs.every((r) => r.body.deferred_restock_lines === 1 || r.body.result === 'duplicate'), JSON.stringify(rs.map((r) => r.body)));
    const s = await state(S);
    assert.equal(s.on_hand, 12, 'two returned units back on the shelf, once');
    assert.equal(s.committed, 3, 'the cancel-restocked unit is released by the order cancellation');
    assert.equal((await send('orders/cancelled', orderCancelledPayload(o))).status, 200);
    assert.equal((await state(S)).available, 12);
  });

  test('inventory_levels/update that is not an echo: pushed back (on_drift adjust) or only recorded (flag)', async () => {
    const setup = async (sim, onDrift) => {
      const ch = unique('drift');
      await channel(ch, {
        kind: 'shopify',
        account: sim.shopDomain,
        credentials_secret: 'SIM_SHOPIFY_TOKEN',
        settings: { webhook_secret: 'SIM_SHOPIFY_WEBHOOK_SECRET', base_url: sim.url, on_drift: onDrift },
      });
      const S = unique(`WH-DRIFT-${onDrift}`);
      const item = id();
      sim.addLocation({ id: 1 });
      sim.addItem({ id: item, sku: S, levels: { 1: { available: 0 } } });
      sim.subscribe('inventory_levels/update', hook('shopify'));
      await listing(ch, S, { inventory_item_id: item, location_id: 1 });
      await stock(S, 10);
      assert.ok(await until(() => sim.quantity(item, 1) === 10, { timeoutMs: 15_000, everyMs: 20 }), `pushed: ${sim.quantity(item, 1)}`);
      await sim.flushWebhooks(); // the push's own echo
      return { ch, S, item };
    };
    const adj = await setup(shopAdjust, 'adjust');
    const flag = await setup(shopFlag, 'flag');
    const echoes = shopAdjust.deliveries.length;
    assert.ok(shopAdjust.deliveries.every((d) => d.status === 200), JSON.stringify(shopAdjust.deliveries));

    // A merchant edits stock in Shopify.
    shopAdjust.setQuantities(adj.item, 1, { available: 3 });
    shopFlag.setQuantities(flag.item, 1, { available: 4 });
    await Promise.all([shopAdjust.flushWebhooks(), shopFlag.flushWebhooks()]);
    assert.ok(shopAdjust.deliveries.length > echoes);
    assert.ok(await until(() => shopAdjust.quantity(adj.item, 1) === 10, { timeoutMs: 15_000, everyMs: 20 }), `pushed back: ${shopAdjust.quantity(adj.item, 1)}`);
    // Each delivery was answered once its drift was decided: adjust pushed back, flag only recorded.
    const drift = async (ch) => (await ok(await A.admin('GET', `/v1/inbound/drift?channel=${enc(ch)}`))).items.map((d) => d.action);
    assert.deepEqual(await drift(adj.ch), ['push_back']);
    assert.deepEqual(await drift(flag.ch), ['flag']);
    assert.equal(shopFlag.quantity(flag.item, 1), 4, 'flag: the platform keeps its number');
    // StockEdge's ledger never takes the platform's number.
    assert.equal((await state(adj.S)).available, 10);
    assert.equal((await state(flag.S)).available, 10);
    // Positive markers instead of waiting: a later change of each SKU reaches its platform, and
    // it is the only write since — flag pushed nothing back before it, and adjust's push-back
    // echo started no push loop (its echo and the marker's are flushed; no drift recorded again).
    await shopAdjust.flushWebhooks();
    const since = { adj: shopAdjust.log.entries().length, flag: shopFlag.log.entries().length };
    await stock(adj.S, 12);
    await stock(flag.S, 11);
    assert.ok(await until(() => shopAdjust.quantity(adj.item, 1) === 12, { timeoutMs: 15_000, everyMs: 20 }), `adjust marker: ${shopAdjust.quantity(adj.item, 1)}`);
    assert.ok(await until(() => shopFlag.quantity(flag.item, 1) === 11, { timeoutMs: 15_000, everyMs: 20 }), `flag marker: ${shopFlag.quantity(flag.item, 1)}`);
    await Promise.all([shopAdjust.flushWebhooks(), shopFlag.flushWebhooks()]);
    assert.deepEqual(shopAdjust.log.entries().slice(since.adj).map((e) => e.value), [12], 'adjust: no push loop');
    assert.deepEqual(shopFlag.log.entries().slice(since.flag).map((e) => e.value), [11], 'flag: nothing pushed back');
    assert.deepEqual(await drift(adj.ch), ['push_back'], 'the echoes are not drift');
    assert.deepEqual(await drift(flag.ch), ['flag']);

    // A level for an inventory item nobody lists is ignored.
    const r = await sendShopify(hook('shopify'), 'inventory_levels/update', inventoryLevelsUpdatePayload({ inventory_item_id: id(), location_id: 1, available: 5 }), { shopDomain: shopAdjust.shopDomain }).then(asResult);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.drift_recorded, 0);
  });

  test('stale deliveries, unknown topics and wrong methods', async () => {
    const S = unique('WH-SH-S');
    await stock(S, 10);
    await listing(CH.shopify, S, { inventory_item_id: id(), location_id: 1 });
    const old = new Date(Date.now() - 2 * 24 * 3600 * 1000).toISOString();
    const r = await send('orders/create', orderCreatedPayload(order(S, 1)), { triggeredAt: old });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.result, 'ignored');
    assert.equal(r.body.ignored.reason, 'stale');
    assert.equal((await state(S)).available, 10);
    const other = await send('products/update', { id: 1 });
    assert.equal(other.status, 200);
    assert.equal(other.body.ignored.reason, 'unhandled_topic');
    expectProblem(await A.anon('GET', '/v1/webhooks/shopify'), 405, 'method-not-allowed');
    expectProblem(await A.anon('POST', '/v1/webhooks/etsy', {}), 404, 'not-found');
    expectProblem(await A.anon('GET', '/v1/inbound/unmatched'), 401, 'unauthorized');
    expectProblem(await A.storefront('GET', '/v1/inbound/unmatched'), 403, 'forbidden');
    expectProblem(await A.admin('GET', '/v1/inbound/unmatched?limit=0&after=-1'), 422, 'validation-failed');
  });

  test('50 orders in a row, each answered once its ledger changed (latency printed, not asserted)', async () => {
    const S = unique('WH-SH-LAT');
    await stock(S, 1000);
    await listing(CH.shopify, S, { inventory_item_id: id(), location_id: 1 });
    const ms = [];
    for (let i = 0; i < 50; i++) {
      const t0 = performance.now();
      const r = await send('orders/create', orderCreatedPayload(order(S, 1)));
      ms.push(performance.now() - t0);
      assert.equal(r.status, 200, r.text);
    }
    latencies['shopify orders/create'] = ms;
    assert.equal((await state(S)).committed, 50);
  });
});

// ---------------------------------------------------------------------------------------------
// WooCommerce

describe('woocommerce', () => {
  const send = (topic, payload, opts = {}) => sendWoo(hook('woocommerce'), topic, payload, { source: woo.siteUrl, ...opts }).then(asResult);
  const setup = async (name) => {
    const S = unique(name);
    const pid = id();
    await stock(S, 10);
    await listing(CH.woo, S, { product_id: pid });
    return { S, pid };
  };

  test('an order applies once when delivered 5 times concurrently; its cancellation restores it', async () => {
    const { S, pid } = await setup('WH-WC');
    const o = woo.addOrder({ status: 'processing', line_items: [{ product_id: pid, sku: S, quantity: 2 }] });
    const delivery = crypto.randomBytes(16).toString('hex');
    await concurrently([
      () => send('order.created', o, { deliveryId: delivery }),
      () => send('order.created', o, { deliveryId: delivery }),
      () => send('order.created', o, { deliveryId: delivery }),
      () => send('order.updated', o),
      () => send('order.updated', woo.updateOrder(o.id, { status: 'completed' })),
    ]);
    assert.equal((await state(S)).available, 8);
    const cancelled = await send('order.updated', woo.setOrderStatus(o.id, 'cancelled'));
    assert.equal(cancelled.body.cancelled_orders, 1, cancelled.text);
    assert.equal((await state(S)).available, 10);
  });

  test('a cancellation that arrives first wins over 5 concurrent, later creations', async () => {
    const { S, pid } = await setup('WH-WC-OOO');
    const o = woo.addOrder({ status: 'processing', line_items: [{ product_id: pid, sku: S, quantity: 3 }] });
    const c = woo.setOrderStatus(o.id, 'cancelled');
    assert.equal((await send('order.updated', c)).status, 200);
    await concurrently([1, 2, 3, 4, 5].map(() => () => send('order.created', o)));
    const s = await state(S);
    assert.equal(s.available, 10);
    assert.equal(s.committed, 0);
  });

  test('deliveries the simulated shop makes by itself (order.created, order.deleted)', async () => {
    const { S, pid } = await setup('WH-WC-LIVE');
    woo.addWebhook({ topic: 'order.created', url: hook('woocommerce'), secret: 'wc-sim-webhook-secret' });
    woo.addWebhook({ topic: 'order.deleted', url: hook('woocommerce'), secret: 'wc-sim-webhook-secret' });
    const o = woo.addOrder({ status: 'on-hold', line_items: [{ product_id: pid, sku: S, quantity: 4 }] });
    await woo.flushWebhooks();
    assert.equal((await state(S)).available, 6);
    woo.deleteOrder(o.id);
    await woo.flushWebhooks();
    assert.equal((await state(S)).available, 10);
    assert.ok(woo.deliveries.every((d) => d.status === 200), JSON.stringify(woo.deliveries));
    woo.webhooks.length = 0;
  });

  test('the unsigned creation ping is 200; a forged signature is 401 and changes nothing', async () => {
    const ping = asResult(await sendPing(hook('woocommerce'), 7));
    assert.equal(ping.status, 200, ping.text);
    assert.equal(ping.body.result, 'ping');
    const { S, pid } = await setup('WH-WC-F');
    const o = woo.addOrder({ status: 'processing', line_items: [{ product_id: pid, sku: S, quantity: 2 }] });
    const delivery = crypto.randomBytes(16).toString('hex');
    expectProblem(await send('order.created', o, { deliveryId: delivery, secret: 'wrong' }), 401, 'unauthorized');
    expectProblem(await send('order.created', o, { deliveryId: delivery, signature: '' }), 401, 'unauthorized');
    expectProblem(await send('order.created', o, { deliveryId: delivery, source: 'https://elsewhere.example/' }), 401, 'unauthorized');
    assert.equal((await state(S)).available, 10);
    assert.equal((await send('order.created', o, { deliveryId: delivery })).status, 200);
    assert.equal((await state(S)).available, 8);
  });

  test('an unmatched line is listed; a body over 1 MiB is 413', async () => {
    const { S, pid } = await setup('WH-WC-U');
    const ghost = id();
    const o = woo.addOrder({ status: 'processing', line_items: [{ product_id: pid, sku: S, quantity: 1 }, { product_id: ghost, quantity: 5 }] });
    const r = await send('order.created', o);
    assert.equal(r.body.unmatched_lines, 1, r.text);
    assert.equal((await state(S)).available, 9);
    const u = (await unmatched(CH.woo)).find((i) => i.order_id === String(o.id));
    assert.ok(u);
    assert.equal(u.qty, 5);
    assert.deepEqual(u.lookup_keys, [{ by: 'identity', value: `woocommerce:product:${ghost}` }]);
    expectProblem(await send('order.created', { ...o, customer_note: bigText() }), 413, 'payload-too-large');
    assert.equal((await state(S)).available, 9);
  });

  test('latency: 50 orders', async () => {
    const { S, pid } = await setup('WH-WC-LAT');
    await stock(S, 1000);
    const ms = [];
    for (let i = 0; i < 50; i++) {
      const o = woo.addOrder({ status: 'processing', line_items: [{ product_id: pid, sku: S, quantity: 1 }] });
      const t0 = performance.now();
      const r = await send('order.created', o);
      ms.push(performance.now() - t0);
      assert.equal(r.status, 200, r.text);
    }
    latencies['woocommerce order.created'] = ms;
    assert.equal((await state(S)).committed, 50);
  });
});

// ---------------------------------------------------------------------------------------------
// Amazon (an SQS forwarder's POST, signed as src/inbound/amazon.rs documents)

describe('amazon', () => {
  function orderChange(orderId, status, { notificationId = crypto.randomUUID(), sellerId = amz.sellerId, fulfillment = 'MFN' } = {}) {
    const at = new Date().toISOString();
    return {
      NotificationVersion: '1.0',
      NotificationType: 'ORDER_CHANGE',
      PayloadVersion: '1.0',
      EventTime: at,
      Payload: {
        OrderChangeNotification: {
          NotificationLevel: 'OrderLevel',
          SellerId: sellerId,
          AmazonOrderId: orderId,
          OrderChangeType: 'OrderStatusChange',
          OrderChangeTrigger: { TimeOfOrderChange: at, ChangeReason: 'OrderStatusChange' },
          Summary: { MarketplaceId: amz.marketplaceId, OrderStatus: status, PurchaseDate: at, FulfillmentType: fulfillment, OrderItems: [] },
        },
      },
      NotificationMetadata: { ApplicationId: 'amzn1.sellerapps.app.sim', SubscriptionId: 'sub-1', PublishTime: at, NotificationId: notificationId },
    };
  }
  function forward(payload, { secret = FORWARDER_SECRET, ts = Math.floor(Date.now() / 1000), signature, channel = CH.amazon } = {}) {
    const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
    const sig = signature ?? `sha256=${crypto.createHmac('sha256', secret).update(`${ts}.${body}`).digest('hex')}`;
    return post('amazon', body, { 'x-stockedge-timestamp': String(ts), 'x-stockedge-signature': sig }, channel ? `?channel=${enc(channel)}` : '');
  }
  const setup = async (name, qty) => {
    const S = unique(name);
    await stock(S, 10);
    await listing(CH.amazon, S, { seller_id: amz.sellerId, seller_sku: S, marketplace_ids: [amz.marketplaceId] });
    const o = amz.addOrder({ OrderStatus: 'Unshipped', items: [{ SellerSKU: S, QuantityOrdered: qty }] });
    return { S, orderId: o.AmazonOrderId };
  };

  test('an order applies once when delivered 5 times concurrently; its cancellation restores it', async () => {
    const { S, orderId } = await setup('WH-AMZ', 2);
    const n = orderChange(orderId, 'Unshipped');
    await concurrently([
      () => forward(n),
      () => forward(n),
      () => forward(n, { channel: null }), // the forwarder's secret picks the channel
      () => forward(orderChange(orderId, 'Unshipped')),
      () => forward(orderChange(orderId, 'Shipped')),
    ]);
    assert.equal((await state(S)).available, 8);
    const c = await forward(orderChange(orderId, 'Canceled'));
    assert.equal(c.body.cancelled_orders, 1, c.text);
    assert.equal((await state(S)).available, 10);
  });

  test('a cancellation that arrives first wins over 5 concurrent, later creations', async () => {
    const { S, orderId } = await setup('WH-AMZ-OOO', 3);
    assert.equal((await forward(orderChange(orderId, 'Canceled'))).status, 200);
    await concurrently([1, 2, 3, 4, 5].map(() => () => forward(orderChange(orderId, 'Unshipped'))));
    const s = await state(S);
    assert.equal(s.available, 10);
    assert.equal(s.committed, 0);
  });

  test('a forged or replayed forwarder signature is 401 and changes nothing', async () => {
    const { S, orderId } = await setup('WH-AMZ-F', 2);
    const n = orderChange(orderId, 'Unshipped');
    expectProblem(await forward(n, { secret: 'wrong' }), 401, 'unauthorized');
    expectProblem(await forward(n, { ts: Math.floor(Date.now() / 1000) - 3600 }), 401, 'unauthorized');
    expectProblem(await forward(n, { signature: 'sha256=zz' }), 401, 'unauthorized');
    expectProblem(await post('amazon', JSON.stringify(n), {}, `?channel=${enc(CH.amazon)}`), 401, 'unauthorized');
    assert.equal((await state(S)).available, 10);
    assert.equal((await forward(n)).status, 200);
    assert.equal((await state(S)).available, 8);
  });

  test('an unmatched line is listed; FBA orders are ignored; a body over 1 MiB is 413', async () => {
    const S = unique('WH-AMZ-U');
    const ghost = unique('AMZ-GHOST');
    await stock(S, 10);
    await listing(CH.amazon, S, { seller_id: amz.sellerId, seller_sku: S, marketplace_ids: [amz.marketplaceId] });
    const o = amz.addOrder({ OrderStatus: 'Unshipped', items: [{ SellerSKU: S, QuantityOrdered: 1 }, { SellerSKU: ghost, QuantityOrdered: 4 }] });
    const r = await forward(orderChange(o.AmazonOrderId, 'Unshipped'));
    assert.equal(r.body.unmatched_lines, 1, r.text);
    assert.equal((await state(S)).available, 9);
    const u = (await unmatched(CH.amazon)).find((i) => i.order_id === o.AmazonOrderId);
    assert.equal(u?.sku, ghost);
    assert.equal(u.qty, 4);
    const afn = await forward(orderChange(o.AmazonOrderId, 'Unshipped', { fulfillment: 'AFN' }));
    assert.equal(afn.body.ignored?.reason, 'fulfilled_by_amazon', afn.text);
    expectProblem(await forward({ ...orderChange(o.AmazonOrderId, 'Canceled'), pad: bigText() }), 413, 'payload-too-large');
    assert.equal((await state(S)).available, 9);
  });

  test('latency: 20 orders (each reads its items from the Orders API)', async () => {
    const S = unique('WH-AMZ-LAT');
    await stock(S, 1000);
    await listing(CH.amazon, S, { seller_id: amz.sellerId, seller_sku: S, marketplace_ids: [amz.marketplaceId] });
    const ms = [];
    for (let i = 0; i < 20; i++) {
      const o = amz.addOrder({ OrderStatus: 'Unshipped', items: [{ SellerSKU: S, QuantityOrdered: 1 }] });
      const t0 = performance.now();
      const r = await forward(orderChange(o.AmazonOrderId, 'Unshipped'));
      ms.push(performance.now() - t0);
      assert.equal(r.status, 200, r.text);
    }
    latencies['amazon ORDER_CHANGE (+getOrderItems)'] = ms;
    assert.equal((await state(S)).committed, 20);
  });
});

// ---------------------------------------------------------------------------------------------
// eBay (ECDSA-signed notifications; the key is fetched from the simulator by kid)

describe('ebay', () => {
  const notify = (orderId, opts = {}) => eb.sendNotification(hook('ebay'), notificationPayload({ topic: 'ORDER_CONFIRMATION', data: { orderId }, ...opts })).then(asResult);
  const setup = async (name, qty) => {
    const S = unique(name);
    await stock(S, 10);
    await listing(CH.ebay, S, { sku: S });
    const o = eb.addOrder({ lineItems: [{ sku: S, quantity: qty }] });
    return { S, orderId: o.orderId };
  };

  test('an order applies once when delivered 5 times concurrently; its cancellation restores it', async () => {
    const { S, orderId } = await setup('WH-EB', 2);
    const n = notificationPayload({ topic: 'ORDER_CONFIRMATION', data: { orderId } });
    await concurrently([
      () => eb.sendNotification(hook('ebay'), n).then(asResult),
      () => eb.sendNotification(hook('ebay'), n).then(asResult),
      () => eb.sendNotification(`${hook('ebay')}?channel=${enc(CH.ebay)}`, n).then(asResult),
      () => notify(orderId),
      () => notify(orderId),
    ]);
    assert.equal((await state(S)).available, 8);
    eb.cancelOrder(orderId);
    const c = await notify(orderId);
    assert.equal(c.body.cancelled_orders, 1, c.text);
    assert.equal((await state(S)).available, 10);
  });

  test('a cancellation that arrives first wins over 5 concurrent, later confirmations', async () => {
    const { S, orderId } = await setup('WH-EB-OOO', 3);
    eb.cancelOrder(orderId);
    assert.equal((await notify(orderId)).body.cancelled_orders, 1);
    // The order reads as not cancelled again (a lagging read of eBay's order): the late sale is ignored.
    eb.updateOrder(orderId, { cancelState: 'NONE_REQUESTED' });
    await concurrently([1, 2, 3, 4, 5].map(() => () => notify(orderId)));
    const s = await state(S);
    assert.equal(s.available, 10);
    assert.equal(s.committed, 0);
  });

  test('a forged, unknown-key or malformed signature is 401 and changes nothing', async () => {
    const { S, orderId } = await setup('WH-EB-F', 2);
    const n = notificationPayload({ topic: 'ORDER_CONFIRMATION', data: { orderId } });
    const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const forged = signNotification(JSON.stringify(n), { privateKey, kid: eb.keyId, digest: eb.digest });
    expectProblem(asResult(await sendNotification(hook('ebay'), n, { signatureHeader: forged })), 401, 'unauthorized');
    const unknownKid = signNotification(JSON.stringify(n), { privateKey, kid: 'no-such-key', digest: eb.digest });
    expectProblem(asResult(await sendNotification(hook('ebay'), n, { signatureHeader: unknownKid })), 401, 'unauthorized');
    expectProblem(asResult(await sendNotification(hook('ebay'), n, { signatureHeader: 'bm90IGpzb24=' })), 401, 'unauthorized');
    expectProblem(await post('ebay', JSON.stringify(n), {}), 401, 'unauthorized');
    assert.equal((await state(S)).available, 10);
    assert.equal((await eb.sendNotification(hook('ebay'), n)).status, 200);
    assert.equal((await state(S)).available, 8);
  });

  test('an unmatched line is listed; a body over 1 MiB is 413', async () => {
    const S = unique('WH-EB-U');
    const ghost = unique('EB-GHOST');
    await stock(S, 10);
    await listing(CH.ebay, S, { sku: S });
    const o = eb.addOrder({ lineItems: [{ sku: S, quantity: 1 }, { sku: ghost, quantity: 2 }] });
    const r = await notify(o.orderId);
    assert.equal(r.body.unmatched_lines, 1, r.text);
    assert.equal((await state(S)).available, 9);
    const u = (await unmatched(CH.ebay)).find((i) => i.order_id === o.orderId);
    assert.equal(u?.sku, ghost);
    assert.deepEqual(u.lookup_keys, [{ by: 'identity', value: `ebay:sku:${ghost}` }]);
    const big = notificationPayload({ topic: 'ORDER_CONFIRMATION', data: { orderId: o.orderId, pad: bigText() } });
    expectProblem(asResult(await eb.sendNotification(hook('ebay'), big)), 413, 'payload-too-large');
    assert.equal((await state(S)).available, 9);
  });

  test('latency: 20 orders (each read back with getOrders)', async () => {
    const S = unique('WH-EB-LAT');
    await stock(S, 1000);
    await listing(CH.ebay, S, { sku: S });
    const ms = [];
    for (let i = 0; i < 20; i++) {
      const o = eb.addOrder({ lineItems: [{ sku: S, quantity: 1 }] });
      const t0 = performance.now();
      const r = await notify(o.orderId);
      ms.push(performance.now() - t0);
      assert.equal(r.status, 200, r.text);
    }
    latencies['ebay ORDER_CONFIRMATION (+getOrders)'] = ms;
    assert.equal((await state(S)).committed, 20);
  });
});
