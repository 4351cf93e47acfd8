// First paint of the operator console's overview (a benchmark, not a test): starts the Worker
// under `wrangler dev` with fresh state (tests/e2e/lib/worker.mjs), seeds SKUs (catalogue
// product + stock) and five channels — Shopify, WooCommerce, Amazon, eBay and a wholesale
// partner, on the loopback simulators (tests/sim/) — listing every SKU on every channel, then
// opens `/#/overview` in headless Chromium several times, each in a fresh browser context (cold
// cache, the token already in sessionStorage), and reports per run:
//   fcp       first-contentful-paint (the page's shell)
//   numbers   the performance mark `stockedge:overview-rendered`, set once the counts and the
//             channel table are in the page (console/js/views/overview.js)
// both from navigation start. Target: under 1 s with 1,000 SKUs and 5 channels.
//
//   node bench/first_paint.mjs [--smoke] [--skus N] [--runs N] [--out FILE]
//
// --smoke: 20 SKUs, 2 runs (CI keeps the code working; nothing is written). --out: write the
// markdown result there (scripts/bench.sh puts it into BENCHMARKS.md).

import fs from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';

import { ADMIN_TOKEN, api, percentile, pool, start, until } from '../tests/e2e/lib/worker.mjs';
import { startAll } from '../tests/sim/index.mjs';
import { launch } from '../tests/browser/lib/browser.mjs';

const { values: opt } = parseArgs({
  options: { smoke: { type: 'boolean' }, skus: { type: 'string' }, runs: { type: 'string' }, out: { type: 'string' } },
});
const SKUS = Number(opt.skus ?? (opt.smoke ? 20 : 1000));
const RUNS = Number(opt.runs ?? (opt.smoke ? 2 : 10));
const CONCURRENCY = 16;
const enc = encodeURIComponent;
const log = (...a) => console.error('[first-paint]', ...a);

async function ok(r, status = [200, 201]) {
  if (!status.includes(r.status)) throw new Error(`${r.status} ${r.text.slice(0, 300)}`);
  return r.body;
}

/** Five channels on the simulators, each listing every SKU. */
async function seed(A, sims) {
  const skus = Array.from({ length: SKUS }, (_, i) => `BENCH-${String(i).padStart(5, '0')}`);
  const t0 = Date.now();
  await pool(
    skus.map((sku, i) => async () => {
      await ok(await A.admin('PUT', `/v1/products/${enc(sku)}`, { title: `Bench item ${i}` }));
      await ok(await A.admin('PUT', `/v1/skus/${enc(sku)}/stock`, { on_hand: 5 + (i % 40) }));
    }),
    CONCURRENCY,
  );
  log(`${SKUS} SKUs in ${Date.now() - t0} ms`);
  const channels = {
    'bench-shopify': { kind: 'shopify', account: sims.shopify.shopDomain, credentials_secret: 'SIM_SHOPIFY_TOKEN', settings: { base_url: sims.shopify.url } },
    'bench-woo': { kind: 'woocommerce', account: 'woo.example', credentials_secret: 'SIM_WOO_CREDENTIALS', settings: { base_url: sims.woocommerce.url } },
    'bench-amazon': { kind: 'amazon', account: sims.amazon.sellerId, credentials_secret: 'SIM_AMAZON_LWA', settings: { base_url: sims.amazon.url, token_url: sims.amazon.url } },
    'bench-ebay': { kind: 'ebay', account: 'sim_seller', credentials_secret: 'SIM_EBAY_TOKEN', settings: { base_url: sims.ebay.url } },
    'bench-edi': { kind: 'wholesale', account: 'acme.example', settings: { base_url: sims.wholesale.url, partners: { ACME: { receiver_id: 'ACMERECV' } } } },
  };
  for (const [id, body] of Object.entries(channels)) await ok(await A.admin('PUT', `/v1/channels/${id}`, body));
  sims.shopify.addLocation({ id: 1 });
  const t1 = Date.now();
  await pool(
    skus.map((sku, i) => async () => {
      const item = 700_000 + i;
      const offerId = String(9_300_000_000 + i);
      sims.shopify.addItem({ id: item, sku, levels: { 1: { available: 0 } } });
      sims.woocommerce.addProduct({ id: item, sku, manage_stock: true, stock_quantity: 0 });
      sims.amazon.addListing({ sku, quantity: 0 });
      sims.ebay.addItem({ sku, quantity: 0, offers: [{ offerId, availableQuantity: 0 }] });
      const externals = {
        'bench-shopify': { inventory_item_id: item, location_id: 1 },
        'bench-woo': { product_id: item },
        'bench-amazon': { seller_id: sims.amazon.sellerId, seller_sku: sku, marketplace_ids: [sims.amazon.marketplaceId] },
        'bench-ebay': { sku, offer_id: offerId },
        'bench-edi': { partner_id: 'ACME', item_code: `IC-${sku}` },
      };
      for (const [ch, external] of Object.entries(externals)) {
        await ok(await A.admin('PUT', `/v1/channels/${ch}/listings/${enc(sku)}`, { external }));
      }
    }),
    CONCURRENCY,
  );
  log(`${SKUS * 5} listings in ${Date.now() - t1} ms`);
}

/** Listings still waiting for their push (the queue draining). */
async function pendingListings(A) {
  const s = await ok(await A.admin('GET', '/v1/sync/status'));
  return s.items.filter((i) => i.pending_version !== null && i.pending_version !== undefined).length;
}

async function measure(url, browser) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.addInitScript((token) => sessionStorage.setItem('stockedge.operator-token', token), ADMIN_TOKEN);
  const page = await context.newPage();
  const t0 = Date.now();
  await page.goto(`${url}/#/overview`);
  await page.waitForFunction(() => performance.getEntriesByName('stockedge:overview-rendered').length > 0, null, { timeout: 60_000 });
  const r = await page.evaluate(() => ({
    fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null,
    numbers: performance.getEntriesByName('stockedge:overview-rendered')[0].startTime,
    partial: document.body.innerText.includes('counted from the list endpoints'),
  }));
  const wall = Date.now() - t0;
  await context.close();
  return { ...r, wall };
}

const cleanups = [];
try {
  const sims = await startAll({ amazon: { orderItemsRate: { rate: 1000, burst: 1000 } } });
  cleanups.push(() => sims.close());
  const rt = await start();
  cleanups.push(() => rt.stop());
  const A = api(rt.url);
  await seed(A, sims);
  // Let the listing pushes drain (bounded), so the runs measure the console, not the queue.
  await until(async () => (await pendingListings(A)) === 0, { timeoutMs: opt.smoke ? 10_000 : 180_000, everyMs: 1000 });
  const pending = await pendingListings(A);
  const browser = await launch();
  cleanups.push(() => browser.close());
  const runs = [];
  for (let i = 0; i < RUNS; i++) {
    const r = await measure(rt.url, browser);
    runs.push(r);
    log(`run ${i + 1}: fcp ${r.fcp?.toFixed(0)} ms, numbers ${r.numbers.toFixed(0)} ms${r.partial ? ' (overview counted from the list endpoints)' : ''}`);
  }
  const f = (xs, p) => `${percentile(xs, p).toFixed(0)} ms`;
  const fcp = runs.map((r) => r.fcp).filter((x) => x !== null);
  const numbers = runs.map((r) => r.numbers);
  const source = runs.some((r) => r.partial) ? 'the list endpoints (no `GET /v1/overview` on this build)' : '`GET /v1/overview`';
  const md = [
    `\`node bench/first_paint.mjs\` (${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} cores, headless Chromium, \`wrangler dev --local\`):`,
    `${SKUS.toLocaleString('en')} SKUs, 5 channels (Shopify, WooCommerce, Amazon, eBay, wholesale on the simulators), every SKU listed on each (${(SKUS * 5).toLocaleString('en')} listings, ${pending} still pending a push); ${RUNS} runs, each a fresh browser context (cold cache); counts from ${source}.`,
    '',
    '| from navigation start | p50 | max |',
    '|---|---|---|',
    `| first contentful paint | ${f(fcp, 50)} | ${f(fcp, 100)} |`,
    `| the overview's numbers rendered (\`stockedge:overview-rendered\`) | ${f(numbers, 50)} | ${f(numbers, 100)} |`,
  ].join('\n');
  console.log(md);
  if (opt.out) fs.writeFileSync(opt.out, md + '\n');
} finally {
  while (cleanups.length) await cleanups.pop()().catch(() => {});
}
