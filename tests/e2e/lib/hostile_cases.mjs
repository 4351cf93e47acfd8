// The hostile-input table of tests/e2e/hostile.test.mjs (issue 14 point 5): the state it runs
// against (`fixtures`) and the cases (`hostileCases`). Each case is
//   { name, send: () => response, status, type?, fields?, check?(r), watch?: [extra SKUs] }
// `type` (a problem slug) makes the answer checked as application/problem+json with that type and
// status; `fields`, when given, are exactly the fields the problem names. A case without `type`
// is a replay: its status is checked and `check` compares it with the first answer. Whatever the
// answer, the test reads the state before and after and requires it equal.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';

import { assertOk } from './expect.mjs';
import { unique, until } from './worker.mjs';
import { orderCreatedPayload, sendWebhook as sendShopify } from '../../sim/shopify.mjs';
import { sendWebhook as sendWoo } from '../../sim/woocommerce.mjs';
import { signNotification } from '../../sim/ebay.mjs';

const enc = encodeURIComponent;
const KiB = 1024;
const MiB = 1024 * KiB;
const SHOPIFY_SECRET = 'shopify-sim-client-secret'; // .dev.vars SIM_SHOPIFY_WEBHOOK_SECRET
const WOO_SECRET = 'wc-sim-webhook-secret'; // .dev.vars SIM_WOO_WEBHOOK_SECRET
const FORWARDER_SECRET = 'amazon-forwarder-sim-secret'; // .dev.vars SIM_AMAZON_FORWARDER_SECRET
const WOO_HOST = 'hostile-woo.example';
const AMAZON_SELLER = 'A1HOSTILESELLER';

const asResult = (r) => {
  let body = r.text;
  try {
    body = JSON.parse(r.text);
  } catch {
    /* not JSON */
  }
  return { status: r.status, text: r.text, body, headers: new Headers(r.headers) };
};

/**
 * The state the table runs against: four SKUs (one oversold, with its alert recorded; one listed
 * on a channel of each platform and sold once through a genuine Shopify delivery), two held
 * reservations and a committed one, and first answers to replay (an extend, a commit and a stock
 * write, each with an Idempotency-Key).
 */
export async function fixtures(a, eb, url) {
  const ok = async (p, status = 200, what = '') => assertOk(await p, status, what);
  const fx = {
    a,
    eb,
    S1: unique('HT-A'),
    S2: unique('HT-B'),
    S3: unique('HT-OVER'),
    WH: unique('HT-WH'),
    shop: `${unique('hostile').toLowerCase()}.myshopify.com`,
    ch: { shopify: unique('ht-shop'), woo: unique('ht-woo'), amazon: unique('ht-amz'), ebay: unique('ht-ebay') },
  };
  withSenders(fx, url);
  const { S1, S2, S3, WH } = fx;
  fx.watched = [S1, S2, S3, WH];
  for (const [sku, n] of [[S1, 20], [S2, 5], [S3, 1], [WH, 10]]) {
    await ok(a.admin('PUT', `/v1/skus/${enc(sku)}/stock`, { on_hand: n }), 200, `stock ${sku}`);
  }
  await ok(a.admin('POST', '/v1/sales', { channel: 'amazon', order_id: unique('o'), lines: [{ sku: S3, qty: 3 }] }));
  // The oversold alert is recorded by the queue consumer: wait for it so it cannot land mid-table.
  const alerted = await until(async () => {
    const r = await a.admin('GET', `/v1/alerts?sku=${enc(S3)}`);
    return r.status === 200 && r.body.items.length > 0;
  });
  assert.ok(alerted, 'the oversold alert was recorded');

  const channel = (id, body) => ok(a.admin('PUT', `/v1/channels/${enc(id)}`, body), 201, `channel ${id}`);
  const listing = (ch, external) => ok(a.admin('PUT', `/v1/channels/${enc(ch)}/listings/${enc(WH)}`, { external }), 201);
  await channel(fx.ch.shopify, { kind: 'shopify', account: fx.shop, settings: { webhook_secret: 'SIM_SHOPIFY_WEBHOOK_SECRET' } });
  await channel(fx.ch.woo, { kind: 'woocommerce', account: WOO_HOST, settings: { webhook_secret: 'SIM_WOO_WEBHOOK_SECRET' } });
  await channel(fx.ch.amazon, {
    kind: 'amazon',
    account: AMAZON_SELLER,
    credentials_secret: 'SIM_AMAZON_LWA',
    settings: { webhook_secret: 'SIM_AMAZON_FORWARDER_SECRET', base_url: 'http://127.0.0.1:9', token_url: 'http://127.0.0.1:9' },
  });
  await channel(fx.ch.ebay, { kind: 'ebay', account: 'sim_seller', credentials_secret: 'SIM_EBAY_TOKEN', settings: { base_url: eb.url } });
  fx.inventoryItem = crypto.randomInt(1e9, 9e9);
  fx.wooProduct = crypto.randomInt(1e9, 9e9);
  await listing(fx.ch.shopify, { inventory_item_id: fx.inventoryItem, location_id: 1 });
  await listing(fx.ch.woo, { product_id: fx.wooProduct });
  await listing(fx.ch.amazon, { seller_id: AMAZON_SELLER, seller_sku: WH, marketplace_ids: ['ATVPDKIKX0DER'] });
  await listing(fx.ch.ebay, { sku: WH });

  // A genuine Shopify delivery, applied once; the table replays it.
  fx.shopifyOrder = orderCreatedPayload({
    id: crypto.randomInt(1e9, 9e9),
    lineItems: [{ id: crypto.randomInt(1e9, 9e9), sku: WH, quantity: 1, variant_id: 1, product_id: 1 }],
  });
  fx.shopifyEvent = crypto.randomUUID();
  const first = asResult(await fx.sendShopify('orders/create', fx.shopifyOrder, { eventId: fx.shopifyEvent }));
  assert.equal(first.status, 200, first.text);
  assert.equal((await ok(a.admin('GET', `/v1/skus/${enc(WH)}`))).committed, 1, 'the genuine delivery applied');

  // Holds: a cart over S1 and S2, a single-SKU hold on S1 extended once with a key, and a
  // committed one on S2 (committed with a key).
  const cart = await ok(
    a.storefront('POST', '/v1/reservations', { id: unique('ht-cart'), lines: [{ sku: S1, qty: 2 }, { sku: S2, qty: 1 }], ttl_seconds: 3600 }),
    201,
  );
  const one = await ok(a.storefront('POST', '/v1/reservations', { lines: [{ sku: S1, qty: 1 }], ttl_seconds: 3600 }), 201);
  fx.extendKey = unique('ht-extend');
  fx.extendBody = { ttl_seconds: 1800 };
  fx.extendFirst = await a.storefront('POST', `/v1/reservations/${enc(one.id)}/extend`, fx.extendBody, { 'idempotency-key': fx.extendKey });
  assert.equal(fx.extendFirst.status, 200, fx.extendFirst.text);
  const done = await ok(a.storefront('POST', '/v1/reservations', { lines: [{ sku: S2, qty: 1 }], ttl_seconds: 3600 }), 201);
  fx.commitKey = unique('ht-commit');
  fx.commitBody = { order_id: unique('ord') };
  fx.commitFirst = await a.storefront('POST', `/v1/reservations/${enc(done.id)}/commit`, fx.commitBody, { 'idempotency-key': fx.commitKey });
  assert.equal(fx.commitFirst.status, 200, fx.commitFirst.text);
  fx.stockKey = unique('ht-stock');
  fx.stockFirst = await a.admin('PUT', `/v1/skus/${enc(S1)}/stock`, { on_hand: 20 }, { 'idempotency-key': fx.stockKey });
  assert.equal(fx.stockFirst.status, 200, fx.stockFirst.text);
  fx.cart = cart.id;
  fx.one = one.id;
  fx.committed = done.id;
  fx.holds = [cart.id, one.id, done.id];
  return fx;
}

/** The Shopify sender bound to the fixture's shop (also used by `fixtures`). */
function shopifySender(fx, url) {
  return (topic, payload, opts = {}) => sendShopify(`${url}/v1/webhooks/shopify`, topic, payload, { shopDomain: fx.shop, ...opts });
}

/** Binds the platform senders to the runtime's URL. */
function withSenders(fx, url) {
  fx.url = url;
  fx.sendShopify = shopifySender(fx, url);
  return fx;
}

const replayOf = (first) => (r) => {
  assert.equal(r.text, first.text, 'the first answer, byte for byte');
  assert.equal(r.headers.get('idempotent-replayed'), 'true');
};

/** The table. */
export function hostileCases(fx) {
  const { a, S1, S2, WH } = fx;
  const stock = (sku = S1) => `/v1/skus/${enc(sku)}/stock`;
  const line = (extra = {}) => ({ sku: S1, qty: 1, ...extra });
  const reserve = (body, headers) => a.storefront('POST', '/v1/reservations', body, headers);
  const sale = (body) => a.admin('POST', '/v1/sales', body);
  const put = (body, headers, sku = S1) => a.admin('PUT', stock(sku), body, headers);
  const adjust = (body) => a.admin('POST', `/v1/skus/${enc(S1)}/adjustments`, body);
  const extend = (body, headers, id = fx.one) => a.storefront('POST', `/v1/reservations/${enc(id)}/extend`, body, headers);
  const commit = (body, id = fx.cart) => a.storefront('POST', `/v1/reservations/${enc(id)}/commit`, body);
  const fulfil = (body) => a.admin('POST', '/v1/fulfilments', body);
  const csv = (text, query = 'format=csv&mode=set', headers = {}) =>
    a.raw('POST', `/v1/imports?${query}`, { token: 'dev-admin', body: text, headers: { 'content-type': 'text/csv', ...headers } });
  const importReport = (check) => (r) => {
    check(r.body);
  };
  const json = JSON.stringify;
  const resBody = (lineText) => `{"lines":[${lineText}]}`;
  const sOne = json(S1);
  const cases = [];
  const add = (c) => cases.push(c);
  const invalid = (name, send, fields) => add({ name, send, status: 422, type: 'validation-failed', fields });
  const badJson = (name, send) => add({ name, send, status: 400, type: 'invalid-json' });

  // --- duplicate JSON keys ------------------------------------------------------------------
  badJson('dup: reservation lines twice', () => reserve(`{"lines":[{"sku":${sOne},"qty":1}],"lines":[]}`));
  badJson('dup: reservation ttl_seconds twice', () => reserve(`{"lines":[{"sku":${sOne},"qty":1}],"ttl_seconds":60,"ttl_seconds":0}`));
  badJson('dup: line sku twice', () => reserve(resBody(`{"sku":"nope","qty":1,"sku":${sOne}}`)));
  badJson('dup: PUT stock on_hand twice', () => put('{"on_hand":5,"on_hand":50}'));
  badJson('dup: PUT stock location twice', () => put('{"on_hand":20,"location":"main","location":"back"}'));
  badJson('dup: adjustment delta twice', () => adjust('{"delta":1,"delta":-1,"reason":"received"}'));
  badJson('dup: sale channel twice', () => sale(`{"channel":"amazon","channel":"ebay","order_id":"o1","lines":[{"sku":${sOne},"qty":1}]}`));
  badJson('dup: fulfilment lines twice', () => fulfil(`{"order_id":"o1","lines":[],"lines":[{"sku":${sOne},"qty":1}]}`));
  badJson('dup: extend ttl_seconds twice', () => extend('{"ttl_seconds":60,"ttl_seconds":120}'));
  badJson('dup: commit order_id twice', () => commit('{"order_id":"a","order_id":"a"}'));
  badJson('dup: product title twice', () => a.admin('PUT', `/v1/products/${enc(S1)}`, '{"title":"a","title":"b"}'));
  badJson('dup: member named twice with different escapes', () => put('{"on_hand":5,"on_\\u0068and":50}'));

  // --- dot-segment and malformed SKUs ------------------------------------------------------
  for (const sku of ['../x', 'A/../B', '/A', 'A/', 'A//B', './A', 'A/.', '..']) {
    invalid(`sku ${json(sku)} in a reservation line`, () => reserve({ lines: [line({ sku })] }), ['lines[0].sku']);
  }
  invalid('sku ../../etc/passwd in a sale line', () => sale({ channel: 'amazon', order_id: unique('o'), lines: [{ sku: '../../etc/passwd', qty: 1 }] }), ['lines[0].sku']);
  invalid('sku with a NUL in a fulfilment line', () => fulfil({ order_id: 'o1', lines: [{ sku: 'A\u0000', qty: 1 }] }), ['lines[0].sku']);
  invalid('sku of 65 characters in a reservation', () => reserve({ lines: [line({ sku: 'x'.repeat(65) })] }), ['lines[0].sku']);
  invalid('sku with a fullwidth letter', () => reserve({ lines: [line({ sku: 'Ａ' })] }), ['lines[0].sku']);
  invalid('empty sku', () => reserve({ lines: [line({ sku: '' })] }), ['lines[0].sku']);

  // --- path tricks ---------------------------------------------------------------------------
  invalid('path: encoded slashes and dots (..%2F..%2Fx)', () => a.admin('PUT', '/v1/skus/..%2F..%2Fx/stock', { on_hand: 1 }), ['sku']);
  invalid('path: %2e%2e inside an encoded SKU', () => a.admin('PUT', `/v1/skus/${enc(S1)}%2F%2e%2e%2Fx/stock`, { on_hand: 1 }), ['sku']);
  invalid('path: double encoding (%252e%252e%252f)', () => a.admin('PUT', '/v1/skus/%252e%252e%252fx/stock', { on_hand: 1 }), ['sku']);
  invalid('path: encoded NUL', () => a.admin('PUT', `/v1/skus/${enc(S1)}%00/stock`, { on_hand: 1 }), ['sku']);
  invalid('path: invalid percent escape', () => a.admin('PUT', `/v1/skus/${enc(S1)}%ZZ/stock`, { on_hand: 1 }), ['sku']);
  invalid('path: overlong UTF-8 dots (%C0%AE)', () => a.admin('PUT', '/v1/skus/%C0%AE%C0%AE/stock', { on_hand: 1 }), ['sku']);
  invalid('path: overlong SKU (9,000 characters)', () => a.admin('PUT', `/v1/skus/${'x'.repeat(9000)}/stock`, { on_hand: 1 }), ['sku']);
  add({ name: 'path: unencoded dot segment resolved away', send: () => a.admin('PUT', '/v1/skus/%2e%2e/stock', { on_hand: 1 }), status: 404, type: 'not-found' });
  add({ name: 'path: doubled slash', send: () => a.admin('PUT', `/v1//skus/${enc(S1)}/stock`, { on_hand: 1 }), status: 404, type: 'not-found' });
  add({ name: 'path: trailing segment', send: () => a.admin('PUT', `/v1/skus/${enc(S1)}/stock/x`, { on_hand: 1 }), status: 404, type: 'not-found' });
  add({ name: 'path: upper-case prefix', send: () => a.admin('PUT', `/V1/skus/${enc(S1)}/stock`, { on_hand: 1 }), status: 404, type: 'not-found' });
  invalid('path: reservation id with encoded dot segments', () => commit({}, '..%2F..%2Fv1%2Fsales'), ['id']);
  add({ name: 'path: forged rsk_ id naming no SKU', send: () => commit({}, 'rsk_00000000000000000000_'), status: 404, type: 'reservation-not-found' });
  add({ name: 'path: forged rsk_ id of a real SKU', send: () => extend({ ttl_seconds: 60 }, {}, `rsk_0123456789abcdef0123_${S1}`), status: 404, type: 'reservation-not-found' });
  add({ name: 'path: DELETE on a write route', send: () => a.admin('DELETE', stock()), status: 405, type: 'method-not-allowed' });

  // --- bodies over the limit, deep JSON, bad UTF-8, not an object -----------------------------
  const pad = (n) => 'x'.repeat(n);
  add({ name: 'body: PUT stock of 256 KiB + 1', send: () => put(`{"on_hand":1,"reason":"${pad(256 * KiB)}"}`), status: 413, type: 'payload-too-large' });
  add({ name: 'body: reservation of 1 MiB', send: () => reserve(`{"lines":[{"sku":${sOne},"qty":1}],"reference":"${pad(MiB)}"}`), status: 413, type: 'payload-too-large' });
  add({ name: 'body: sale of 300 KiB of lines', send: () => sale(json({ channel: 'amazon', order_id: 'o-big', lines: Array.from({ length: 12000 }, () => line()) })), status: 413, type: 'payload-too-large' });
  badJson('deep: 5,000 nested arrays as lines', () => reserve(`{"lines":${'['.repeat(5000)}${']'.repeat(5000)}}`));
  badJson('deep: 100,000 nested arrays as the body', () => reserve(`${'['.repeat(100000)}${']'.repeat(100000)}`));
  badJson('deep: 200 nested objects in a stock write', () => put(`{"on_hand":1,"reason":${'{"a":'.repeat(200)}1${'}'.repeat(200)}}`));
  badJson('utf8: invalid bytes in a SKU', () => reserve(Buffer.concat([Buffer.from('{"lines":[{"sku":"A'), Buffer.from([0xff, 0xfe]), Buffer.from('","qty":1}]}')])));
  badJson('utf8: overlong encoding of "/"', () => reserve(Buffer.concat([Buffer.from('{"lines":[{"sku":"A'), Buffer.from([0xc0, 0xaf]), Buffer.from('B","qty":1}]}')])));
  badJson('utf8: truncated sequence at the end', () => put(Buffer.concat([Buffer.from('{"on_hand":1,"reason":"'), Buffer.from([0xe2, 0x82])])));
  badJson('utf8: lone surrogate escape', () => reserve('{"lines":[{"sku":"A\\ud800","qty":1}]}'));
  badJson('utf8: byte-order mark before the body', () => put('\ufeff{"on_hand":1}'));
  badJson('json: null', () => put('null'));
  badJson('json: an array', () => reserve(`[{"sku":${sOne},"qty":1}]`));
  badJson('json: a string', () => put('"on_hand"'));
  badJson('json: two objects', () => put('{"on_hand":1}{"on_hand":2}'));
  badJson('json: truncated', () => reserve(`{"lines":[{"sku":${sOne},"qty":1}`));
  badJson('json: trailing comma', () => put('{"on_hand":1,}'));
  badJson('json: single quotes', () => put("{'on_hand':1}"));
  badJson('json: NaN', () => put('{"on_hand":NaN}'));
  badJson('json: comment', () => put('{"on_hand":1 /* set */}'));
  badJson('json: number beyond f64 (1e999)', () => reserve(resBody(`{"sku":${sOne},"qty":1e999}`)));

  // --- numbers: strings, floats, 2^53, 1e308 -------------------------------------------------
  const qty = (name, raw) => invalid(`qty ${name}`, () => reserve(resBody(`{"sku":${sOne},"qty":${raw}}`)), ['lines[0].qty']);
  qty('as a string', '"1"');
  qty('1.5', '1.5');
  qty('1.0', '1.0');
  qty('2^53', '9007199254740992');
  qty('2^53 + 1', '9007199254740993');
  qty('1e308', '1e308');
  qty('-1', '-1');
  qty('0', '0');
  qty('1,000,001', '1000001');
  qty('true', 'true');
  qty('null', 'null');
  qty('an object', '{"n":1}');
  const onHand = (name, raw) => invalid(`on_hand ${name}`, () => put(`{"on_hand":${raw}}`), ['on_hand']);
  onHand('as a string', '"20"');
  onHand('20.5', '20.5');
  onHand('2^53', '9007199254740992');
  onHand('1e308', '1e308');
  onHand('-1', '-1');
  onHand('-1e308', '-1e308');
  onHand('an array', '[20]');
  invalid('delta as a string', () => adjust({ delta: '1', reason: 'received' }), ['delta']);
  invalid('delta 2^53', () => adjust('{"delta":9007199254740992,"reason":"received"}'), ['delta']);
  invalid('delta -1e308', () => adjust('{"delta":-1e308,"reason":"received"}'), ['delta']);
  invalid('expected_version as a string', () => put({ on_hand: 21, expected_version: '1' }), ['expected_version']);
  invalid('expected_version 1.5', () => put({ on_hand: 21, expected_version: 1.5 }), ['expected_version']);
  invalid('backorder_limit 1e308', () => put('{"on_hand":20,"backorder_limit":1e308}'), ['backorder_limit']);

  // --- TTLs ----------------------------------------------------------------------------------
  const ttl = (name, raw) => invalid(`ttl_seconds ${name} on create`, () => reserve(`{"lines":[{"sku":${sOne},"qty":1}],"ttl_seconds":${raw}}`), ['ttl_seconds']);
  ttl('0', '0');
  ttl('10^9', '1000000000');
  ttl('86401', '86401');
  ttl('-1', '-1');
  ttl('as a string', '"900"');
  ttl('900.5', '900.5');
  ttl('2^53', '9007199254740992');
  const extendTtl = (name, raw) => invalid(`ttl_seconds ${name} on extend`, () => extend(`{"ttl_seconds":${raw}}`), ['ttl_seconds']);
  extendTtl('0', '0');
  extendTtl('10^9', '1000000000');
  extendTtl('1e308', '1e308');
  invalid('extend without ttl_seconds', () => extend({}), ['ttl_seconds']);

  // --- carts: 101 lines, merged quantity -----------------------------------------------------
  invalid('101-line cart', () => reserve({ lines: Array.from({ length: 101 }, (_, i) => line({ sku: `${S1}-${i}` })) }), ['lines']);
  invalid('101 lines of one SKU', () => reserve({ lines: Array.from({ length: 101 }, () => line()) }), ['lines']);
  invalid('empty cart', () => reserve({ lines: [] }), ['lines']);
  add({
    name: 'two lines of one SKU merged beyond 1,000,000',
    send: () => reserve({ lines: [line({ qty: 600000 }), line({ qty: 600000 })] }),
    status: 422,
    type: 'validation-failed',
  });

  // --- missing members, wrong shapes ---------------------------------------------------------
  invalid('reservation without lines', () => reserve({ ttl_seconds: 60 }), ['lines']);
  invalid('reservation line without sku', () => reserve({ lines: [{ qty: 1 }] }), ['lines[0].sku']);
  invalid('reservation line without qty', () => reserve({ lines: [{ sku: S1 }] }), ['lines[0].qty']);
  invalid('reservation lines as an object', () => reserve({ lines: { sku: S1, qty: 1 } }), ['lines']);
  invalid('reservation line as a string', () => reserve({ lines: [S1] }), ['lines[0]']);
  invalid('reservation id starting rsk_', () => reserve({ id: 'rsk_mine', lines: [line()] }), ['id']);
  invalid('reservation id starting hot.', () => reserve({ id: 'hot.0.mine', lines: [line()] }), ['id']);
  invalid('reservation id with a space', () => reserve({ id: 'my cart', lines: [line()] }), ['id']);
  invalid('stock write without on_hand', () => put({ reason: 'cycle_count' }), ['on_hand']);
  invalid('stock write with only an unknown member', () => put({ available: 5 }), ['on_hand']);
  invalid('stock write with a bad location', () => put({ on_hand: 20, location: '../main' }), ['location']);
  invalid('adjustment without delta', () => adjust({ reason: 'received' }), ['delta']);
  invalid('adjustment with an unknown reason', () => adjust({ delta: 1, reason: 'stolen' }), ['reason']);
  invalid('sale without channel, order_id and lines', () => sale({}), ['channel', 'order_id', 'lines']);
  invalid('sale with a bad order_id', () => sale({ channel: 'amazon', order_id: 'not valid', lines: [line()] }), ['order_id']);
  invalid('sale line qty 0', () => sale({ channel: 'amazon', order_id: unique('o'), lines: [line({ qty: 0 })] }), ['lines[0].qty']);
  invalid('fulfilment without order_id', () => fulfil({ lines: [line()] }), ['order_id']);
  invalid('cancel reason over 500 characters', () => a.admin('POST', `/v1/sales/amazon/${enc(unique('o'))}/cancel`, { reason: pad(501) }), ['reason']);
  invalid('commit with a bad order_id', () => commit({ order_id: 'a b' }), ['order_id']);
  invalid('every faulty field named at once', () => reserve({ lines: [{ sku: 'bad sku', qty: 0 }, { qty: 1 }], ttl_seconds: 0 }), [
    'lines[0].sku',
    'lines[0].qty',
    'lines[1].sku',
    'ttl_seconds',
  ]);

  // --- wrong content types -------------------------------------------------------------------
  const media = (name, send) => add({ name: `content type: ${name}`, send, status: 415, type: 'unsupported-media-type' });
  media('text/plain on a reservation', () => reserve(resBody(`{"sku":${sOne},"qty":1}`), { 'content-type': 'text/plain' }));
  media('text/csv on a stock write', () => put('{"on_hand":3}', { 'content-type': 'text/csv' }));
  media('a form on a sale', () => a.admin('POST', '/v1/sales', `{"channel":"amazon","order_id":"o-form","lines":[{"sku":${sOne},"qty":1}]}`, { 'content-type': 'application/x-www-form-urlencoded' }));
  media('multipart on an adjustment', () => a.admin('POST', `/v1/skus/${enc(S1)}/adjustments`, '{"delta":5,"reason":"received"}', { 'content-type': 'multipart/form-data; boundary=x' }));
  media('text/json on an extend', () => extend('{"ttl_seconds":60}', { 'content-type': 'text/json' }));
  media('application/xml on a fulfilment', () => a.admin('POST', '/v1/fulfilments', '{"order_id":"o1","lines":[]}', { 'content-type': 'application/xml' }));

  // --- Idempotency-Key: replays and reuse ----------------------------------------------------
  add({ name: 'idempotent extend re-applied', send: () => extend(fx.extendBody, { 'idempotency-key': fx.extendKey }), status: 200, check: replayOf(fx.extendFirst) });
  add({ name: 'commit of a committed reservation repeated without a key', send: () => commit(fx.commitBody, fx.committed), status: 200 });
  add({
    name: 'idempotent commit re-applied with its key',
    send: () => a.storefront('POST', `/v1/reservations/${enc(fx.committed)}/commit`, fx.commitBody, { 'idempotency-key': fx.commitKey }),
    status: 200,
    check: replayOf(fx.commitFirst),
  });
  add({ name: 'idempotent stock write re-applied', send: () => put({ on_hand: 20 }, { 'idempotency-key': fx.stockKey }), status: 200, check: replayOf(fx.stockFirst) });
  add({ name: 'extend key reused with another ttl', send: () => extend({ ttl_seconds: 1700 }, { 'idempotency-key': fx.extendKey }), status: 422, type: 'idempotency-key-reused' });
  add({ name: 'stock key reused on another SKU', send: () => put({ on_hand: 20 }, { 'idempotency-key': fx.stockKey }, S2), status: 422, type: 'idempotency-key-reused' });
  add({ name: 'commit key reused for a sale', send: () => a.admin('POST', '/v1/sales', { channel: 'amazon', order_id: unique('o'), lines: [line()] }, { 'idempotency-key': fx.commitKey }), status: 422, type: 'idempotency-key-reused' });
  invalid('Idempotency-Key of 256 characters', () => put({ on_hand: 3 }, { 'idempotency-key': 'k'.repeat(256) }), ['Idempotency-Key']);
  invalid('empty Idempotency-Key', () => reserve({ lines: [line()] }, { 'idempotency-key': '' }), ['Idempotency-Key']);
  invalid('bad key and bad body named together', () => put({ on_hand: -1 }, { 'idempotency-key': 'k'.repeat(300) }), ['Idempotency-Key', 'on_hand']);

  // --- webhooks: forged and replayed signatures, each platform ------------------------------
  const hook = (platform, query = '') => `${fx.url}/v1/webhooks/${platform}${query}`;
  const shopify = (opts) => fx.sendShopify('orders/create', shopifyBody, opts).then(asResult);
  const shopifyBody = json(fx.shopifyOrder).replace(`"quantity":1`, `"quantity":4`).replace(`"id":${fx.shopifyOrder.id}`, `"id":${fx.shopifyOrder.id + 1}`);
  const unauthorized = (name, send) => add({ name: `webhook: ${name}`, send, status: 401, type: 'unauthorized' });
  unauthorized('shopify signed with another secret', () => shopify({ secret: 'not-the-secret' }));
  unauthorized('shopify empty signature', () => shopify({ signature: '' }));
  unauthorized('shopify signature not base64', () => shopify({ signature: 'not base64!' }));
  unauthorized('shopify signature of another body (replayed onto a new order)', () =>
    shopify({ signature: crypto.createHmac('sha256', SHOPIFY_SECRET).update(json(fx.shopifyOrder)).digest('base64') }),
  );
  unauthorized('shopify from another shop', () => shopify({ shopDomain: 'someone-else.myshopify.com' }));
  unauthorized('shopify signature of the body with one byte changed', () => {
    const sig = crypto.createHmac('sha256', SHOPIFY_SECRET).update(shopifyBody).digest('base64');
    return fx.sendShopify('orders/create', shopifyBody.replace('"quantity":4', '"quantity":5'), { signature: sig }).then(asResult);
  });
  add({
    name: 'webhook: shopify genuine delivery replayed (same event id)',
    send: () => fx.sendShopify('orders/create', fx.shopifyOrder, { eventId: fx.shopifyEvent }).then(asResult),
    status: 200,
  });
  add({
    name: 'webhook: shopify genuine body replayed under a new event id',
    send: () => fx.sendShopify('orders/create', fx.shopifyOrder).then(asResult),
    status: 200,
  });
  const wooOrder = { id: crypto.randomInt(1e9, 9e9), status: 'processing', line_items: [{ id: 1, product_id: fx.wooProduct, sku: WH, quantity: 2 }] };
  const woo = (opts) => sendWoo(hook('woocommerce'), 'order.created', json(wooOrder), { source: `https://${WOO_HOST}/`, ...opts }).then(asResult);
  unauthorized('woocommerce signed with another secret', () => woo({ secret: 'wrong' }));
  unauthorized('woocommerce empty signature', () => woo({ signature: '' }));
  unauthorized('woocommerce from another site', () => woo({ source: 'https://elsewhere.example/' }));
  unauthorized('woocommerce signature of another body', () => woo({ signature: crypto.createHmac('sha256', WOO_SECRET).update('{}').digest('base64') }));
  const amazonBody = json({ NotificationType: 'ORDER_CHANGE', Payload: { OrderChangeNotification: { SellerId: AMAZON_SELLER, AmazonOrderId: '111-1' } } });
  const forward = ({ secret = FORWARDER_SECRET, ts = Math.floor(Date.now() / 1000), signature, body = amazonBody } = {}) => {
    const sig = signature ?? `sha256=${crypto.createHmac('sha256', secret).update(`${ts}.${amazonBody}`).digest('hex')}`;
    return a.raw('POST', `/v1/webhooks/amazon?channel=${enc(fx.ch.amazon)}`, {
      body,
      headers: { 'content-type': 'application/json', 'x-stockedge-timestamp': String(ts), 'x-stockedge-signature': sig },
    });
  };
  unauthorized('amazon signed with another secret', () => forward({ secret: 'wrong' }));
  unauthorized('amazon replayed an hour later', () => forward({ ts: Math.floor(Date.now() / 1000) - 3600 }));
  unauthorized('amazon dated an hour ahead', () => forward({ ts: Math.floor(Date.now() / 1000) + 3600 }));
  unauthorized('amazon malformed signature', () => forward({ signature: 'sha256=zz' }));
  unauthorized('amazon signature over another body', () => forward({ body: amazonBody.replace('111-1', '111-2') }));
  unauthorized('amazon without signature headers', () => a.raw('POST', `/v1/webhooks/amazon?channel=${enc(fx.ch.amazon)}`, { body: amazonBody }));
  const ebayBody = json({ metadata: { topic: 'ORDER_CONFIRMATION', schemaVersion: '1.0', deprecated: false }, notification: { notificationId: crypto.randomUUID(), data: { orderId: '12-1' } } });
  const ebay = (signature) =>
    a.raw('POST', `/v1/webhooks/ebay?channel=${enc(fx.ch.ebay)}`, { body: ebayBody, headers: { 'content-type': 'application/json', 'x-ebay-signature': signature } });
  const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  unauthorized('ebay signed with a key that is not eBay\'s', () => ebay(signNotification(ebayBody, { privateKey, kid: fx.eb.keyId, digest: fx.eb.digest })));
  unauthorized('ebay signature of an unknown key id', () => ebay(signNotification(ebayBody, { privateKey, kid: 'no-such-key', digest: fx.eb.digest })));
  unauthorized('ebay signature header not JSON', () => ebay('bm90IGpzb24='));
  unauthorized('ebay without a signature', () => a.raw('POST', `/v1/webhooks/ebay?channel=${enc(fx.ch.ebay)}`, { body: ebayBody }));
  add({ name: 'webhook: shopify body over 1 MiB', send: () => fx.sendShopify('orders/create', pad(MiB + 1)).then(asResult), status: 413, type: 'payload-too-large' });

  // --- CSV imports: ragged rows, a 10 MB line, bad files ----------------------------------
  const noneApplied = (errors) =>
    importReport((b) => {
      assert.equal(b.summary.applied, 0, JSON.stringify(b.summary));
      assert.equal(b.summary.errors, errors, JSON.stringify(b.summary));
    });
  add({ name: 'csv: ragged row (one field too many)', send: () => csv(`sku,quantity\n${S1},5,main,extra\n`), status: 200, check: noneApplied(1) });
  add({ name: 'csv: ragged row (one field short)', send: () => csv(`sku,quantity,location\n${S1}\n`), status: 200, check: noneApplied(1) });
  add({ name: 'csv: a 10 MB quantity', send: () => csv(`sku,quantity\n${S1},${'9'.repeat(10 * MiB)}\n`), status: 200, check: noneApplied(1) });
  add({ name: 'csv: a 10 MB SKU', send: () => csv(`sku,quantity\n${'x'.repeat(10 * MiB)},5\n`), status: 200, check: noneApplied(1) });
  add({ name: 'csv: invalid UTF-8 in a row', send: () => csv(Buffer.concat([Buffer.from(`sku,quantity\n${S1}`), Buffer.from([0xff]), Buffer.from(',5\n')])), status: 200, check: noneApplied(1) });
  add({ name: 'csv: an unclosed quote', send: () => csv(`sku,quantity\n"${S1},5\n`), status: 200, check: noneApplied(1) });
  add({ name: 'csv: quantity 1e308', send: () => csv(`sku,quantity\n${S1},1e308\n`), status: 200, check: noneApplied(1) });
  add({ name: 'csv: negative quantity', send: () => csv(`sku,quantity\n${S1},-3\n`), status: 200, check: noneApplied(1) });
  add({ name: 'csv: dot-segment SKU', send: () => csv(`sku,quantity\n${S1}/../x,5\n`), status: 200, check: noneApplied(1) });
  add({
    name: 'csv: dry run on a stocked SKU reports the change and applies nothing',
    send: () => csv(`sku,quantity\n${S1},7\n`, 'format=csv&mode=set&dry_run=true'),
    status: 200,
    check: importReport((b) => {
      assert.equal(b.dry_run, true);
      assert.deepEqual([b.rows[0].status, b.rows[0].before, b.rows[0].after], ['applied', 20, 7], JSON.stringify(b.rows));
    }),
  });
  invalid('csv: a header that matches no format', () => csv('name,count\nx,1\n', 'mode=set'), ['header']);
  invalid('csv: unknown format', () => csv(`sku,quantity\n${S1},5\n`, 'format=xlsx'), ['format']);
  invalid('csv: unknown mode', () => csv(`sku,quantity\n${S1},5\n`, 'format=csv&mode=replace'), ['mode']);

  return cases;
}
