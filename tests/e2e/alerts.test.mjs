// Oversold alerts against the real runtime (workerd) and the channel simulators (tests/sim/):
// "A sale that cannot be covered is recorded and counted in `oversold`, raises an alert event,
// and pushes 0 to every channel at once." A SKU with 2 on hand is listed on Shopify,
// WooCommerce, Amazon, eBay and an EDI 846 partner; a marketplace sale of 5 is recorded with
// oversold 3, one alert (units 3) is listed at /v1/alerts, every listing converges to 0, the
// same sale delivered again adds no alert, a further uncovered sale adds one for its own units,
// stock received adds none, and acknowledging sets acknowledged_at once.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';

import { api, start, unique, until } from './lib/worker.mjs';
import { startShopifySim, sendWebhook as sendShopify, orderCreatedPayload } from '../sim/shopify.mjs';
import { startWooCommerceSim } from '../sim/woocommerce.mjs';
import { startAmazonSim } from '../sim/amazon.mjs';
import { startEbaySim } from '../sim/ebay.mjs';
import { startWholesaleSim } from '../sim/wholesale.mjs';

let rt;
let A;
const sims = {};

before(async () => {
  [sims.shopify, sims.woo, sims.amazon, sims.ebay, sims.wholesale] = await Promise.all([
    startShopifySim(), startWooCommerceSim(), startAmazonSim(), startEbaySim(), startWholesaleSim(),
  ]);
  rt = await start();
  A = api(rt.url);
});
after(async () => {
  await rt?.discard();
  await Promise.all(Object.values(sims).map((s) => s?.close()));
});

const enc = encodeURIComponent;
async function ok(r, status = 200) {
  assert.equal(r.status, status, `${r.status} ${r.text}`);
  return r.body;
}

test('an uncovered sale is counted, raises one alert and zeroes every listing', { timeout: 120_000 }, async () => {
  const run = unique('al');
  const ch = { shopify: `${run}-shopify`, woo: `${run}-woo`, amazon: `${run}-amazon`, ebay: `${run}-ebay`, wholesale: `${run}-edi` };
  await ok(await A.admin('PUT', `/v1/channels/${ch.shopify}`, { kind: 'shopify', account: sims.shopify.shopDomain, credentials_secret: 'SIM_SHOPIFY_TOKEN', settings: { base_url: sims.shopify.url } }), 201);
  await ok(await A.admin('PUT', `/v1/channels/${ch.woo}`, { kind: 'woocommerce', account: 'woo.example', credentials_secret: 'SIM_WOO_CREDENTIALS', settings: { base_url: sims.woo.url } }), 201);
  await ok(await A.admin('PUT', `/v1/channels/${ch.amazon}`, { kind: 'amazon', account: sims.amazon.sellerId, credentials_secret: 'SIM_AMAZON_LWA', settings: { base_url: sims.amazon.url, token_url: sims.amazon.url } }), 201);
  await ok(await A.admin('PUT', `/v1/channels/${ch.ebay}`, { kind: 'ebay', account: 'sim_seller', credentials_secret: 'SIM_EBAY_TOKEN', settings: { base_url: sims.ebay.url } }), 201);
  await ok(await A.admin('PUT', `/v1/channels/${ch.wholesale}`, { kind: 'wholesale', account: 'acme.example', settings: { base_url: sims.wholesale.url, partners: { ACME: { receiver_id: 'ACMERECV' } } } }), 201);

  const sku = `${run}-TEE`;
  const itemId = 810_001;
  const offerId = '9100000001';
  const itemCode = `IC-${run}`;
  sims.shopify.addLocation({ id: 1 });
  sims.shopify.addItem({ id: itemId, sku, levels: { 1: { available: 0 } } });
  sims.woo.addProduct({ id: itemId, sku, manage_stock: true, stock_quantity: 0 });
  sims.amazon.addListing({ sku, quantity: 0 });
  sims.ebay.addItem({ sku, quantity: 0, offers: [{ offerId, availableQuantity: 0 }] });
  await ok(await A.admin('PUT', `/v1/channels/${ch.shopify}/listings/${enc(sku)}`, { external: { inventory_item_id: itemId, location_id: 1 } }), 201);
  await ok(await A.admin('PUT', `/v1/channels/${ch.woo}/listings/${enc(sku)}`, { external: { product_id: itemId } }), 201);
  await ok(await A.admin('PUT', `/v1/channels/${ch.amazon}/listings/${enc(sku)}`, { external: { seller_id: sims.amazon.sellerId, seller_sku: sku, marketplace_ids: [sims.amazon.marketplaceId] } }), 201);
  await ok(await A.admin('PUT', `/v1/channels/${ch.ebay}/listings/${enc(sku)}`, { external: { sku, offer_id: offerId } }), 201);
  await ok(await A.admin('PUT', `/v1/channels/${ch.wholesale}/listings/${enc(sku)}`, { external: { partner_id: 'ACME', item_code: itemCode } }), 201);

  const shows = () => ({
    shopify: sims.shopify.quantity(itemId, 1),
    woo: sims.woo.stockOf(itemId),
    amazon: sims.amazon.quantity(sku),
    ebay: sims.ebay.listedQuantity(offerId),
    wholesale: sims.wholesale.quantity(itemCode),
  });
  const all = (n) => () => Object.values(shows()).every((q) => q === n);
  const alertsOf = async () => (await ok(await A.admin('GET', `/v1/alerts?sku=${enc(sku)}`))).items;

  // Stock 2 reaches every channel; no alert for that.
  await ok(await A.admin('PUT', `/v1/skus/${enc(sku)}/stock`, { on_hand: 2 }));
  assert.ok(await until(all(2), { timeoutMs: 30_000, everyMs: 100 }), `listings before the sale: ${JSON.stringify(shows())}`);
  const marks = Object.fromEntries(Object.entries(sims).map(([k, s]) => [k, s.log.seq]));

  // A marketplace sale of 5: recorded, 3 oversold.
  const sale = { channel: ch.amazon, order_id: '113-0000001', lines: [{ sku, qty: 5 }] };
  const sold = await ok(await A.admin('POST', '/v1/sales', sale));
  assert.equal(sold.skus[0].effect, 'applied');
  assert.equal(sold.skus[0].oversold, 3);
  const state = await ok(await A.admin('GET', `/v1/skus/${enc(sku)}`));
  assert.equal(state.oversold, 3);
  assert.equal(state.available, 0);
  assert.equal(state.committed, 5);

  // One alert, with the units newly oversold and the order that did it.
  const listed = await until(async () => {
    const items = await alertsOf();
    return items.length ? items : null;
  }, { timeoutMs: 30_000, everyMs: 200 });
  assert.ok(listed, 'an alert is listed at /v1/alerts');
  assert.equal(listed.length, 1, JSON.stringify(listed));
  const [alert] = listed;
  assert.equal(alert.kind, 'oversold');
  assert.equal(alert.sku, sku);
  assert.equal(alert.units, 3);
  assert.equal(alert.oversold_total, 3);
  assert.equal(alert.op, 'sale');
  assert.equal(alert.channel, ch.amazon);
  assert.equal(alert.order_id, sale.order_id);
  assert.equal(alert.version, sold.skus[0].version);
  assert.equal(alert.acknowledged_at, null);

  // Every channel is pushed 0.
  assert.ok(await until(all(0), { timeoutMs: 30_000, everyMs: 100 }), `listings after the sale: ${JSON.stringify(shows())}`);
  for (const [name, s] of Object.entries(sims)) {
    const zeroes = s.log.entries({ since: marks[name] }).filter((e) => e.value === 0);
    assert.ok(zeroes.length >= 1, `${name} received no write of 0 after the sale: ${JSON.stringify(s.log.entries({ since: marks[name] }))}`);
  }

  // The same sale delivered again changes nothing and raises nothing.
  const again = await ok(await A.admin('POST', '/v1/sales', sale));
  assert.equal(again.skus[0].effect, 'duplicate');
  assert.equal(again.skus[0].oversold, 3);

  // A further uncovered sale raises its own alert, for its own units.
  const more = await ok(await A.admin('POST', '/v1/sales', { channel: ch.woo, order_id: 'W-77', lines: [{ sku, qty: 1 }] }));
  assert.equal(more.skus[0].oversold, 4);
  const two = await until(async () => {
    const items = await alertsOf();
    return items.length >= 2 ? items : null;
  }, { timeoutMs: 30_000, everyMs: 200 });
  assert.ok(two, 'the second oversale is listed');
  assert.deepEqual(two.map((a) => [a.units, a.oversold_total, a.channel, a.order_id]), [[3, 3, ch.amazon, sale.order_id], [1, 4, ch.woo, 'W-77']]);

  // Stock received lowers oversold and raises no alert; the listings follow.
  await ok(await A.admin('POST', `/v1/skus/${enc(sku)}/adjustments`, { delta: 10, reason: 'received' }));
  assert.ok(await until(all(6), { timeoutMs: 30_000, everyMs: 100 }), `listings after receiving: ${JSON.stringify(shows())}`);
  // Every event up to the adjustment has been consumed (the listings show it), so a third
  // alert would be there by now.
  assert.equal((await alertsOf()).length, 2);

  // Paging: one at a time, oldest first, with next.
  const page1 = await ok(await A.admin('GET', `/v1/alerts?sku=${enc(sku)}&limit=1`));
  assert.deepEqual(page1.items.map((a) => a.id), [alert.id]);
  assert.equal(page1.next, alert.id);
  const page2 = await ok(await A.admin('GET', `/v1/alerts?sku=${enc(sku)}&limit=1&after=${page1.next}`));
  assert.deepEqual(page2.items.map((a) => a.id), [two[1].id]);
  assert.equal(page2.next, undefined);

  // Acknowledging sets acknowledged_at once; an unknown id is a 404 problem.
  const acked = await ok(await A.admin('POST', `/v1/alerts/${alert.id}/acknowledge`));
  assert.equal(acked.id, alert.id);
  assert.match(acked.acknowledged_at, /^\d{4}-\d\d-\d\dT/);
  await new Promise((r) => setTimeout(r, 5));
  const twice = await ok(await A.admin('POST', `/v1/alerts/${alert.id}/acknowledge`));
  assert.equal(twice.acknowledged_at, acked.acknowledged_at);
  const listedAfter = await alertsOf();
  assert.equal(listedAfter[0].acknowledged_at, acked.acknowledged_at);
  assert.equal(listedAfter[1].acknowledged_at, null);
  const missing = await A.admin('POST', '/v1/alerts/999999999/acknowledge');
  assert.equal(missing.status, 404);
  assert.equal(missing.body.type, '/problems/not-found');

  // With an Idempotency-Key the first answer is kept: a repeat gets it byte for byte, flagged;
  // the key with another alert is refused.
  const key = { 'idempotency-key': `ack-${sku}` };
  const keyed = await A.admin('POST', `/v1/alerts/${two[1].id}/acknowledge`, undefined, key);
  assert.equal(keyed.status, 200, keyed.text);
  assert.equal(keyed.headers.get('idempotent-replayed'), null);
  const keyedAgain = await A.admin('POST', `/v1/alerts/${two[1].id}/acknowledge`, undefined, key);
  assert.equal(keyedAgain.status, 200, keyedAgain.text);
  assert.equal(keyedAgain.text, keyed.text);
  assert.equal(keyedAgain.headers.get('idempotent-replayed'), 'true');
  const reused = await A.admin('POST', `/v1/alerts/${alert.id}/acknowledge`, undefined, key);
  assert.equal(reused.status, 422, reused.text);
  assert.equal(reused.body.type, '/problems/idempotency-key-reused');
  const missingKey = { 'idempotency-key': `ack-missing-${sku}` };
  const missingKeyed = await A.admin('POST', '/v1/alerts/999999999/acknowledge', undefined, missingKey);
  assert.equal(missingKeyed.status, 404, missingKeyed.text);
  assert.equal(missingKeyed.headers.get('idempotent-replayed'), null);
  const missingAgain = await A.admin('POST', '/v1/alerts/999999999/acknowledge', undefined, missingKey);
  assert.equal(missingAgain.status, 404);
  assert.equal(missingAgain.text, missingKeyed.text);
  assert.equal(missingAgain.headers.get('idempotent-replayed'), 'true');
  assert.equal((await A.storefront('GET', '/v1/alerts')).status, 403);
});

test('a webhook sale beyond the selling location, with stock elsewhere: oversold, alerted, listed as what is still sellable', { timeout: 120_000 }, async () => {
  const run = unique('alw');
  const shop = `${run}.myshopify.com`.toLowerCase();
  const ch = { shopify: `${run}-shop`, woo: `${run}-woo` };
  // Orders on the Shopify channel take stock from `main` (the default location).
  await ok(await A.admin('PUT', `/v1/channels/${ch.shopify}`, { kind: 'shopify', account: shop, settings: { webhook_secret: 'SIM_SHOPIFY_WEBHOOK_SECRET' } }), 201);
  await ok(await A.admin('PUT', `/v1/channels/${ch.woo}`, { kind: 'woocommerce', account: 'woo.example', credentials_secret: 'SIM_WOO_CREDENTIALS', settings: { base_url: sims.woo.url } }), 201);
  const sku = `${run}-MUG`;
  const productId = 820_001;
  sims.woo.addProduct({ id: productId, sku, manage_stock: true, stock_quantity: 0 });
  await ok(await A.admin('PUT', `/v1/channels/${ch.shopify}/listings/${enc(sku)}`, { external: { inventory_item_id: 820_002, location_id: 1 } }), 201);
  await ok(await A.admin('PUT', `/v1/channels/${ch.woo}/listings/${enc(sku)}`, { external: { product_id: productId } }), 201);
  await ok(await A.admin('PUT', `/v1/skus/${enc(sku)}/stock`, { on_hand: 2 }));
  await ok(await A.admin('PUT', `/v1/skus/${enc(sku)}/stock`, { on_hand: 2, location: 'east' }));
  assert.ok(await until(() => sims.woo.stockOf(productId) === 4, { timeoutMs: 30_000, everyMs: 100 }), `woo before: ${sims.woo.stockOf(productId)}`);

  // Sold on Shopify: 5 from `main`, which holds 2 → 3 oversold; `east` still has 2, all owed.
  const o = { id: 5_550_001, lineItems: [{ id: 5_550_002, sku, quantity: 5, variant_id: 1, product_id: 1 }] };
  const r = await sendShopify(`${rt.url}/v1/webhooks/shopify`, 'orders/create', orderCreatedPayload(o), { shopDomain: shop });
  assert.equal(r.status, 200, r.text);
  const state = await ok(await A.admin('GET', `/v1/skus/${enc(sku)}`));
  assert.deepEqual([state.oversold, state.available], [3, 2]);
  const alerts = await until(async () => {
    const items = (await ok(await A.admin('GET', `/v1/alerts?sku=${enc(sku)}`))).items;
    return items.length ? items : null;
  }, { timeoutMs: 30_000, everyMs: 200 });
  assert.ok(alerts, 'an alert is listed');
  assert.deepEqual(alerts.map((a) => [a.units, a.channel, a.order_id]), [[3, ch.shopify, String(o.id)]]);
  // Available 2 but 3 owed: nothing is sellable, so WooCommerce is pushed 0.
  assert.ok(await until(() => sims.woo.stockOf(productId) === 0, { timeoutMs: 30_000, everyMs: 100 }), `woo after: ${sims.woo.stockOf(productId)}`);
  // Receiving 4 at east: 6 there, 3 of them owed to the oversold order → listed 3.
  await ok(await A.admin('POST', `/v1/skus/${enc(sku)}/adjustments`, { delta: 4, location: 'east', reason: 'received' }));
  assert.ok(await until(() => sims.woo.stockOf(productId) === 3, { timeoutMs: 30_000, everyMs: 100 }), `woo after receiving: ${sims.woo.stockOf(productId)}`);
});
