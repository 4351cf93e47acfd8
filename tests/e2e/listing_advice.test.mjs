// The buffer advisor over HTTP (docs/api.md, "Buffer advice"; docs/oversell.md): a listing's
// sales and its SKU's sales elsewhere are read from the journal, and the answer's advised buffer
// is the smallest that keeps its stated probability of an oversell per day at or under the target
// — recomputed here from the answer's own inputs. Bad queries are 422 naming each field; an
// unknown listing is 404; the storefront token may not ask.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { unique, useRuntime } from './lib/worker.mjs';
import { assertOk, assertProblem, fieldsOf } from './lib/expect.mjs';

const A = useRuntime();
const enc = encodeURIComponent;

/** P(X > k) for X ~ Poisson(mean). */
function poissonAbove(mean, k) {
  if (mean <= 0) return 0;
  let pmf = Math.exp(-mean);
  let cdf = pmf;
  for (let i = 1; i <= k; i++) {
    pmf *= mean / i;
    cdf += pmf;
  }
  return Math.max(0, 1 - cdf);
}

/** The advisor's probability of an oversell per day with `buffer`, from an answer's inputs. */
function perDay(a, buffer) {
  const w = a.window.total_ms / 86_400_000;
  const p = poissonAbove(a.observed.other_units_per_day * w, buffer) * (1 - Math.exp(-a.observed.orders_per_day * w));
  return 1 - (1 - p) ** a.assumptions.sellouts_per_day;
}

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
  assert.equal(a.buffer.current, 1);
  assert.equal(typeof a.assumptions.statement, 'string');
  assert.ok(a.assumptions.propagation_measured_at);
  // The advised buffer is the smallest meeting the target, by the answer's own inputs.
  const b = a.buffer.advised;
  assert.ok(b >= 1, JSON.stringify(a));
  assert.equal(a.meets_target, true);
  assert.ok(perDay(a, b) <= a.target_oversell_per_day);
  assert.ok(perDay(a, b - 1) > a.target_oversell_per_day);
  assert.ok(Math.abs(a.oversell_per_day.advised - perDay(a, b)) < 1e-9);
  assert.ok(Math.abs(a.oversell_per_day.current - perDay(a, 1)) < 1e-9);

  // A looser target needs no more; the Shopify listing (near-immediate apply) needs less.
  const loose = assertOk(await A.admin('GET', `/v1/channels/${amz}/listings/${enc(sku)}/advice?target=0.2&days=30`));
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
  const bad = assertProblem(await A.admin('GET', `/v1/channels/${ch}/listings/${enc(sku)}/advice?target=1&days=0&sellouts_per_day=-1`), 422, 'validation-failed');
  assert.deepEqual(fieldsOf(bad), ['target', 'days', 'sellouts_per_day']);
  const missing = assertProblem(await A.admin('GET', `/v1/channels/${ch}/listings/${enc(`${sku}-NOPE`)}/advice`), 404, 'not-found');
  assert.equal(missing.resource, 'listing');
  assertProblem(await A.storefront('GET', `/v1/channels/${ch}/listings/${enc(sku)}/advice`), 403, 'forbidden');
  assertProblem(await A.admin('POST', `/v1/channels/${ch}/listings/${enc(sku)}/advice`, {}), 405, 'method-not-allowed');
  // Never sold: no buffer needed, and the answer says so.
  const a = assertOk(await A.admin('GET', `/v1/channels/${ch}/listings/${enc(sku)}/advice`));
  assert.equal(a.observed.orders, 0);
  assert.deepEqual(a.buffer, { advised: 0, current: 0 });
});
