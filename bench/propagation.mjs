// The oversell model's measured input (docs/oversell.md): commit → simulator received, per channel.
//
//   node bench/propagation.mjs [--changes N] [--out docs/oversell/propagation.json]
//
// Starts its own runtime (fresh state) and the loopback simulators of Shopify, WooCommerce,
// Amazon, eBay and an EDI 846 partner (tests/sim/), lists one SKU on each, then sets the SKU's
// stock N times (default 60), one change at a time, and times, per channel, from sending the
// change (an upper bound of its commit) until the simulator shows the new quantity (polled every 2 ms). No faults are injected
// here: the model adds retries under 429/5xx itself, with the sync consumer's retry policy.
// Writes the samples and their p50/p90/p99/max as JSON (the model and the advice endpoint read
// the committed file).
import fs from 'node:fs';
import os from 'node:os';

import { api, percentile, start, unique, until } from '../tests/e2e/lib/worker.mjs';
import { startShopifySim } from '../tests/sim/shopify.mjs';
import { startWooCommerceSim } from '../tests/sim/woocommerce.mjs';
import { startAmazonSim } from '../tests/sim/amazon.mjs';
import { startEbaySim } from '../tests/sim/ebay.mjs';
import { startWholesaleSim } from '../tests/sim/wholesale.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const CHANGES = Number(arg('--changes', 60));
const OUT = arg('--out', 'docs/oversell/propagation.json');

const sims = {};
[sims.shopify, sims.woocommerce, sims.amazon, sims.ebay, sims.wholesale] = await Promise.all([
  startShopifySim(), startWooCommerceSim(), startAmazonSim(), startEbaySim(), startWholesaleSim(),
]);
const rt = await start();
const A = api(rt.url);
const enc = encodeURIComponent;
async function ok(r, status = 200) {
  if (r.status !== status) throw new Error(`${r.status} ${r.text}`);
  return r.body;
}

try {
  const run = unique('prop');
  const ch = Object.fromEntries(Object.keys(sims).map((k) => [k, `${run}-${k}`]));
  await ok(await A.admin('PUT', `/v1/channels/${ch.shopify}`, { kind: 'shopify', account: sims.shopify.shopDomain, credentials_secret: 'SIM_SHOPIFY_TOKEN', settings: { base_url: sims.shopify.url } }), 201);
  await ok(await A.admin('PUT', `/v1/channels/${ch.woocommerce}`, { kind: 'woocommerce', account: 'woo.example', credentials_secret: 'SIM_WOO_CREDENTIALS', settings: { base_url: sims.woocommerce.url } }), 201);
  await ok(await A.admin('PUT', `/v1/channels/${ch.amazon}`, { kind: 'amazon', account: sims.amazon.sellerId, credentials_secret: 'SIM_AMAZON_LWA', settings: { base_url: sims.amazon.url, token_url: sims.amazon.url } }), 201);
  await ok(await A.admin('PUT', `/v1/channels/${ch.ebay}`, { kind: 'ebay', account: 'sim_seller', credentials_secret: 'SIM_EBAY_TOKEN', settings: { base_url: sims.ebay.url } }), 201);
  await ok(await A.admin('PUT', `/v1/channels/${ch.wholesale}`, { kind: 'wholesale', account: 'acme.example', settings: { base_url: sims.wholesale.url, partners: { ACME: { receiver_id: 'ACMERECV' } } } }), 201);

  const sku = `${run}-S`;
  const id = 810_000;
  const offerId = '9100000000';
  sims.shopify.addLocation({ id: 1 });
  sims.shopify.addItem({ id, sku, levels: { 1: { available: 0 } } });
  sims.woocommerce.addProduct({ id, sku, manage_stock: true, stock_quantity: 0 });
  sims.amazon.addListing({ sku, quantity: 0 });
  sims.ebay.addItem({ sku, quantity: 0, offers: [{ offerId, availableQuantity: 0 }] });
  await ok(await A.admin('PUT', `/v1/channels/${ch.shopify}/listings/${enc(sku)}`, { external: { inventory_item_id: id, location_id: 1 } }), 201);
  await ok(await A.admin('PUT', `/v1/channels/${ch.woocommerce}/listings/${enc(sku)}`, { external: { product_id: id } }), 201);
  await ok(await A.admin('PUT', `/v1/channels/${ch.amazon}/listings/${enc(sku)}`, { external: { seller_id: sims.amazon.sellerId, seller_sku: sku, marketplace_ids: [sims.amazon.marketplaceId] } }), 201);
  await ok(await A.admin('PUT', `/v1/channels/${ch.ebay}/listings/${enc(sku)}`, { external: { sku, offer_id: offerId } }), 201);
  await ok(await A.admin('PUT', `/v1/channels/${ch.wholesale}/listings/${enc(sku)}`, { external: { partner_id: 'ACME', item_code: 'IC-PROP' } }), 201);

  const shows = {
    shopify: () => sims.shopify.quantity(id, 1),
    woocommerce: () => sims.woocommerce.stockOf(id),
    amazon: () => sims.amazon.quantity(sku),
    ebay: () => sims.ebay.listedQuantity(offerId),
    wholesale: () => sims.wholesale.quantity('IC-PROP'),
  };
  const samples = Object.fromEntries(Object.keys(shows).map((k) => [k, []]));
  // One warm-up change (first pushes fetch tokens and open connections), not timed.
  await ok(await A.admin('PUT', `/v1/skus/${enc(sku)}/stock`, { on_hand: 5 }));
  if (!(await until(() => Object.values(shows).every((f) => f() === 5), { timeoutMs: 30_000, everyMs: 20 }))) throw new Error('warm-up change never arrived');
  for (let i = 0; i < CHANGES; i++) {
    const n = 10 + (i % 17);
    const t0 = performance.now();
    await ok(await A.admin('PUT', `/v1/skus/${enc(sku)}/stock`, { on_hand: n }));
    const pending = new Set(Object.keys(shows));
    const done = await until(() => {
      for (const k of [...pending]) {
        if (shows[k]() === n) {
          samples[k].push(Math.round(performance.now() - t0));
          pending.delete(k);
        }
      }
      return pending.size === 0;
    }, { timeoutMs: 30_000, everyMs: 2 });
    if (!done) throw new Error(`change ${i} (${n}) never reached ${[...pending].join(', ')}`);
  }
  // Nearest rank, as `oversell::delay::summarize` computes it (a unit test checks the file).
  const channels = {};
  for (const [k, s] of Object.entries(samples)) {
    channels[k] = { n: s.length, p50_ms: percentile(s, 50), p90_ms: percentile(s, 90), p99_ms: percentile(s, 99), max_ms: Math.max(...s), samples_ms: s };
    console.log(`${k.padEnd(12)} n=${s.length} p50=${channels[k].p50_ms}ms p90=${channels[k].p90_ms}ms p99=${channels[k].p99_ms}ms max=${channels[k].max_ms}ms`);
  }
  const doc = {
    measured_at: new Date().toISOString(),
    note: `bench/propagation.mjs: ${CHANGES} changes, one at a time, commit answered → simulator shows it; wrangler dev --local (workerd) and loopback simulators on one ${os.cpus().length}-core machine, no injected faults`,
    channels,
  };
  fs.writeFileSync(OUT, `${JSON.stringify(doc, null, 1)}\n`);
  console.log(`written to ${OUT}`);
} finally {
  await rt.stop();
  await Promise.all(Object.values(sims).map((s) => s.close()));
}
