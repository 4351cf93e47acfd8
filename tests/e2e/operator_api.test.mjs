// The operator API the console calls (docs/api.md, Operator console API), against the real
// runtime (workerd) and the WooCommerce simulator (tests/sim/woocommerce.mjs):
// - an order line for a product StockEdge does not list is unmatched; mapping it to a SKU lists
//   the product and applies the line once (the stock drops once, the new listing is pushed);
//   mapping it again answers the same bytes and changes nothing; the webhook redelivered is a
//   duplicate, and a later delivery of the same order counts the line no more;
// - a SKU's listings show what StockEdge intends beside what the channel last took, and a
//   failing channel's listing as `failing`;
// - the overview counts failures, channels whose credentials are refused and unmatched lines;
// - retrying every failure of a channel queues them again, once per Idempotency-Key;
// - a proposed listing rule is previewed against each listing, page by page, writing nothing.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';

import { unique, until, useRuntime } from './lib/worker.mjs';
import { assertProblem } from './lib/expect.mjs';
import { startWooCommerceSim, sendWebhook } from '../sim/woocommerce.mjs';

let A;
const enc = encodeURIComponent;
const pid = () => crypto.randomInt(1e9, 9e9);

let woo;
const CH = {};

/** One runtime and the simulator for the file, and the two channels. */
function setUp() {
  A = useRuntime();
  before(async () => {
    woo = await startWooCommerceSim();
    CH.woo = unique('op-woo');
    CH.bad = unique('op-bad');
    const host = woo.siteUrl.replace(/^https?:\/\//, '').replace(/\/$/, '');
    await ok(await A.admin('PUT', `/v1/channels/${CH.woo}`, {
      kind: 'woocommerce', account: host, credentials_secret: 'SIM_WOO_CREDENTIALS',
      settings: { base_url: woo.url, webhook_secret: 'SIM_WOO_WEBHOOK_SECRET' },
    }), 201);
    // Credentials that name no Worker secret: every push to it is refused for its credentials.
    await ok(await A.admin('PUT', `/v1/channels/${CH.bad}`, {
      kind: 'woocommerce', account: 'refused.example', credentials_secret: 'NO_SUCH_SECRET', settings: { base_url: woo.url },
    }), 201);
  });
  after(() => woo?.close());
}

async function ok(r, status = 200) {
  assert.equal(r.status, status, `${r.status} ${r.text}`);
  return r.body;
}

async function stock(sku, onHand) {
  return ok(await A.admin('PUT', `/v1/skus/${enc(sku)}/stock`, { on_hand: onHand }));
}

async function available(sku) {
  return (await ok(await A.admin('GET', `/v1/skus/${enc(sku)}`))).available;
}

const hook = () => `${A.url}/v1/webhooks/woocommerce`;
const deliver = (topic, order, opts = {}) => sendWebhook(hook(), topic, order, { source: woo.siteUrl, ...opts });

async function unmatchedOf(orderId) {
  const page = await ok(await A.admin('GET', `/v1/inbound/unmatched?channel=${enc(CH.woo)}&limit=1000`));
  return page.items.filter((i) => i.order_id === String(orderId));
}

describe('operator API', () => {
  setUp();

  describe('mapping an unmatched line', () => {
    test('lists the product, applies the line once, and answers repeats with the first answer', { timeout: 120_000 }, async () => {
      const S = unique('OP-MAP');
      const ghost = pid();
      woo.addProduct({ id: ghost, sku: 'THEIRS', manage_stock: true, stock_quantity: 0 });
      await stock(S, 10);

      const order = woo.addOrder({ status: 'processing', line_items: [{ product_id: ghost, quantity: 2 }] });
      const first = await deliver('order.created', order);
      assert.equal(first.status, 200, first.text);
      assert.equal(JSON.parse(first.text).unmatched_lines, 1, first.text);
      const [line] = await unmatchedOf(order.id);
      assert.ok(line, 'the line is listed as unmatched');
      assert.equal(await available(S), 10, 'nothing applied for an unmatched line');
      const overviewBefore = await ok(await A.admin('GET', '/v1/overview'));
      assert.ok(overviewBefore.attention.unmatched_lines >= 1);

      const mapped = await A.admin('POST', `/v1/inbound/unmatched/${line.id}/map`, { sku: S });
      const body = await ok(mapped);
      assert.equal(body.id, line.id);
      assert.deepEqual(body.listing.external, { product_id: ghost });
      assert.equal(body.listing.sku, S);
      assert.equal(body.listing.identity, `woocommerce:product:${ghost}`);
      assert.deepEqual(
        { kind: body.applied.kind, order_id: body.applied.order_id, qty: body.applied.qty },
        { kind: 'sale', order_id: String(order.id), qty: 2 },
      );
      assert.equal(body.applied.skus.length, 1);
      assert.deepEqual({ sku: body.applied.skus[0].sku, effect: body.applied.skus[0].effect, available: body.applied.skus[0].available }, { sku: S, effect: 'applied', available: 8 });
      assert.equal(await available(S), 8, 'the stock drops once');

      // The new listing is pushed the SKU's state.
      assert.ok(await until(() => woo.stockOf(ghost) === 8, { timeoutMs: 30_000, everyMs: 100 }), `WooCommerce shows ${woo.stockOf(ghost)}`);

      // A repeat answers the first answer byte for byte and applies nothing.
      const again = await A.admin('POST', `/v1/inbound/unmatched/${line.id}/map`, { sku: S });
      assert.equal(again.status, 200);
      assert.equal(again.text, mapped.text);
      assert.equal(await available(S), 8);

      // The same delivery again is a duplicate; a later delivery of the order maps the line now
      // and the order desk has applied it already.
      const redelivered = await deliver('order.created', order, { deliveryId: first.deliveryId });
      assert.equal(JSON.parse(redelivered.text).result, 'duplicate', redelivered.text);
      const later = await deliver('order.updated', woo.updateOrder(order.id, { status: 'completed' }));
      assert.equal(later.status, 200, later.text);
      assert.equal(JSON.parse(later.text).unmatched_lines, 0, later.text);
      assert.equal(await available(S), 8, 'the line counts once');
      assert.deepEqual(await unmatchedOf(order.id), [], 'a mapped line is no longer listed');
      const journal = await ok(await A.admin('GET', `/v1/skus/${enc(S)}/journal`));
      assert.equal(journal.entries.filter((e) => e.op === 'sale').length, 1);
    });

    test('a line the channel maps meanwhile is applied once through that listing; refusals name the field', async () => {
      const S = unique('OP-MEANWHILE');
      const other = unique('OP-OTHER');
      const ghost = pid();
      await stock(S, 5);
      const order = woo.addOrder({ status: 'processing', line_items: [{ product_id: ghost, quantity: 1 }] });
      await deliver('order.created', order);
      const [line] = await unmatchedOf(order.id);
      assert.ok(line);
      // The operator lists the product through the catalogue first.
      await ok(await A.admin('PUT', `/v1/channels/${CH.woo}/listings/${enc(S)}`, { external: { product_id: ghost } }), 201);
      assertProblem(await A.admin('POST', `/v1/inbound/unmatched/${line.id}/map`, { sku: other }), 422, 'validation-failed');
      const body = await ok(await A.admin('POST', `/v1/inbound/unmatched/${line.id}/map`, { sku: S }));
      assert.equal(body.listing.sku, S);
      assert.equal(body.applied.skus[0].effect, 'applied');
      assert.equal(await available(S), 4);

      assertProblem(await A.admin('POST', '/v1/inbound/unmatched/999999999/map', { sku: S }), 404, 'not-found');
      const bad = await A.admin('POST', `/v1/inbound/unmatched/${line.id}/map`, { sku: '../x' });
      assertProblem(bad, 422, 'validation-failed');
      assert.equal(bad.body.errors[0].field, 'sku');
      assertProblem(await A.admin('POST', '/v1/inbound/unmatched/0/map', { sku: S }), 422, 'validation-failed');
    });
  });

  describe('listings, failures and the overview', () => {
    test('a SKU\'s listings show the intended quantity, the last push and the status', { timeout: 120_000 }, async () => {
      const S = unique('OP-LIST');
      const id = pid();
      woo.addProduct({ id, sku: S, manage_stock: true, stock_quantity: 0 });
      await ok(await A.admin('PUT', `/v1/channels/${CH.woo}/listings/${enc(S)}`, { external: { product_id: id }, rule: { buffer: 2 } }), 201);
      await ok(await A.admin('PUT', `/v1/channels/${CH.bad}/listings/${enc(S)}`, { external: { product_id: id } }), 201);
      await stock(S, 9);
      const settled = await until(async () => {
        const v = await ok(await A.admin('GET', `/v1/skus/${enc(S)}/listings`));
        const [bad, good] = [v.items.find((i) => i.channel === CH.bad), v.items.find((i) => i.channel === CH.woo)];
        return bad?.status === 'failing' && good?.status === 'in_sync' && good.last_quantity === 7 ? v : null;
      }, { timeoutMs: 30_000, everyMs: 200 });
      assert.ok(settled, 'the good listing in sync, the refused one failing');
      assert.deepEqual({ sku: settled.sku, available: settled.available, sellable: settled.sellable }, { sku: S, available: 9, sellable: 9 });
      const good = settled.items.find((i) => i.channel === CH.woo);
      assert.deepEqual(
        { kind: good.channel_kind, external: good.external, rule: good.rule, intended: good.intended_quantity, pending: good.pending_version, lag: good.lag_ms },
        { kind: 'woocommerce', external: { product_id: id }, rule: { buffer: 2, percent: 100 }, intended: 7, pending: null, lag: null },
      );
      assert.equal(typeof good.pushed_at, 'string');
      const bad = settled.items.find((i) => i.channel === CH.bad);
      assert.equal(bad.intended_quantity, 9);
      assert.equal(bad.last_quantity, null);

      const nowhere = await ok(await A.admin('GET', `/v1/skus/${enc(unique('OP-NONE'))}/listings`));
      assert.deepEqual({ available: nowhere.available, items: nowhere.items }, { available: 0, items: [] });
      assertProblem(await A.admin('GET', '/v1/skus/bad%20sku/listings'), 422, 'validation-failed');

      // The overview: the refused channel's failures, its auth state, the lag of the good one.
      const o = await ok(await A.admin('GET', '/v1/overview'));
      assert.equal(typeof o.generated_at, 'number');
      assert.ok(o.skus >= 0);
      const badCh = o.channels.find((c) => c.id === CH.bad);
      assert.deepEqual(
        { kind: badCh.kind, enabled: badCh.enabled, auth_failing: badCh.auth_failing },
        { kind: 'woocommerce', enabled: true, auth_failing: true },
      );
      assert.ok(badCh.failures >= 1 && badCh.listings >= 1, JSON.stringify(badCh));
      const goodCh = o.channels.find((c) => c.id === CH.woo);
      assert.equal(goodCh.auth_failing, false);
      assert.ok(o.attention.sync_failures >= 1);
      assert.ok(o.attention.channels_auth_failing >= 1);
      for (const k of ['dead_letters', 'alerts_open', 'unmatched_lines', 'drift', 'low_stock']) {
        assert.equal(typeof o.attention[k], 'number', k);
      }
      assert.equal(typeof o.attention.alerts_open_by_kind, 'object');
    });

    test('retrying every failure of a channel queues them again once per Idempotency-Key', { timeout: 120_000 }, async () => {
      const S = unique('OP-RETRY');
      await ok(await A.admin('PUT', `/v1/channels/${CH.bad}/listings/${enc(S)}`, { external: { product_id: pid() } }), 201);
      await stock(S, 3);
      const failed = () => A.admin('GET', '/v1/sync/failures').then((r) => r.body.items.filter((f) => f.channel === CH.bad && f.sku === S));
      assert.ok(await until(async () => (await failed()).length === 1, { timeoutMs: 30_000, everyMs: 200 }), 'the refused push is a failure');
      const [failure] = await failed();

      const key = { 'idempotency-key': unique('retry-all') };
      const r = await A.admin('POST', `/v1/sync/failures/retry?channel=${enc(CH.bad)}`, undefined, key);
      const body = await ok(r);
      assert.equal(body.channel, CH.bad);
      assert.equal(body.retried, body.items.length);
      assert.ok(body.items.some((i) => i.id === failure.id && i.sku === S && i.version === failure.version), r.text);
      assert.ok(!(await A.admin('GET', '/v1/sync/failures')).body.items.some((f) => f.id === failure.id), 'marked retried');

      const repeat = await A.admin('POST', `/v1/sync/failures/retry?channel=${enc(CH.bad)}`, undefined, key);
      assert.equal(repeat.status, 200);
      assert.equal(repeat.text, r.text);
      assert.equal(repeat.headers.get('idempotent-replayed'), 'true');
      // Still refused: the change fails again, as a new failure.
      assert.ok(await until(async () => (await failed()).some((f) => f.id !== failure.id), { timeoutMs: 30_000, everyMs: 200 }));

      const none = await ok(await A.admin('POST', `/v1/sync/failures/retry?channel=${enc(unique('op-none'))}`));
      assert.deepEqual(none.items, []);
      assert.equal(none.retried, 0);
      const missing = await A.admin('POST', '/v1/sync/failures/retry');
      assertProblem(missing, 422, 'validation-failed');
      assert.equal(missing.body.errors[0].field, 'channel');
    });
  });

  describe('previewing a listing rule', () => {
    test('each listing now and under the proposed rule, page by page, writing nothing', async () => {
      const ch = unique('op-prev');
      await ok(await A.admin('PUT', `/v1/channels/${ch}`, { kind: 'woocommerce', account: 'preview.example', enabled: false }), 201);
      const [S1, S2] = [`${unique('OP-PREV')}-A`, `${unique('OP-PREV')}-B`].sort();
      await stock(S1, 10);
      await stock(S2, 4);
      await ok(await A.admin('PUT', `/v1/channels/${ch}/listings/${enc(S1)}`, { external: { product_id: pid() }, rule: { percent: 50 } }), 201);
      await ok(await A.admin('PUT', `/v1/channels/${ch}/listings/${enc(S2)}`, { external: { product_id: pid() } }), 201);

      const rule = { buffer: 3 };
      const all = await ok(await A.admin('POST', '/v1/listings/preview', { channel: ch, rule }));
      assert.deepEqual(all, {
        channel: ch,
        items: [
          { sku: S1, available: 10, current_quantity: 5, proposed_quantity: 7 },
          { sku: S2, available: 4, current_quantity: 4, proposed_quantity: 1 },
        ],
      });
      const first = await ok(await A.admin('POST', '/v1/listings/preview?limit=1', { channel: ch, rule }));
      assert.deepEqual({ n: first.items.length, next: first.next }, { n: 1, next: S1 });
      const second = await ok(await A.admin('POST', `/v1/listings/preview?limit=1&after=${enc(first.next)}`, { channel: ch, rule }));
      assert.deepEqual({ sku: second.items[0].sku, next: second.next }, { sku: S2, next: undefined });
      const listing = await ok(await A.admin('GET', `/v1/channels/${ch}/listings/${enc(S1)}`));
      assert.deepEqual(listing.rule, { buffer: 0, percent: 50 }, 'nothing written');

      assertProblem(await A.admin('POST', '/v1/listings/preview', { channel: unique('op-nope'), rule }), 404, 'not-found');
      const bad = await A.admin('POST', '/v1/listings/preview', { channel: ch, rule: { percent: 101 } });
      assertProblem(bad, 422, 'validation-failed');
      assert.equal(bad.body.errors[0].field, 'rule.percent');
      assertProblem(await A.admin('POST', '/v1/listings/preview', '{'), 400, 'invalid-json');
    });
  });
});
