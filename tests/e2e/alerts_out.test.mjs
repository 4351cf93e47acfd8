// Alerts out against the real runtime (workerd), a loopback receiver (node:http) and the Shopify
// simulator: a signed JSON webhook and a Slack-compatible destination are configured; an
// oversold sale, a low-stock change, a channel with bad credentials (and the dead letter it
// leaves), a level Shopify reports that StockEdge did not push (drift) and a polled channel that
// cannot be read each open one problem; the cron runs twice
// (and twice more later): every open problem arrives exactly once per destination, webhook
// signatures verify, a receiver answering 500 once is retried and the message still arrives
// once; clearing the low stock sends one "resolved" per destination.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';

import { runCron } from './lib/reads.mjs';
import { api, sleep, start, unique, until } from './lib/worker.mjs';
import { startShopifySim, sendWebhook, inventoryLevelsUpdatePayload } from '../sim/shopify.mjs';

const SIGNING_KEY = 'whsec-e2e-alerts-out';
const enc = encodeURIComponent;

let rt;
let A;
let shop;
let receiver;
const received = []; // { path, headers, body, status }
let failNextHook = 1;

function startReceiver() {
  return new Promise((resolve) => {
    const server = http.createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c) => { body += c; });
      req.on('end', () => {
        let status = 200;
        if (req.url === '/hook' && failNextHook > 0) {
          failNextHook -= 1;
          status = 500;
        }
        received.push({ path: req.url, headers: req.headers, body, status });
        res.writeHead(status, { 'content-type': 'text/plain' });
        res.end(status === 200 ? 'ok' : 'try again');
      });
    });
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

before(async () => {
  [shop, receiver] = await Promise.all([startShopifySim(), startReceiver()]);
  rt = await start({ vars: { ALERTS_E2E_SIGNING_KEY: SIGNING_KEY } });
  A = api(rt.url);
});
after(async () => {
  await rt?.discard();
  await shop?.close();
  await new Promise((r) => (receiver ? receiver.close(r) : r()));
});

async function ok(r, status = 200) {
  assert.equal(r.status, status, `${r.status} ${r.text}`);
  return r.body;
}

const cron = () => runCron(rt.url);

/** The messages a path answered 200, parsed. */
const delivered = (path) => received.filter((d) => d.path === path && d.status === 200).map((d) => ({ ...d, json: JSON.parse(d.body) }));
const hookKeys = () => delivered('/hook').map((d) => `${d.json.kind}/${d.json.subject}/${d.json.phase}`);
const slackIds = () => delivered('/slack').map((d) => d.headers['x-stockedge-delivery']);

test('each open problem arrives once per destination, signed, retried after a 500', { timeout: 180_000 }, async () => {
  const run = unique('ao');
  const base = `http://127.0.0.1:${receiver.address().port}`;

  // Destinations: validation, then the two formats.
  const bad = await A.admin('PUT', '/v1/alert-destinations/ops', { format: 'email', url: 'ftp://x', kinds: ['nope'] });
  assert.equal(bad.status, 422, bad.text);
  assert.deepEqual(bad.body.errors.map((e) => e.field), ['format', 'url', 'kinds[0]']);
  const hook = await ok(await A.admin('PUT', '/v1/alert-destinations/ops-hook', { format: 'webhook', url: `${base}/hook`, secret: 'ALERTS_E2E_SIGNING_KEY' }), 201);
  assert.equal(hook.url, `${base}/…`, 'the URL is answered masked');
  assert.equal(hook.secret, 'ALERTS_E2E_SIGNING_KEY');
  await ok(await A.admin('PUT', '/v1/alert-destinations/ops-slack', { format: 'slack', url: `${base}/slack`, kinds: ['oversold', 'low_stock', 'channel_auth'] }), 201);
  await ok(await A.admin('PUT', '/v1/alert-destinations/ops-slack', { format: 'slack', url: `${base}/slack`, kinds: ['oversold', 'low_stock', 'channel_auth'] }), 200);
  const listed = await ok(await A.admin('GET', '/v1/alert-destinations'));
  assert.deepEqual(listed.items.map((d) => [d.id, d.format, d.enabled]), [['ops-hook', 'webhook', true], ['ops-slack', 'slack', true]]);

  // A good channel and one whose credentials the platform refuses.
  const good = `${run}-shop`;
  const refused = `${run}-badcreds`;
  await ok(await A.admin('PUT', `/v1/channels/${good}`, { kind: 'shopify', account: shop.shopDomain, credentials_secret: 'SIM_SHOPIFY_TOKEN', settings: { base_url: shop.url, webhook_secret: 'SIM_SHOPIFY_WEBHOOK_SECRET', on_drift: 'flag' } }), 201);
  await ok(await A.admin('PUT', `/v1/channels/${refused}`, { kind: 'shopify', account: `${run}-other.myshopify.com`, credentials_secret: 'SIM_EBAY_TOKEN', settings: { base_url: shop.url } }), 201);
  shop.addLocation({ id: 1 });

  // Oversold: 2 on hand, a marketplace sale of 5.
  const over = `${run}-OVER`;
  shop.addItem({ id: 910_001, sku: over, levels: { 1: { available: 0 } } });
  await ok(await A.admin('PUT', `/v1/channels/${good}/listings/${enc(over)}`, { external: { inventory_item_id: 910_001, location_id: 1 } }), 201);
  await ok(await A.admin('PUT', `/v1/skus/${enc(over)}/stock`, { on_hand: 2 }));
  const sold = await ok(await A.admin('POST', '/v1/sales', { channel: good, order_id: `${run}-o1`, lines: [{ sku: over, qty: 5 }] }));
  assert.equal(sold.skus[0].oversold, 3);

  // Low stock: threshold 5, stock 10 then 3.
  const low = `${run}-LOW`;
  const badThreshold = await A.admin('PUT', `/v1/skus/${enc(low)}/alerting`, { low_stock_below: -1 });
  assert.equal(badThreshold.status, 422, badThreshold.text);
  assert.equal(badThreshold.body.errors[0].field, 'low_stock_below');
  assert.deepEqual(await ok(await A.admin('PUT', `/v1/skus/${enc(low)}/alerting`, { low_stock_below: 5 })), { sku: low, low_stock_below: 5 });
  await ok(await A.admin('PUT', `/v1/skus/${enc(low)}/stock`, { on_hand: 10 }));
  await ok(await A.admin('PUT', `/v1/skus/${enc(low)}/stock`, { on_hand: 3 }));

  // Bad credentials: a push to the refusing channel.
  const cred = `${run}-CRED`;
  shop.addItem({ id: 910_002, sku: cred, levels: { 1: { available: 0 } } });
  await ok(await A.admin('PUT', `/v1/channels/${refused}/listings/${enc(cred)}`, { external: { inventory_item_id: 910_002, location_id: 1 } }), 201);
  await ok(await A.admin('PUT', `/v1/skus/${enc(cred)}/stock`, { on_hand: 4 }));
  const failed = await until(async () => {
    const f = await ok(await A.admin('GET', '/v1/sync/failures'));
    return (f.items ?? []).some((i) => i.channel === refused) ? f : null;
  }, { timeoutMs: 30_000, everyMs: 250 });
  assert.ok(failed, 'the refused push is recorded as a sync failure');

  // Drift: Shopify reports a level for the oversold SKU that StockEdge did not push.
  assert.ok(await until(() => shop.quantity(910_001, 1) === 0, { timeoutMs: 30_000, everyMs: 100 }), 'the oversold SKU is pushed 0');
  const edited = await sendWebhook(`${rt.url}/v1/webhooks/shopify`, 'inventory_levels/update', inventoryLevelsUpdatePayload({ inventory_item_id: 910_001, location_id: 1, available: 7 }), { shopDomain: shop.shopDomain });
  assert.equal(edited.status, 200, JSON.stringify(edited));

  // A polled channel that cannot be read (nothing listens on its port), connected two hours ago:
  // its watermark stays at the start, older than the 30 min limit.
  const behind = `${run}-woo`;
  const since = new Date(Date.now() - 2 * 3_600_000).toISOString();
  await ok(await A.admin('PUT', `/v1/channels/${behind}`, { kind: 'woocommerce', account: 'woo.example', credentials_secret: 'SIM_WOO_CREDENTIALS', settings: { base_url: 'http://127.0.0.1:9', poll_since: since } }), 201);

  // The cron, twice: channel-level problems are observed there.
  await cron();
  await cron();

  const want = [
    `oversold/${over}/opened`,
    `low_stock/${low}/opened`,
    `channel_auth/${refused}/opened`,
    'dead_letters/stock-changes/opened',
    `poll_behind/${behind}/opened`,
    `drift/${good}/opened`,
  ];
  const arrived = await until(() => want.every((k) => hookKeys().includes(k)) && slackIds().length >= 3, { timeoutMs: 60_000, everyMs: 250 });
  assert.ok(arrived, `every problem arrives: hook ${JSON.stringify(hookKeys())}, slack ${JSON.stringify(slackIds())}`);

  // Quiet time and two more cron runs: nothing arrives again.
  await cron();
  await cron();
  await sleep(4_000);

  const keys = hookKeys();
  for (const k of want) assert.equal(keys.filter((x) => x === k).length, 1, `${k} once at the webhook: ${JSON.stringify(keys)}`);
  assert.equal(new Set(keys).size, keys.length, `no webhook message twice: ${JSON.stringify(keys)}`);
  const ids = slackIds();
  assert.deepEqual([...ids].sort(), [
    `ops-slack:channel_auth/${refused}/1/opened`,
    `ops-slack:low_stock/${low}/1/opened`,
    `ops-slack:oversold/${over}/1/opened`,
  ], 'Slack gets the kinds it asked for, once each');

  // The 500 was retried: one more request than deliveries at the webhook, for the same id.
  const hookRequests = received.filter((d) => d.path === '/hook');
  const refusedOnce = hookRequests.filter((d) => d.status === 500);
  assert.equal(refusedOnce.length, 1);
  const retriedId = refusedOnce[0].headers['x-stockedge-delivery'];
  assert.equal(hookRequests.filter((d) => d.headers['x-stockedge-delivery'] === retriedId && d.status === 200).length, 1, 'the refused message arrives once after its retry');

  // Every webhook request is signed: sha256=HMAC(key, "<timestamp>.<body>").
  for (const d of hookRequests) {
    const ts = d.headers['x-stockedge-timestamp'];
    const want = 'sha256=' + crypto.createHmac('sha256', SIGNING_KEY).update(`${ts}.${d.body}`).digest('hex');
    assert.equal(d.headers['x-stockedge-signature'], want, `signature of ${d.body}`);
    assert.ok(Math.abs(Date.now() / 1000 - Number(ts)) < 300, 'a recent timestamp');
  }
  // Slack bodies: text and blocks, no signature (no secret named).
  for (const d of delivered('/slack')) {
    assert.equal(typeof d.json.text, 'string');
    assert.ok(Array.isArray(d.json.blocks) && d.json.blocks.length > 0);
    assert.equal(d.headers['x-stockedge-signature'], undefined);
  }
  const lowMsg = delivered('/hook').find((d) => d.json.kind === 'low_stock').json;
  assert.equal(lowMsg.sku, low);
  assert.equal(lowMsg.detail.available, 3);
  assert.equal(lowMsg.detail.threshold, 5);
  const authMsg = delivered('/hook').find((d) => d.json.kind === 'channel_auth').json;
  assert.equal(authMsg.sku, null);
  assert.equal(authMsg.channel, refused);
  const behindMsg = delivered('/hook').find((d) => d.json.kind === 'poll_behind').json;
  assert.equal(behindMsg.channel, behind);
  assert.ok(behindMsg.detail.age_ms > 30 * 60_000, JSON.stringify(behindMsg));

  // GET /v1/alerts: the new kinds, with subject; filtered by kind.
  const lows = (await ok(await A.admin('GET', `/v1/alerts?kind=low_stock&sku=${enc(low)}`))).items;
  assert.equal(lows.length, 1, JSON.stringify(lows));
  assert.equal(lows[0].subject, low);
  assert.equal(lows[0].detail.threshold, 5);
  const auths = (await ok(await A.admin('GET', '/v1/alerts?kind=channel_auth'))).items.filter((a) => a.subject === refused);
  assert.equal(auths.length, 1, JSON.stringify(auths));
  assert.equal(auths[0].sku, null);
  assert.equal(auths[0].channel, refused);
  const overs = (await ok(await A.admin('GET', `/v1/alerts?sku=${enc(over)}`))).items;
  assert.deepEqual(overs.map((a) => [a.kind, a.subject, a.units]), [['oversold', over, 3]]);
  const badKind = await A.admin('GET', '/v1/alerts?kind=everything');
  assert.equal(badKind.status, 422, badKind.text);
  assert.equal(badKind.body.errors[0].field, 'kind');

  // Low stock clears: one "resolved" per destination that wants it.
  await ok(await A.admin('PUT', `/v1/skus/${enc(low)}/stock`, { on_hand: 9 }));
  const resolvedKey = `low_stock/${low}/resolved`;
  assert.ok(await until(() => hookKeys().includes(resolvedKey) && slackIds().includes(`ops-slack:low_stock/${low}/1/resolved`), { timeoutMs: 30_000, everyMs: 250 }), JSON.stringify(hookKeys()));
  await cron();
  await sleep(2_000);
  assert.equal(hookKeys().filter((k) => k === resolvedKey).length, 1);

  // The delivery counts; deleting a destination.
  const after = await ok(await A.admin('GET', '/v1/alert-destinations'));
  const hookView = after.items.find((d) => d.id === 'ops-hook');
  assert.equal(hookView.delivered, delivered('/hook').length, JSON.stringify(after));
  assert.equal(hookView.failed, 0);
  assert.equal((await A.admin('DELETE', '/v1/alert-destinations/ops-slack')).status, 204);
  assert.equal((await A.admin('DELETE', '/v1/alert-destinations/ops-slack')).status, 404);
  assert.equal((await A.storefront('GET', '/v1/alert-destinations')).status, 403);
});
