// Live reconciliation against the Shopify, WooCommerce, Amazon and eBay simulators: listings in
// sync read back as in sync; quantities a merchant edits in a channel's admin (directly on the
// simulator) are found by a run — the endpoint and the cron (`/__scheduled`) — listed with both
// values, repaired through the push path so the simulators show the intended quantity again, and
// a second run finds nothing. A channel with `on_drift: "flag"` is only flagged until the repair
// button; a difference while a push is under way is not drift; a channel with bad credentials
// reports the error and records no drift.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';

import { runCron } from './lib/reads.mjs';
import { unique, until, useRuntime } from './lib/worker.mjs';
import { startShopifySim } from '../sim/shopify.mjs';
import { startWooCommerceSim } from '../sim/woocommerce.mjs';
import { startAmazonSim } from '../sim/amazon.mjs';
import { startEbaySim } from '../sim/ebay.mjs';

const A = useRuntime({ vars: { RECON_WRONG_SHOPIFY_TOKEN: 'shpat_not_the_shops_token' } });
const sims = {};

before(async () => {
  [sims.shopify, sims.woo, sims.amazon, sims.ebay] = await Promise.all([
    startShopifySim(), startWooCommerceSim(), startAmazonSim(), startEbaySim(),
  ]);
});
after(async () => {
  await Promise.all(Object.values(sims).map((s) => s?.close()));
});

const enc = encodeURIComponent;
async function ok(r, status = 200) {
  assert.equal(r.status, status, `${r.status} ${r.text}`);
  return r.body;
}

const run = unique('rc');
const ch = {
  shopify: `${run}-shopify`, woo: `${run}-woo`, amazon: `${run}-amazon`, ebay: `${run}-ebay`,
  flag: `${run}-woo-flag`, bad: `${run}-shopify-bad`,
};
// Two SKUs listed on all four platforms: A with a buffer of 1, B as is; on hand 10 and 6.
const skus = [`${run}-A`, `${run}-B`];
const rules = [{ buffer: 1 }, {}];
const intended = [9, 6];
const ids = [810_001, 810_002];
const offers = ['8100000001', '8100000002'];

/** What each platform shows for SKU i. */
const shows = (i) => ({
  shopify: sims.shopify.quantity(ids[i], 1),
  woo: sims.woo.stockOf(ids[i]),
  amazon: sims.amazon.quantity(skus[i]),
  ebay: sims.ebay.listedQuantity(offers[i]),
});
const allShow = (i, q) => Object.values(shows(i)).every((v) => v === q);
const byChannel = (body) => Object.fromEntries(body.runs.map((r) => [r.channel, r]));

test('set up: four channels in sync, a flagging channel and one with wrong credentials', { timeout: 90_000 }, async () => {
  const put = (id, body) => A.admin('PUT', `/v1/channels/${id}`, body);
  await ok(await put(ch.shopify, { kind: 'shopify', account: sims.shopify.shopDomain, credentials_secret: 'SIM_SHOPIFY_TOKEN', settings: { base_url: sims.shopify.url } }), 201);
  await ok(await put(ch.woo, { kind: 'woocommerce', account: 'woo.example', credentials_secret: 'SIM_WOO_CREDENTIALS', settings: { base_url: sims.woo.url, poll: false } }), 201);
  await ok(await put(ch.amazon, { kind: 'amazon', account: sims.amazon.sellerId, credentials_secret: 'SIM_AMAZON_LWA', settings: { base_url: sims.amazon.url, token_url: sims.amazon.url, poll: false } }), 201);
  await ok(await put(ch.ebay, { kind: 'ebay', account: 'sim_seller', credentials_secret: 'SIM_EBAY_TOKEN', settings: { base_url: sims.ebay.url, poll: false } }), 201);
  await ok(await put(ch.flag, { kind: 'woocommerce', account: 'woo-flag.example', credentials_secret: 'SIM_WOO_CREDENTIALS', settings: { base_url: sims.woo.url, on_drift: 'flag', poll: false } }), 201);
  await ok(await put(ch.bad, { kind: 'shopify', account: 'bad.myshopify.com', credentials_secret: 'RECON_WRONG_SHOPIFY_TOKEN', settings: { base_url: sims.shopify.url } }), 201);

  sims.shopify.addLocation({ id: 1 });
  for (const [i, sku] of skus.entries()) {
    sims.shopify.addItem({ id: ids[i], sku, levels: { 1: { available: 0 } } });
    sims.woo.addProduct({ id: ids[i], sku, manage_stock: true, stock_quantity: 0 });
    sims.amazon.addListing({ sku, quantity: 0 });
    sims.ebay.addItem({ sku, quantity: 0, offers: [{ offerId: offers[i], availableQuantity: 0 }] });
    const rule = rules[i];
    const listing = (c, external) => A.admin('PUT', `/v1/channels/${c}/listings/${enc(sku)}`, { external, rule });
    await ok(await listing(ch.shopify, { inventory_item_id: ids[i], location_id: 1 }), 201);
    await ok(await listing(ch.woo, { product_id: ids[i] }), 201);
    await ok(await listing(ch.amazon, { seller_id: sims.amazon.sellerId, seller_sku: sku, marketplace_ids: [sims.amazon.marketplaceId] }), 201);
    await ok(await listing(ch.ebay, { sku, offer_id: offers[i] }), 201);
    await ok(await A.admin('PUT', `/v1/skus/${enc(sku)}/stock`, { on_hand: [10, 6][i] }), 200);
  }
  // The flagging channel lists a third WooCommerce product; the bad channel an item of its own.
  sims.woo.addProduct({ id: 810_003, sku: `${run}-C`, manage_stock: true, stock_quantity: 0 });
  await ok(await A.admin('PUT', `/v1/channels/${ch.flag}/listings/${enc(`${run}-C`)}`, { external: { product_id: 810_003 } }), 201);
  await ok(await A.admin('PUT', `/v1/channels/${ch.bad}/listings/${enc(`${run}-C`)}`, { external: { inventory_item_id: 810_003, location_id: 1 } }), 201);
  await ok(await A.admin('PUT', `/v1/skus/${enc(`${run}-C`)}/stock`, { on_hand: 4 }), 200);

  const synced = await until(() => allShow(0, intended[0]) && allShow(1, intended[1]) && sims.woo.stockOf(810_003) === 4, { timeoutMs: 60_000, everyMs: 300 });
  assert.ok(synced, JSON.stringify([shows(0), shows(1), sims.woo.stockOf(810_003)]));

  // In sync: a run reads every listing and finds no drift.
  const body = await ok(await A.admin('POST', `/v1/reconciliation/run`));
  const runs = byChannel(body);
  for (const c of [ch.shopify, ch.woo, ch.amazon, ch.ebay]) {
    assert.deepEqual([runs[c].read, runs[c].drifted, runs[c].repaired, runs[c].error], [2, 0, 0, null], `${c}: ${JSON.stringify(runs[c])}`);
  }
  assert.equal(body.limited, false);
});

test('edits on two platforms are found by the endpoint, listed with both values, repaired; a second run finds nothing', { timeout: 90_000 }, async () => {
  sims.shopify.setQuantities(ids[0], 1, { available: 2 });
  sims.amazon.setQuantity(skus[1], 15);

  const body = await ok(await A.admin('POST', `/v1/reconciliation/run`));
  const runs = byChannel(body);
  assert.deepEqual([runs[ch.shopify].drifted, runs[ch.shopify].repaired], [1, 1], JSON.stringify(runs[ch.shopify]));
  assert.deepEqual([runs[ch.amazon].drifted, runs[ch.amazon].repaired], [1, 1], JSON.stringify(runs[ch.amazon]));
  assert.deepEqual([runs[ch.woo].drifted, runs[ch.ebay].drifted], [0, 0]);

  const drifted = await ok(await A.admin('GET', `/v1/reconciliation?drifted=true&limit=1000`));
  const mine = drifted.items.filter((x) => x.channel.startsWith(run));
  const shop = mine.find((x) => x.channel === ch.shopify);
  assert.deepEqual([shop.sku, shop.intended, shop.live, shop.drift, shop.action], [skus[0], 9, 2, -7, 'repaired'], JSON.stringify(shop));
  assert.deepEqual(shop.external, { inventory_item_id: ids[0], location_id: 1 });
  assert.ok(shop.read_at && shop.repaired_at);
  const amz = mine.find((x) => x.channel === ch.amazon);
  assert.deepEqual([amz.sku, amz.intended, amz.live, amz.drift, amz.action], [skus[1], 6, 15, 9, 'repaired'], JSON.stringify(amz));
  assert.equal(mine.length, 2, JSON.stringify(mine));

  // The drift is also in drift_events, beside the drift webhooks report.
  const events = await ok(await A.admin('GET', `/v1/inbound/drift?channel=${ch.shopify}`));
  assert.deepEqual(events.items.map((e) => [e.sku, e.reported, e.listed, e.action]), [[skus[0], 2, 9, 'push_back']]);

  const repaired = await until(() => sims.shopify.quantity(ids[0], 1) === 9 && sims.amazon.quantity(skus[1]) === 6, { timeoutMs: 30_000 });
  assert.ok(repaired, JSON.stringify([shows(0), shows(1)]));

  // The platforms show what StockEdge intends again: one more run finds no drift.
  // Amazon's reads share the account's request bucket with the repair push just made: a run that
  // finds it empty stops that channel with `throttled` (documented), and the next run reads it.
  let again;
  await until(async () => {
    again = byChannel(await ok(await A.admin('POST', `/v1/reconciliation/run`)));
    return Object.values(again).every((r) => r.error !== 'throttled');
  }, { timeoutMs: 20_000, everyMs: 1_000 });
  for (const c of [ch.shopify, ch.woo, ch.amazon, ch.ebay]) {
    assert.deepEqual([again[c].read, again[c].drifted, again[c].repaired], [2, 0, 0], `${c}: ${JSON.stringify(again[c])}`);
  }
  const still = await ok(await A.admin('GET', `/v1/reconciliation?drifted=true&limit=1000`));
  assert.deepEqual(still.items.filter((x) => x.channel.startsWith(run) && x.channel !== ch.flag), []);
  const shopNow = (await ok(await A.admin('GET', `/v1/reconciliation?channel=${ch.shopify}&sku=${enc(skus[0])}`))).items[0];
  assert.deepEqual([shopNow.status, shopNow.live, shopNow.intended, shopNow.drift], ['in_sync', 9, 9, 0]);
  assert.ok(shopNow.repaired_at, 'the last repair time is kept');
});

test('the cron finds and repairs edits on the other two platforms', { timeout: 90_000 }, async () => {
  sims.woo.setStock(ids[1], 0);
  sims.ebay.setQuantity(skus[0], 3);
  await runCron(A.url);
  const found = await until(async () => {
    const b = await ok(await A.admin('GET', `/v1/reconciliation?drifted=true&limit=1000`));
    const mine = b.items.filter((x) => x.channel === ch.woo || x.channel === ch.ebay);
    return mine.length === 2 && mine;
  }, { timeoutMs: 20_000 });
  assert.ok(found, 'the cron recorded both edits');
  const woo = found.find((x) => x.channel === ch.woo);
  assert.deepEqual([woo.sku, woo.intended, woo.live, woo.action], [skus[1], 6, 0, 'repaired']);
  const ebay = found.find((x) => x.channel === ch.ebay);
  assert.deepEqual([ebay.sku, ebay.intended, ebay.live, ebay.action], [skus[0], 9, 3, 'repaired']);
  const repaired = await until(() => allShow(0, 9) && allShow(1, 6), { timeoutMs: 30_000 });
  assert.ok(repaired, JSON.stringify([shows(0), shows(1)]));
});

test('a difference while a push is still under way is not drift', { timeout: 90_000 }, async () => {
  // eBay refuses every push for now (reads still answer): the change below stays pending there.
  sims.ebay.faults.set({ rate: 1, kinds: ['500'], methods: ['POST'] });
  const eventsBefore = (await ok(await A.admin('GET', `/v1/inbound/drift?channel=${ch.ebay}`))).items.length;
  await ok(await A.admin('PUT', `/v1/skus/${enc(skus[1])}/stock`, { on_hand: 8 }), 200);
  const others = await until(() => sims.shopify.quantity(ids[1], 1) === 8 && sims.woo.stockOf(ids[1]) === 8 && sims.amazon.quantity(skus[1]) === 8, { timeoutMs: 30_000 });
  assert.ok(others, JSON.stringify(shows(1)));
  assert.equal(sims.ebay.listedQuantity(offers[1]), 6);

  const [r] = (await ok(await A.admin('POST', `/v1/reconciliation/run?channel=${ch.ebay}`))).runs;
  assert.deepEqual([r.read, r.drifted, r.repaired, r.in_flight, r.error], [2, 0, 0, 1, null], JSON.stringify(r));
  const item = (await ok(await A.admin('GET', `/v1/reconciliation?channel=${ch.ebay}&sku=${enc(skus[1])}`))).items[0];
  assert.deepEqual([item.status, item.intended, item.live, item.drift, item.action], ['in_flight', 8, 6, -2, null]);
  assert.equal((await ok(await A.admin('GET', `/v1/inbound/drift?channel=${ch.ebay}`))).items.length, eventsBefore, 'no drift recorded');

  // The push gets through once eBay answers again; the next read finds the listing in sync.
  sims.ebay.faults.set({ rate: 0 });
  assert.ok(await until(() => sims.ebay.listedQuantity(offers[1]) === 8, { timeoutMs: 60_000, everyMs: 500 }), 'the retried push lands');
  const [again] = (await ok(await A.admin('POST', `/v1/reconciliation/run?channel=${ch.ebay}`))).runs;
  assert.deepEqual([again.read, again.drifted, again.in_flight], [2, 0, 0], JSON.stringify(again));
});

test('a channel with on_drift "flag" is only flagged, until the repair button', { timeout: 60_000 }, async () => {
  sims.woo.setStock(810_003, 40);
  const body = await ok(await A.admin('POST', `/v1/reconciliation/run?channel=${ch.flag}`));
  assert.deepEqual(body.runs.map((r) => [r.channel, r.read, r.drifted, r.repaired, r.error]), [[ch.flag, 1, 1, 0, null]]);
  const item = (await ok(await A.admin('GET', `/v1/reconciliation?channel=${ch.flag}&drifted=true`))).items[0];
  assert.deepEqual([item.intended, item.live, item.drift, item.action, item.repaired_at], [4, 40, 36, 'flagged', null]);
  const events = await ok(await A.admin('GET', `/v1/inbound/drift?channel=${ch.flag}`));
  assert.deepEqual(events.items.map((e) => [e.reported, e.listed, e.action]), [[40, 4, 'flag']]);
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(sims.woo.stockOf(810_003), 40, 'nothing is pushed for a flagged listing');

  const bad = await A.admin('POST', `/v1/reconciliation/repair`);
  assert.equal(bad.status, 422);
  assert.equal(bad.body.errors[0].field, 'channel');
  assert.deepEqual(await ok(await A.admin('POST', `/v1/reconciliation/repair?channel=${ch.flag}`)), { repaired: 1 });
  assert.ok(await until(() => sims.woo.stockOf(810_003) === 4, { timeoutMs: 30_000 }), `shows ${sims.woo.stockOf(810_003)}`);
  const after = (await ok(await A.admin('GET', `/v1/reconciliation?channel=${ch.flag}`))).items[0];
  assert.equal(after.action, 'repaired');
  assert.ok(after.repaired_at);

  // A listing deleted since its last read is neither listed nor repaired.
  await ok(await A.admin('DELETE', `/v1/channels/${ch.flag}/listings/${enc(`${run}-C`)}`), 204);
  assert.deepEqual((await ok(await A.admin('GET', `/v1/reconciliation?channel=${ch.flag}`))).items, []);
});

test('wrong credentials: the run reports the error and nothing is recorded as drift', { timeout: 30_000 }, async () => {
  const body = await ok(await A.admin('POST', `/v1/reconciliation/run?channel=${ch.bad}`));
  assert.equal(body.runs.length, 1);
  const [r] = body.runs;
  assert.deepEqual([r.channel, r.kind, r.read, r.drifted, r.repaired], [ch.bad, 'shopify', 0, 0, 0]);
  assert.match(r.error, /credentials refused: HTTP 401/);
  assert.deepEqual((await ok(await A.admin('GET', `/v1/reconciliation?channel=${ch.bad}`))).items, []);
  assert.deepEqual((await ok(await A.admin('GET', `/v1/inbound/drift?channel=${ch.bad}`))).items, []);
});

test('bad queries are refused with the field at fault', async () => {
  const r1 = await A.admin('GET', `/v1/reconciliation?drifted=maybe&limit=0`);
  assert.equal(r1.status, 422);
  assert.deepEqual(r1.body.errors.map((e) => e.field), ['limit', 'drifted']);
  const r2 = await A.admin('POST', `/v1/reconciliation/run?channel=${enc('not a token')}`);
  assert.equal(r2.status, 422);
  assert.equal(r2.body.errors[0].field, 'channel');
  assert.equal((await A.storefront('POST', `/v1/reconciliation/run`)).status, 403);
  assert.equal((await A.admin('GET', `/v1/reconciliation/run`)).status, 405);
});
