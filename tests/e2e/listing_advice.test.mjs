// The buffer advisor over HTTP (docs/api.md, "Buffer advice"; docs/oversell.md): a listing's
// orders and its SKU's orders elsewhere, with their sizes, are read from the journal, and the
// answer's advised buffer is the smallest that keeps its stated oversells (per day, and per
// 10,000 of its orders) at or under the targets — recomputed here from the answer's own inputs
// (compound Poisson, Panjer's recursion). Bad queries are 422 naming each field; an
// unknown listing is 404; the storefront token may not ask.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { unique, useRuntime } from './lib/worker.mjs';
import { assertOk, assertProblem, fieldsOf } from './lib/expect.mjs';

const A = useRuntime();
const enc = encodeURIComponent;

/**
 * P(S > k) for S compound Poisson: `flows` are [orders in the window, {units: orders}] each;
 * pooled, then Panjer's recursion g0 = e^-m, gn = m/n · Σ j·f_j·g_{n-j}.
 */
function compoundAbove(flows, k) {
  let m = 0;
  const f = [];
  for (const [mean, sizes] of flows) {
    const n = Object.values(sizes).reduce((x, y) => x + y, 0);
    if (mean <= 0 || n === 0) continue;
    m += mean;
    for (const [units, count] of Object.entries(sizes)) f[+units] = (f[+units] ?? 0) + (mean * count) / n;
  }
  if (m <= 0) return 0;
  const g = [Math.exp(-m)];
  let cdf = g[0];
  for (let n = 1; n <= k; n++) {
    let sum = 0;
    for (let j = 1; j <= n; j++) sum += j * ((f[j] ?? 0) / m) * g[n - j];
    g.push((m / n) * sum);
    cdf += g[n];
  }
  return Math.max(0, 1 - cdf);
}

/**
 * The advisor's chance per sell-out of an oversell with `buffer`, from an answer's own inputs:
 * every other channel's orders over the stale window, the listing's own over its inbound delay.
 */
function perSellout(a, buffer) {
  const day = 86_400_000;
  const [w, own] = [a.window.total_ms / day, a.window.inbound_ms / day];
  const days = a.observed.days;
  const flows = Object.entries(a.observed.order_sizes_by_channel).map(([id, sizes]) => {
    const orders = Object.values(sizes).reduce((x, y) => x + y, 0) / days;
    return [orders * (id === a.channel ? own : w), sizes];
  });
  return compoundAbove(flows, buffer) * (1 - Math.exp(-a.observed.orders_per_day * w));
}
const perDay = (a, buffer) => 1 - (1 - perSellout(a, buffer)) ** a.assumptions.sellouts_per_day;
const per10k = (a, buffer) => (10_000 * a.assumptions.sellouts_per_day * perSellout(a, buffer)) / a.observed.orders_per_day;
const meets = (a, buffer) =>
  perDay(a, buffer) <= a.target_oversell_per_day && per10k(a, buffer) <= a.target_oversold_per_10k_orders;

test('a listing\'s advice comes from its journal, with the window and assumptions stated', async () => {
  const run = unique('adv');
  const [amz, shop] = [`${run}-amz`, `${run}-shop`];
  const sku = `${run}-MUG`;
  assertOk(await A.admin('PUT', `/v1/skus/${enc(sku)}/stock`, { on_hand: 500 }));
  assertOk(await A.admin('PUT', `/v1/channels/${amz}`, { kind: 'amazon', account: 'A1SELLER' }), 201);
  assertOk(await A.admin('PUT', `/v1/channels/${shop}`, { kind: 'shopify', account: `${run}.myshopify.com` }), 201);
  assertOk(await A.admin('PUT', `/v1/channels/${amz}/listings/${enc(sku)}`, { external: { seller_id: 'A1SELLER', seller_sku: sku, marketplace_ids: ['ATVPDKIKX0DER'] }, rule: { buffer: 1 } }), 201);
  assertOk(await A.admin('PUT', `/v1/channels/${shop}/listings/${enc(sku)}`, { external: { inventory_item_id: 4242, location_id: 1 } }), 201);
  for (let i = 0; i < 12; i++) {
    assertOk(await A.admin('POST', '/v1/sales', { channel: amz, order_id: `a-${i}`, lines: [{ sku, qty: 1 }] }));
  }
  for (let i = 0; i < 6; i++) {
    assertOk(await A.admin('POST', '/v1/sales', { channel: shop, order_id: `s-${i}`, lines: [{ sku, qty: 2 }] }));
  }

  const a = assertOk(await A.admin('GET', `/v1/channels/${amz}/listings/${enc(sku)}/advice`));
  assert.equal(a.channel, amz);
  assert.equal(a.sku, sku);
  assert.equal(a.kind, 'amazon');
  assert.equal(a.observed.orders, 12);
  assert.equal(a.observed.units, 12);
  // Everything happened within the last hour: rates are taken over one hour at least.
  assert.ok(Math.abs(a.observed.days - 1 / 24) < 0.01, `${a.observed.days}`);
  assert.ok(Math.abs(a.observed.other_units_per_day_by_channel[shop] - 12 / a.observed.days) < 1e-6, JSON.stringify(a.observed));
  assert.equal(a.window.total_ms, a.window.inbound_ms + a.window.propagation_ms + a.window.apply_ms);
  assert.ok(a.window.apply_ms >= 120_000, 'Amazon applies an update in minutes');
  assert.equal(a.window.quantile, 0.99);
  assert.equal(a.target_oversell_per_day, 0.001);
  assert.equal(a.target_oversold_per_10k_orders, 1);
  assert.deepEqual(a.observed.order_sizes_by_channel, { [amz]: { 1: 12 }, [shop]: { 2: 6 } });
  assert.equal(a.buffer.current, 1);
  assert.equal(typeof a.assumptions.statement, 'string');
  assert.ok(a.assumptions.propagation_measured_at);
  // The advised buffer is the smallest meeting both targets, by the answer's own inputs.
  const b = a.buffer.advised;
  assert.ok(b >= 1, JSON.stringify(a));
  assert.equal(a.meets_target, true);
  assert.ok(meets(a, b));
  assert.ok(!meets(a, b - 1));
  assert.ok(Math.abs(a.oversell_per_day.advised - perDay(a, b)) < 1e-9);
  assert.ok(Math.abs(a.oversell_per_day.current - perDay(a, 1)) < 1e-9);
  assert.ok(Math.abs(a.oversold_per_10k_orders.advised - per10k(a, b)) < 1e-6 * Math.max(1, per10k(a, b)));

  // A looser target needs no more; the Shopify listing (near-immediate apply) needs less.
  const loose = assertOk(
    await A.admin('GET', `/v1/channels/${amz}/listings/${enc(sku)}/advice?target=0.2&target_per_10k_orders=100&days=30`),
  );
  assert.ok(loose.buffer.advised <= b);
  const s = assertOk(await A.admin('GET', `/v1/channels/${shop}/listings/${enc(sku)}/advice`));
  assert.equal(s.observed.orders, 6);
  assert.ok(s.window.apply_ms < a.window.apply_ms);
  assert.ok(s.buffer.advised <= b, `${s.buffer.advised} ${b}`);
});

test('bad queries name each field; an unknown listing is 404; the storefront may not ask', async () => {
  const run = unique('adv');
  const ch = `${run}-shop`;
  const sku = `${run}-TEE`;
  assertOk(await A.admin('PUT', `/v1/channels/${ch}`, { kind: 'shopify', account: `${run}.myshopify.com` }), 201);
  assertOk(await A.admin('PUT', `/v1/channels/${ch}/listings/${enc(sku)}`, { external: { inventory_item_id: 4343, location_id: 1 } }), 201);
  const bad = assertProblem(await A.admin('GET', `/v1/channels/${ch}/listings/${enc(sku)}/advice?target=1&target_per_10k_orders=0&days=0&sellouts_per_day=-1`), 422, 'validation-failed');
  assert.deepEqual(fieldsOf(bad), ['target', 'target_per_10k_orders', 'days', 'sellouts_per_day']);
  const missing = assertProblem(await A.admin('GET', `/v1/channels/${ch}/listings/${enc(`${sku}-NOPE`)}/advice`), 404, 'not-found');
  assert.equal(missing.resource, 'listing');
  assertProblem(await A.storefront('GET', `/v1/channels/${ch}/listings/${enc(sku)}/advice`), 403, 'forbidden');
  assertProblem(await A.admin('POST', `/v1/channels/${ch}/listings/${enc(sku)}/advice`, {}), 405, 'method-not-allowed');
  // Never sold: no buffer needed, and the answer says so.
  const a = assertOk(await A.admin('GET', `/v1/channels/${ch}/listings/${enc(sku)}/advice`));
  assert.equal(a.observed.orders, 0);
  assert.deepEqual(a.buffer, { advised: 0, current: 0 });
});
