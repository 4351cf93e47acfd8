// Order-feed polls (issue 6) against the running Worker and the platform simulators: orders whose
// webhook never arrived are read from WooCommerce's `GET /orders?modified_after`, SP-API
// `getOrders` + `getOrderItems` and eBay's Fulfillment `getOrders`, and applied exactly once —
// however often they are polled, and whether or not a webhook also delivered them; cancellations
// found by polling restore stock; sales placed before the channel was connected are not applied;
// a throttled or failing feed keeps its place and the next run catches up; concurrent runs never
// apply an order twice; the cron trigger runs the same poll. Also eBay's endpoint challenge and the
// drift listing.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';

import { runCron } from './lib/reads.mjs';
import { api, start, unique } from './lib/worker.mjs';
import { startWooCommerceSim, sendWebhook as sendWoo } from '../sim/woocommerce.mjs';
import { startAmazonSim } from '../sim/amazon.mjs';
import { startEbaySim } from '../sim/ebay.mjs';

const enc = encodeURIComponent;
const VERIFICATION_TOKEN = 'sim_ebay_verification_token_0123456789abcdef'; // .dev.vars
const MIN = 60_000;

let rt;
let A;
let woo;
let amz;
let eb;
const CH = {};

before(async () => {
  [woo, amz, eb] = await Promise.all([
    startWooCommerceSim(),
    startAmazonSim({ orderItemsRate: { rate: 1000, burst: 1000 }, ordersRate: { rate: 1000, burst: 1000 } }),
    startEbaySim(),
  ]);
  rt = await start();
  A = api(rt.url);
  CH.woo = unique('pwoo');
  CH.amazon = unique('pamz');
  CH.ebay = unique('pebay');
  await channel(CH.woo, {
    kind: 'woocommerce',
    account: woo.siteUrl.replace(/^https?:\/\//, '').replace(/\/$/, ''),
    credentials_secret: 'SIM_WOO_CREDENTIALS',
    settings: { base_url: woo.url, webhook_secret: 'SIM_WOO_WEBHOOK_SECRET' },
  });
  // SP-API only lists orders updated at least 2 minutes ago: this channel's polls start an hour
  // back, and its orders are dated minutes in the past.
  await channel(CH.amazon, {
    kind: 'amazon',
    account: amz.sellerId,
    credentials_secret: 'SIM_AMAZON_LWA',
    settings: { base_url: amz.url, token_url: amz.url, poll_since: new Date(Date.now() - 60 * MIN).toISOString() },
  });
  await channel(CH.ebay, {
    kind: 'ebay',
    account: 'sim_seller',
    credentials_secret: 'SIM_EBAY_TOKEN',
    settings: { base_url: eb.url, webhook_secret: 'SIM_EBAY_VERIFICATION_TOKEN' },
  });
});

after(async () => {
  await rt?.discard();
  await Promise.all([woo, amz, eb].map((s) => s?.close()));
});

// ---------------------------------------------------------------------------------------------
// Helpers

function ok(r, status = 200) {
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

async function available(sku) {
  return ok(await A.admin('GET', `/v1/skus/${enc(sku)}`)).available;
}

/** Runs the poll of one channel now; its run's summary. */
async function poll(ch) {
  const body = ok(await A.admin('POST', `/v1/inbound/polls/run?channel=${enc(ch)}`));
  assert.equal(body.runs.length, 1, JSON.stringify(body));
  return body.runs[0];
}

async function pollStatus(ch) {
  const items = ok(await A.admin('GET', '/v1/inbound/polls')).items;
  return items.find((i) => i.channel === ch);
}

const id = () => crypto.randomInt(1e9, 9e9);
const ago = (ms) => new Date(Date.now() - ms).toISOString();

// ---------------------------------------------------------------------------------------------

describe('woocommerce', () => {
  const setup = async (name) => {
    const S = unique(name);
    const pid = id();
    await stock(S, 10);
    await listing(CH.woo, S, { product_id: pid });
    return { S, pid };
  };

  test('an order whose webhook was lost is applied by the poll, once; its cancellation restores it', async () => {
    const { S, pid } = await setup('PO-WC');
    const ghost = id();
    const o = woo.addOrder({ status: 'processing', line_items: [{ product_id: pid, sku: S, quantity: 3 }, { product_id: ghost, quantity: 2 }] });
    assert.equal(await available(S), 10, 'no webhook: nothing known yet');
    const first = await poll(CH.woo);
    assert.equal(first.result, 'polled', JSON.stringify(first));
    assert.equal(first.finished, true);
    assert.ok(first.sold_lines >= 1, JSON.stringify(first));
    assert.equal(await available(S), 7);
    const again = await poll(CH.woo);
    assert.ok(again.orders_unchanged >= 1, JSON.stringify(again));
    assert.equal(await available(S), 7, 'polled twice, applied once');
    // The same order delivered by a webhook too: still once.
    const r = await sendWoo(`${rt.url}/v1/webhooks/woocommerce`, 'order.updated', woo.order(o.id), { source: woo.siteUrl });
    assert.equal(r.status, 200, r.text);
    assert.equal(await available(S), 7);
    // The unmatched line of the polled order is listed.
    const unmatched = ok(await A.admin('GET', `/v1/inbound/unmatched?channel=${enc(CH.woo)}&limit=1000`)).items;
    assert.ok(unmatched.some((u) => u.order_id === String(o.id) && u.qty === 2), JSON.stringify(unmatched));
    woo.setOrderStatus(o.id, 'cancelled');
    const cancelled = await poll(CH.woo);
    assert.equal(cancelled.cancelled_orders, 1, JSON.stringify(cancelled));
    assert.equal(await available(S), 10);
  });

  test('an order not yet paid is applied when it becomes processing', async () => {
    const { S, pid } = await setup('PO-WC-PENDING');
    const o = woo.addOrder({ status: 'pending', line_items: [{ product_id: pid, sku: S, quantity: 4 }] });
    await poll(CH.woo);
    assert.equal(await available(S), 10);
    woo.setOrderStatus(o.id, 'processing');
    await poll(CH.woo);
    assert.equal(await available(S), 6);
  });

  test('a throttled or failing feed keeps its place; the next run catches up', async () => {
    const { S, pid } = await setup('PO-WC-FAULT');
    woo.addOrder({ status: 'processing', line_items: [{ product_id: pid, sku: S, quantity: 1 }] });
    woo.faults.set({ sequence: ['429'], retryAfterSeconds: 7, paths: ['/wp-json/wc/v3/orders'] });
    const throttled = await poll(CH.woo);
    assert.equal(throttled.result, 'incomplete', JSON.stringify(throttled));
    assert.match(throttled.error, /429/);
    assert.equal(await available(S), 10);
    const status = await pollStatus(CH.woo);
    assert.match(status.last_error ?? '', /429/, JSON.stringify(status));
    woo.faults.set({ sequence: ['500'], paths: ['/wp-json/wc/v3/orders'] });
    assert.equal((await poll(CH.woo)).result, 'incomplete');
    const recovered = await poll(CH.woo);
    assert.equal(recovered.result, 'polled', JSON.stringify(recovered));
    assert.equal(await available(S), 9);
    assert.equal((await pollStatus(CH.woo)).last_error, null);
  });

  test('more orders than one page: every page is read, each order once', async () => {
    const { S, pid } = await setup('PO-WC-PAGES');
    await stock(S, 500);
    for (let i = 0; i < 130; i++) woo.addOrder({ status: 'processing', line_items: [{ product_id: pid, sku: S, quantity: 1 }] });
    const t0 = performance.now();
    const run = await poll(CH.woo);
    const ms = performance.now() - t0;
    console.log(`poll: ${run.orders_applied} WooCommerce orders over ${run.pages} pages applied in ${ms.toFixed(0)} ms (${(run.orders_applied / (ms / 1000)).toFixed(0)} orders/s)`);
    assert.ok(run.pages >= 2, JSON.stringify(run));
    assert.equal(run.finished, true);
    assert.equal(await available(S), 370);
  });

  test('concurrent runs never apply an order twice', async () => {
    const { S, pid } = await setup('PO-WC-CONC');
    for (let i = 0; i < 5; i++) woo.addOrder({ status: 'processing', line_items: [{ product_id: pid, sku: S, quantity: 1 }] });
    const bodies = await Promise.all([1, 2, 3].map(() => A.admin('POST', `/v1/inbound/polls/run?channel=${enc(CH.woo)}`)));
    for (const b of bodies) {
      assert.equal(b.status, 200, b.text);
      assert.ok(['polled', 'busy'].includes(b.body.runs[0].result), b.text);
    }
    await poll(CH.woo);
    assert.equal(await available(S), 5);
  });
});

describe('amazon', () => {
  test('orders read with getOrders + getOrderItems apply once; a cancellation restores; sales before the connection are not applied', async () => {
    const S = unique('PO-AMZ');
    const OLD = unique('PO-AMZ-OLD');
    for (const sku of [S, OLD]) {
      await stock(sku, 10);
      await listing(CH.amazon, sku, { seller_id: amz.sellerId, seller_sku: sku, marketplace_ids: [amz.marketplaceId] });
    }
    const o = amz.addOrder({ OrderStatus: 'Unshipped', PurchaseDate: ago(10 * MIN), LastUpdateDate: ago(10 * MIN), items: [{ SellerSKU: S, QuantityOrdered: 2 }] });
    // Placed two hours ago — before the channel's poll_since — and shipped since.
    amz.addOrder({ OrderStatus: 'Shipped', PurchaseDate: ago(120 * MIN), LastUpdateDate: ago(8 * MIN), items: [{ SellerSKU: OLD, QuantityOrdered: 4 }] });
    // Updated a minute ago: not listed by SP-API yet (LastUpdatedBefore ≥ 2 minutes back).
    const recent = amz.addOrder({ OrderStatus: 'Unshipped', PurchaseDate: ago(MIN), LastUpdateDate: ago(MIN), items: [{ SellerSKU: S, QuantityOrdered: 1 }] });
    const run = await poll(CH.amazon);
    assert.equal(run.result, 'polled', JSON.stringify(run));
    assert.ok(run.orders_before_connection >= 1, JSON.stringify(run));
    // The order updated a minute ago is outside the stretch (it ends 3 minutes back): two read.
    assert.equal(run.orders_read, 2, JSON.stringify(run));
    assert.equal(await available(S), 8);
    assert.equal(await available(OLD), 10);
    await poll(CH.amazon);
    assert.equal(await available(S), 8, 'polled twice, applied once');
    amz.updateOrder(o.AmazonOrderId, { OrderStatus: 'Canceled', LastUpdateDate: ago(5 * MIN) });
    const c = await poll(CH.amazon);
    assert.equal(c.cancelled_orders, 1, JSON.stringify(c));
    assert.equal(await available(S), 10);
    assert.ok(recent.AmazonOrderId);
    // Nothing of it was sold yet: S is back at 10 after the cancellation, not 9.
    assert.notEqual(await available(S), 9);
    const status = await pollStatus(CH.amazon);
    assert.ok(status.watermark && Date.parse(status.watermark) <= Date.now() - 2 * MIN, JSON.stringify(status));
  });
});

describe('ebay', () => {
  test('an order whose notification was lost is applied by the poll, once; its cancellation restores it', async () => {
    const S = unique('PO-EB');
    await stock(S, 10);
    await listing(CH.ebay, S, { sku: S });
    const o = eb.addOrder({ lineItems: [{ sku: S, quantity: 3 }, { sku: unique('PO-EB-GHOST'), quantity: 1 }] });
    const run = await poll(CH.ebay);
    assert.equal(run.result, 'polled', JSON.stringify(run));
    assert.equal(await available(S), 7);
    await poll(CH.ebay);
    assert.equal(await available(S), 7);
    const unmatched = ok(await A.admin('GET', `/v1/inbound/unmatched?channel=${enc(CH.ebay)}`)).items;
    assert.ok(unmatched.some((u) => u.order_id === o.orderId), JSON.stringify(unmatched));
    eb.cancelOrder(o.orderId);
    await poll(CH.ebay);
    assert.equal(await available(S), 10);
  });

  test("eBay's endpoint challenge is answered with SHA-256(code, verification token, endpoint)", async () => {
    const code = 'a8628072-3d33-45ee-9004-bee86830a22d';
    const r = await A.raw('GET', `/v1/webhooks/ebay?challenge_code=${enc(code)}&channel=${enc(CH.ebay)}`);
    assert.equal(r.status, 200, r.text);
    assert.match(r.headers.get('content-type') ?? '', /application\/json/);
    const endpoint = `${rt.url}/v1/webhooks/ebay`;
    const want = crypto.createHash('sha256').update(code).update(VERIFICATION_TOKEN).update(endpoint).digest('hex');
    assert.deepEqual(r.body, { challengeResponse: want });
    const missing = await A.raw('GET', '/v1/webhooks/ebay');
    assert.equal(missing.status, 422, missing.text);
    assert.equal(missing.body.type, '/problems/validation-failed');
    assert.equal(missing.body.errors?.[0]?.field, 'challenge_code', missing.text);
  });
});

describe('cron trigger and operators', () => {
  test('the scheduled handler polls every channel', async () => {
    const S = unique('PO-CRON');
    await stock(S, 10);
    await listing(CH.ebay, S, { sku: S });
    eb.addOrder({ lineItems: [{ sku: S, quantity: 2 }] });
    const before = await pollStatus(CH.ebay);
    await runCron(rt.url);
    assert.equal(await available(S), 8);
    const afterRun = await pollStatus(CH.ebay);
    assert.ok(Date.parse(afterRun.last_run_at) > Date.parse(before?.last_run_at ?? 0), JSON.stringify({ before, afterRun }));
    for (const ch of [CH.woo, CH.amazon]) assert.ok((await pollStatus(ch)).last_run_at, ch);
  });

  test('poll and drift listings need the admin token and validate their parameters', async () => {
    assert.equal((await A.raw('GET', '/v1/inbound/polls')).status, 401);
    assert.equal((await A.storefront('POST', '/v1/inbound/polls/run')).status, 403);
    const bad = await A.admin('POST', '/v1/inbound/polls/run?channel=bad%20id');
    assert.equal(bad.status, 422, bad.text);
    const drift = await A.admin('GET', '/v1/inbound/drift?limit=0');
    assert.equal(drift.status, 422, drift.text);
    assert.equal(drift.body.errors?.[0]?.field, 'limit');
    assert.deepEqual(ok(await A.admin('GET', `/v1/inbound/drift?channel=${enc(CH.woo)}`)).items, []);
  });
});

describe('settings.poll = false', () => {
  test('a channel with poll off is not polled, and its sale applies once polling is turned on', async () => {
    const ch = unique('pwoo-off');
    const settings = { base_url: woo.url, webhook_secret: 'SIM_WOO_WEBHOOK_SECRET' };
    const body = (poll) => ({ kind: 'woocommerce', account: 'woo-poll-off.example', credentials_secret: 'SIM_WOO_CREDENTIALS', settings: { ...settings, ...poll } });
    await channel(ch, body({ poll: false }));
    const S = unique('POLL-OFF');
    const pid = crypto.randomInt(1e9, 9e9);
    await stock(S, 10);
    await listing(ch, S, { product_id: pid });
    woo.addOrder({ status: 'processing', line_items: [{ product_id: pid, sku: S, quantity: 3 }] });

    const off = ok(await A.admin('POST', `/v1/inbound/polls/run?channel=${enc(ch)}`));
    assert.deepEqual(off.runs, [], 'nothing polled');
    assert.equal((await pollStatus(ch))?.last_run_at ?? null, null, 'never run');
    assert.equal(await available(S), 10);

    // The positive marker: the same channel with the poll on reads the sale.
    ok(await A.admin('PUT', `/v1/channels/${enc(ch)}`, body({})), 200);
    const on = await poll(ch);
    assert.equal(on.result, 'polled', JSON.stringify(on));
    assert.equal(await available(S), 7);
  });
});
