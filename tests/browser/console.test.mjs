// The operator console in headless Chromium against the real runtime (workerd via wrangler dev)
// and the Shopify simulator: sign in; a SKU's numbers per location and per channel equal the
// API's; a stock change through the confirmation dialog, and a stale version refused; a push
// failure injected on the simulator is shown with the platform's answer, retried from the page
// and cleared; an unmatched order line is mapped to a SKU; a CSV is checked (dry run) and then
// applied; an oversold alert is acknowledged. A screenshot of every view is saved under
// target/browser-screenshots/.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';

import { unique, until, useRuntime } from '../e2e/lib/worker.mjs';
import { orderCreatedPayload, sendWebhook, startShopifySim } from '../sim/shopify.mjs';
import { screenshot, signIn, useBrowser } from './lib/browser.mjs';

const A = useRuntime();
const browser = useBrowser();
const enc = encodeURIComponent;
after(() => shop?.close());

let shop;
let channel;
let page;
let nextId = 9_100_000;
const id = () => ++nextId;

async function ok(r, status = 200) {
  assert.equal(r.status, status, `${r.status} ${r.text}`);
  return r.body;
}

/** The text of the cell `field` in the row matching `row`, as a number. */
async function cell(row, field) {
  const text = await page.locator(`${row} [data-field="${field}"]`).first().innerText();
  return Number(text.replace(/[^0-9-]/g, ''));
}

/** Opens a view afresh (a reload when the page is on it already) and waits for its data. */
async function open(hash) {
  const target = `${A.url}/${hash}`;
  if (page.url() === target) await page.reload();
  else await page.goto(target);
  await page.locator('main [aria-busy]').waitFor({ state: 'detached' }).catch(() => {});
}

test('setup: a Shopify channel on the simulator, signed in through the form', async () => {
  shop = await startShopifySim({ shopDomain: `${unique('console').toLowerCase()}.myshopify.com` });
  shop.addLocation({ id: 1 });
  channel = unique('shop');
  await ok(
    await A.admin('PUT', `/v1/channels/${channel}`, {
      kind: 'shopify',
      account: shop.shopDomain,
      credentials_secret: 'SIM_SHOPIFY_TOKEN',
      settings: { base_url: shop.url, webhook_secret: 'SIM_SHOPIFY_WEBHOOK_SECRET' },
    }),
    201,
  );
  page = await browser.page();

  // A storefront token is refused with the problem shown; the operator token signs in.
  await page.goto(`${A.url}/`);
  await page.getByLabel('Operator token').fill('dev-storefront');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').filter({ hasText: 'not an operator' }).waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.length), 0, 'a refused token is not kept');
  await screenshot(page, 'sign-in');
  await signIn(page, A.url);
  assert.ok(!page.url().includes('dev-admin'), 'the token never appears in the URL');
  assert.equal(await page.evaluate(() => Object.values(sessionStorage).includes('dev-admin')), true);
});

test('a SKU shows the same numbers per location and per channel as the API', async () => {
  const sku = unique('CON-TEE');
  const item = id();
  shop.addItem({ id: item, sku, levels: { 1: { available: 0 } } });
  await ok(await A.admin('PUT', `/v1/skus/${enc(sku)}/stock`, { on_hand: 12 }));
  await ok(await A.admin('PUT', `/v1/skus/${enc(sku)}/stock`, { on_hand: 5, location: 'east' }));
  await ok(await A.admin('PUT', `/v1/channels/${channel}/listings/${enc(sku)}`, { external: { inventory_item_id: item, location_id: 1 }, rule: { buffer: 2 } }), 201);
  await ok(await A.storefront('POST', '/v1/reservations', { lines: [{ sku, qty: 3 }] }), 201);
  assert.ok(await until(() => shop.quantity(item, 1) === 12, { timeoutMs: 20_000 }), `the listing shows ${shop.quantity(item, 1)}`);
  const pushed = await until(async () => {
    const s = await ok(await A.admin('GET', '/v1/sync/status'));
    return s.items.find((i) => i.channel === channel && i.sku === sku && i.last_quantity === 12 && i.pending_version === null);
  }, { timeoutMs: 20_000 });
  assert.ok(pushed, 'the push is recorded');

  // Searched from the SKU view's search box.
  await open('#/sku');
  await page.getByLabel('SKU', { exact: true }).fill(sku);
  await page.getByRole('button', { name: 'Show' }).click();
  await page.getByRole('heading', { name: `SKU ${sku}` }).waitFor();
  await page.locator('tr[data-location="east"]').waitFor();
  const api = await ok(await A.admin('GET', `/v1/skus/${enc(sku)}`));
  for (const field of ['on_hand', 'reserved', 'committed', 'available', 'backordered', 'oversold', 'version']) {
    assert.equal(await cell('.totals', field), api[field], `total ${field}`);
  }
  assert.equal(api.locations.length, 2);
  for (const l of api.locations) {
    for (const field of ['on_hand', 'reserved', 'committed', 'available']) {
      assert.equal(await cell(`tr[data-location="${l.location}"]`, field), l[field], `${l.location} ${field}`);
    }
  }
  // Per channel: what was last pushed (and intended, where the Worker tells it).
  const row = `tr[data-channel="${channel}"]`;
  await page.locator(row).waitFor();
  assert.equal(await cell(row, 'last_quantity'), pushed.last_quantity);
  const listings = await ok(await A.admin('GET', `/v1/skus/${enc(sku)}/listings`));
  const l = listings.items.find((i) => i.channel === channel);
  assert.equal(await cell(row, 'intended_quantity'), l.intended_quantity);
  assert.equal(await page.locator(`${row} [data-field="status"]`).innerText(), l.status.replace('_', ' '));
  // The buffer the advisor advises for the listing, beside it (issue 15).
  const advice = await ok(await A.admin('GET', `/v1/channels/${channel}/listings/${enc(sku)}/advice`));
  const advised = page.locator(`${row} [data-field="advised_buffer"]`);
  await page.waitForFunction((sel) => !document.querySelector(sel)?.innerText.includes('…'), `${row} [data-field="advised_buffer"]`);
  assert.equal(Number((await advised.innerText()).trim()), advice.buffer.advised, JSON.stringify(advice.buffer));
  // The live quantity read back from the channel, after a merchant edited it in Shopify's admin:
  // the page shows the reconciliation's read (and its drift) beside what StockEdge intends.
  shop.setQuantities(item, 1, { available: 7 });
  const run = await ok(await A.admin('POST', `/v1/reconciliation/run?channel=${channel}`));
  assert.equal(run.runs[0].error ?? null, null, JSON.stringify(run));
  const read = (await ok(await A.admin('GET', `/v1/reconciliation?sku=${enc(sku)}&channel=${channel}`))).items[0];
  await open(`#/sku/${enc(sku)}`);
  await page.locator(row).waitFor();
  const live = await page.locator(`${row} [data-field="live"]`).innerText();
  const shown = read.drift ? `${read.live} (drift ${read.drift > 0 ? '+' : ''}${read.drift})` : `${read.live}`;
  assert.equal(live.trim(), shown, JSON.stringify(read));
  // Not hot: the page says holds go to the SKU itself; an operator's policy is shown as such.
  const hotness = page.locator('[data-field="hotness"]');
  await hotness.filter({ hasText: 'off' }).waitFor();
  await ok(await A.admin('PUT', `/v1/skus/${enc(sku)}/policy`, { hot: true, allotments: 3, block: 7, lease_seconds: 120 }));
  await open(`#/sku/${enc(sku)}`);
  await hotness.filter({ hasText: 'set by an operator' }).waitFor();
  assert.match(await hotness.innerText(), /3 allotments, blocks of 7 units, leases of 120 s/);
  await ok(await A.admin('PUT', `/v1/skus/${enc(sku)}/policy`, { hot: false }));
  // The journal as a timeline and a chart whose last point is the current availability.
  const journal = await ok(await A.admin('GET', `/v1/skus/${enc(sku)}/journal`));
  assert.equal(await page.locator('.timeline li').count(), journal.entries.length);
  const title = await page.locator('svg.chart > title').textContent();
  assert.match(title, new RegExp(`now ${api.available}$`), title);
  await screenshot(page, 'sku');
  await page.setViewportSize({ width: 390, height: 844 });
  await screenshot(page, 'sku-phone');
  await page.setViewportSize({ width: 1280, height: 900 });
});

test('stock is set through the confirmation dialog; a stale version is refused and shown', async () => {
  const sku = unique('CON-SET');
  await ok(await A.admin('PUT', `/v1/skus/${enc(sku)}/stock`, { on_hand: 4 }));
  await open(`#/sku/${enc(sku)}`);
  await page.getByLabel('Quantity').fill('9');
  await page.getByLabel('Reason').selectOption('received');
  await page.getByRole('button', { name: 'Review change…' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByText('from 4 to 9').waitFor();
  // Cancelling changes nothing.
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  assert.equal((await ok(await A.admin('GET', `/v1/skus/${enc(sku)}`))).on_hand, 4);
  await page.getByRole('button', { name: 'Review change…' }).click();
  await dialog.getByRole('button', { name: 'Set' }).click();
  await page.getByText('Done: applied').waitFor();
  const after = await ok(await A.admin('GET', `/v1/skus/${enc(sku)}`));
  assert.equal(after.on_hand, 9);
  const journal = await ok(await A.admin('GET', `/v1/skus/${enc(sku)}/journal`));
  assert.equal(journal.entries.at(-1).cause.reason, 'received');
  await page.locator('.totals [data-field="on_hand"]', { hasText: '9' }).waitFor();

  // Someone else changes it; the console still shows the old version: refused, nothing set.
  await ok(await A.admin('POST', `/v1/skus/${enc(sku)}/adjustments`, { delta: 1, reason: 'received' }));
  await page.getByLabel('Quantity').fill('2');
  await page.getByRole('button', { name: 'Review change…' }).click();
  await dialog.getByRole('button', { name: 'Set' }).click();
  const problem = page.locator('.problem[data-problem-type="/problems/version-conflict"]');
  await problem.waitFor();
  assert.match(await problem.innerText(), /Version conflict/);
  assert.equal((await ok(await A.admin('GET', `/v1/skus/${enc(sku)}`))).on_hand, 10);
});

test('a push failure injected on the simulator is shown, retried from the page and cleared', async () => {
  const sku = unique('CON-FAIL');
  const item = id();
  // The shop does not have the item yet: the push fails for good ("unknown listing").
  await ok(await A.admin('PUT', `/v1/channels/${channel}/listings/${enc(sku)}`, { external: { inventory_item_id: item, location_id: 1 } }), 201);
  await ok(await A.admin('PUT', `/v1/skus/${enc(sku)}/stock`, { on_hand: 6 }));
  const failure = await until(async () => (await ok(await A.admin('GET', '/v1/sync/failures'))).items.find((f) => f.sku === sku), { timeoutMs: 20_000 });
  assert.ok(failure, 'the failure is listed by the API');

  await open('#/overview');
  await page.locator('[data-count="sync_failures"]').waitFor();
  const shown = Number((await page.locator('[data-count="sync_failures"] .n').innerText()).replace(/\D/g, ''));
  assert.ok(shown >= 1, `the overview counts the failure (${shown})`);
  await screenshot(page, 'overview');
  await page.setViewportSize({ width: 390, height: 844 });
  await screenshot(page, 'overview-phone');
  await page.setViewportSize({ width: 1280, height: 900 });

  await page.locator('[data-count="sync_failures"]').click();
  await page.getByRole('heading', { name: 'Failures', level: 1 }).waitFor();
  const row = page.locator(`tr[data-failure-id="${failure.id}"]`);
  await row.waitFor();
  assert.equal(await row.locator('[data-field="reason"]').innerText(), failure.reason);
  await screenshot(page, 'failures');

  // The merchant creates the item on the shop; the retry pushes and the failure clears.
  shop.addItem({ id: item, sku, levels: { 1: { available: 0 } } });
  await row.getByRole('button', { name: `Retry failure ${failure.id} (${sku} on ${channel})` }).click();
  await row.waitFor({ state: 'detached' });
  assert.ok(await until(() => shop.quantity(item, 1) === 6, { timeoutMs: 20_000 }), `the retried push arrived: ${shop.quantity(item, 1)}`);
  await page.waitForTimeout(1000);
  await open('#/failures');
  assert.equal(await page.locator(`tr[data-sku="${sku}"]`).count(), 0, 'no failure left for the SKU');
  assert.equal((await ok(await A.admin('GET', '/v1/sync/failures'))).items.filter((f) => f.sku === sku).length, 0);
});

test('an unmatched order line is mapped to a SKU from the page', async (t) => {
  const sku = unique('CON-MAP');
  await ok(await A.admin('PUT', `/v1/skus/${enc(sku)}/stock`, { on_hand: 10 }));
  const order = { id: id(), lineItems: [{ id: id(), sku: `${sku}-OLD`, quantity: 2, variant_id: id(), product_id: id() }] };
  const r = await sendWebhook(`${A.url}/v1/webhooks/shopify`, 'orders/create', orderCreatedPayload(order), { shopDomain: shop.shopDomain });
  assert.equal(r.status, 200, r.text);
  const line = (await ok(await A.admin('GET', `/v1/inbound/unmatched?channel=${channel}&limit=1000`))).items.find((u) => u.order_id === String(order.id));
  assert.ok(line, 'the line is unmatched');

  await open('#/failures');
  const row = page.locator(`tr[data-unmatched-id="${line.id}"]`);
  await row.waitFor();
  // The mapping endpoint comes from the operator API (contract); without it the page says so.
  // A Shopify line carries no inventory item: the form asks for the listing's identity.
  const item = id();
  shop.addItem({ id: item, sku, levels: { 1: { available: 0 } } });
  await row.getByLabel('Map to SKU').fill(sku);
  await row.getByLabel('Shopify inventory item id').fill(String(item));
  await row.getByLabel('location id').fill('1');
  await screenshot(page, 'failures-unmatched');
  const probe = await A.admin('POST', '/v1/inbound/unmatched/999999999/map', { sku });
  if (probe.status === 404 && probe.body.type === '/problems/not-found' && !('resource' in probe.body)) {
    await row.getByRole('button', { name: 'Map' }).click();
    await row.getByText('not available on this Worker yet').waitFor();
    t.skip('POST /v1/inbound/unmatched/{id}/map is not on this Worker: the page shows "not available"');
    return;
  }
  await row.getByRole('button', { name: 'Map' }).click();
  // Mapped lines are no longer listed; the page reloads its lists.
  await row.waitFor({ state: 'detached' });
  const listing = await ok(await A.admin('GET', `/v1/channels/${channel}/listings/${enc(sku)}`));
  assert.deepEqual(listing.external, { inventory_item_id: item, location_id: 1 });
  // Applied exactly once: 2 units sold, and the new listing is pushed what is left.
  assert.equal((await ok(await A.admin('GET', `/v1/skus/${enc(sku)}`))).available, 8);
  assert.ok(await until(() => shop.quantity(item, 1) === 8, { timeoutMs: 20_000 }), `the new listing shows ${shop.quantity(item, 1)}`);
  const again = (await ok(await A.admin('GET', `/v1/inbound/unmatched?channel=${channel}&limit=1000`))).items;
  assert.equal(again.filter((u) => u.id === line.id).length, 0, 'no longer unmatched');
  assert.equal((await ok(await A.admin('GET', `/v1/skus/${enc(sku)}`))).available, 8, 'applied once');
});

test('a CSV is checked as a dry run, then applied', async () => {
  const [a, b] = [unique('CON-IMP-A'), unique('CON-IMP-B')];
  await ok(await A.admin('PUT', `/v1/skus/${enc(a)}/stock`, { on_hand: 3 }));
  const csv = `sku,quantity\n${a},10\n${b},4\nbad sku,1\n`;
  await open('#/import');
  await page.getByLabel('CSV file').setInputFiles({ name: 'stock.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
  await page.getByRole('button', { name: 'Dry run' }).click();
  await page.getByRole('heading', { name: 'Dry run: nothing changed yet' }).waitFor();
  assert.equal(await page.locator(`tr[data-sku="${a}"] [data-field="change"]`).innerText(), '3 → 10 (+7)');
  assert.equal(await page.locator(`tr[data-sku="${b}"] [data-field="change"]`).innerText(), 'new → 4');
  const err = page.locator('#import-errors + ul li[data-line="4"]');
  assert.match(await err.innerText(), /^line 4, column sku: SKU "bad sku"/);
  assert.equal((await ok(await A.admin('GET', `/v1/skus/${enc(a)}`))).on_hand, 3, 'the dry run changed nothing');
  await screenshot(page, 'import-dry-run');

  await page.getByRole('button', { name: 'Apply' }).click();
  await page.getByRole('heading', { name: 'Applied' }).waitFor();
  assert.equal((await ok(await A.admin('GET', `/v1/skus/${enc(a)}`))).on_hand, 10);
  assert.equal((await ok(await A.admin('GET', `/v1/skus/${enc(b)}`))).on_hand, 4);
  assert.equal(await page.locator(`tr[data-sku="${a}"] [data-field="status"]`).innerText(), 'applied');
  assert.ok(await page.getByRole('button', { name: 'Apply' }).isDisabled(), 'applied once: the button waits for a new dry run');
  await screenshot(page, 'import-applied');
});

test('an oversold alert is acknowledged from the page', async () => {
  const sku = unique('CON-OVER');
  await ok(await A.admin('PUT', `/v1/skus/${enc(sku)}/stock`, { on_hand: 1 }));
  await ok(await A.admin('POST', '/v1/sales', { channel: 'amazon', order_id: unique('o'), lines: [{ sku, qty: 3 }] }));
  const alert = await until(async () => (await ok(await A.admin('GET', `/v1/alerts?sku=${enc(sku)}`))).items[0], { timeoutMs: 20_000 });
  assert.ok(alert, 'the alert is raised');
  await open('#/alerts');
  const row = page.locator(`tr[data-alert-id="${alert.id}"]`);
  await row.waitFor();
  await screenshot(page, 'alerts');
  await row.getByRole('button', { name: `Acknowledge alert ${alert.id}` }).click();
  await row.locator('[data-field="acknowledged_at"] time').waitFor();
  const acked = (await ok(await A.admin('GET', `/v1/alerts?sku=${enc(sku)}`))).items[0];
  assert.ok(acked.acknowledged_at, 'acknowledged in the API');
});

test('the channels view names credential secrets, never values, previews and saves a rule; no script error anywhere', async () => {
  await open('#/channels');
  const card = page.locator(`article[data-channel="${channel}"]`);
  await card.waitFor();
  assert.match(await card.innerText(), /SIM_SHOPIFY_TOKEN/);
  assert.doesNotMatch(await page.content(), /shpat_sim_token/, 'a credential value is never on the page');
  await card.getByText('Listings and rules').click();
  await card.locator('table').first().waitFor();

  // A rule for every listing of the channel: previewed (the API's numbers), then saved.
  await card.getByLabel('Buffer (units held back)').fill('1');
  await card.getByRole('button', { name: 'Preview' }).click();
  await card.locator('[data-field="proposed_quantity"]').first().waitFor();
  const preview = await ok(await A.admin('POST', '/v1/listings/preview', { channel, rule: { buffer: 1 } }));
  assert.ok(preview.items.length >= 2, JSON.stringify(preview));
  for (const i of preview.items) {
    assert.equal(await cell(`article[data-channel="${channel}"] tr[data-sku="${i.sku}"]`, 'current_quantity'), i.current_quantity, `${i.sku} now`);
    assert.equal(await cell(`article[data-channel="${channel}"] tr[data-sku="${i.sku}"]`, 'proposed_quantity'), i.proposed_quantity, `${i.sku} proposed`);
  }
  await screenshot(page, 'channels');
  await card.getByRole('button', { name: 'Save rule…' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Save' }).click();
  await card.getByText(`Saved on ${preview.items.length} listing(s).`).waitFor();
  const listings = await ok(await A.admin('GET', `/v1/channels/${channel}/listings`));
  assert.ok(listings.items.every((l) => l.rule.buffer === 1), JSON.stringify(listings.items.map((l) => l.rule)));
  assert.deepEqual(page.errors.map(String), [], 'no uncaught script errors');

  // Signing out forgets the token.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByLabel('Operator token').waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.length), 0);
});
