// eBay refresh-token credentials against the running Worker and the eBay simulator: a channel
// whose secret holds `{"client_id","client_secret","refresh_token"}` (.dev.vars SIM_EBAY_OAUTH,
// the simulator's default client) has access tokens minted at `/identity/v1/oauth2/token`, and
// keeps working after a token expires (eBay user tokens last two hours): the simulator's clock is
// moved past the expiry, eBay refuses the Worker's cached token with 401, and the Worker mints a
// new one — for quantity pushes, notification order reads (with the public-key fetch) and
// order polls. A refresh token eBay refuses (invalid_grant) fails pushes permanently, listed in
// /v1/sync/failures.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { api, start, unique, until } from './lib/worker.mjs';
import { startEbaySim, notificationPayload } from '../sim/ebay.mjs';

const enc = encodeURIComponent;
const PAST_EXPIRY_MS = 7200 * 1000 + 60_000;

let rt;
let A;
let eb;
let CH;

before(async () => {
  eb = await startEbaySim({ tokenTtlSeconds: 7200 });
  rt = await start();
  A = api(rt.url);
  CH = unique('ebay-oauth');
  await channel(CH, 'SIM_EBAY_OAUTH');
});

after(async () => {
  await rt?.discard();
  await eb?.close();
});

function ok(r, status = 200) {
  assert.equal(r.status, status, `${r.status} ${r.text}`);
  return r.body;
}

async function channel(id, secretName) {
  return ok(await A.admin('PUT', `/v1/channels/${enc(id)}`, { kind: 'ebay', account: 'sim_seller', credentials_secret: secretName, settings: { base_url: eb.url } }), 201);
}

async function stock(sku, onHand) {
  return ok(await A.admin('PUT', `/v1/skus/${enc(sku)}/stock`, { on_hand: onHand }));
}

async function available(sku) {
  return ok(await A.admin('GET', `/v1/skus/${enc(sku)}`)).available;
}

/** 401s the simulator answered on its API endpoints since request number `from`. */
const refusals = (from = 0) => eb.requests.filter((r) => r.n > from && r.status === 401 && !r.path.startsWith('/identity/')).length;
const lastRequest = () => eb.requests.reduce((m, r) => Math.max(m, r.n), 0);

describe('eBay refresh-token credentials', () => {
  test('stock changes reach the listing with a minted token, and still do after it expires', async () => {
    const S = unique('EBO-SYNC');
    const offerId = String(Date.now() % 1e9);
    eb.addItem({ sku: S, quantity: 0, offers: [{ offerId, availableQuantity: 0 }] });
    await stock(S, 5);
    ok(await A.admin('PUT', `/v1/channels/${enc(CH)}/listings/${enc(S)}`, { external: { sku: S, offer_id: offerId } }), 201);
    assert.ok(await until(() => eb.listedQuantity(offerId) === 5, { timeoutMs: 15_000, everyMs: 50 }), `listed ${eb.listedQuantity(offerId)}`);
    const minted = eb.tokenRequestCount;
    assert.ok(minted >= 1, 'a token was minted');
    assert.ok(eb.tokenRequests.every((r) => r.status === 200 && r.grantType === 'refresh_token' && r.clientId === eb.clientId), JSON.stringify(eb.tokenRequests));

    // Another change within the token's life: the cached token is used, none is minted.
    await stock(S, 6);
    assert.ok(await until(() => eb.listedQuantity(offerId) === 6, { timeoutMs: 15_000, everyMs: 50 }), `listed ${eb.listedQuantity(offerId)}`);
    assert.equal(eb.tokenRequestCount, minted, 'the cached token was reused');

    // Two hours later (on eBay's clock), the Worker's token is dead: eBay answers 401, a new one is minted.
    const mark = lastRequest();
    eb.clock.advance(PAST_EXPIRY_MS);
    await stock(S, 9);
    assert.ok(await until(() => eb.listedQuantity(offerId) === 9, { timeoutMs: 20_000, everyMs: 50 }), `listed ${eb.listedQuantity(offerId)}`);
    assert.ok(eb.tokenRequestCount >= minted + 1 && eb.tokenRequestCount >= 2, `token requests: ${eb.tokenRequestCount}`);
    assert.ok(refusals(mark) >= 1, 'the expired token was refused first');
    const status = ok(await A.admin('GET', '/v1/sync/status')).items.find((i) => i.channel === CH && i.sku === S);
    assert.equal(status.last_quantity, 9, JSON.stringify(status));
    assert.equal(status.last_error, null, JSON.stringify(status));
  });

  test('after expiry, a notification is verified (public key) and its order read with a new token', async () => {
    const S = unique('EBO-HOOK');
    await stock(S, 10);
    ok(await A.admin('PUT', `/v1/channels/${enc(CH)}/listings/${enc(S)}`, { external: { sku: S } }), 201);
    eb.clock.advance(PAST_EXPIRY_MS);
    const before = eb.tokenRequestCount;
    const o = eb.addOrder({ lineItems: [{ sku: S, quantity: 2 }], creationDate: new Date().toISOString() });
    const r = await eb.sendNotification(`${rt.url}/v1/webhooks/ebay?channel=${enc(CH)}`, notificationPayload({ topic: 'ORDER_CONFIRMATION', data: { orderId: o.orderId } }));
    assert.equal(r.status, 200, r.text);
    assert.equal(await available(S), 8);
    assert.ok(eb.tokenRequestCount > before, `token requests: ${before} → ${eb.tokenRequestCount}`);
    // The public key was fetched with an application token (eBay authorises getPublicKey per app).
    assert.ok(eb.tokenRequests.some((t) => t.grantType === 'client_credentials' && t.status === 200), JSON.stringify(eb.tokenRequests));
  });

  test('after expiry, an order added to eBay is applied by the poll', async () => {
    const S = unique('EBO-POLL');
    await stock(S, 10);
    ok(await A.admin('PUT', `/v1/channels/${enc(CH)}/listings/${enc(S)}`, { external: { sku: S } }), 201);
    eb.clock.advance(PAST_EXPIRY_MS);
    const before = eb.tokenRequestCount;
    const mark = lastRequest();
    eb.addOrder({ lineItems: [{ sku: S, quantity: 3 }], creationDate: new Date().toISOString() });
    const body = ok(await A.admin('POST', `/v1/inbound/polls/run?channel=${enc(CH)}`));
    assert.equal(body.runs.length, 1, JSON.stringify(body));
    const run = body.runs[0];
    assert.equal(run.result, 'polled', JSON.stringify(run));
    assert.equal(await available(S), 7, JSON.stringify(run));
    assert.ok(eb.tokenRequestCount > before, `token requests: ${before} → ${eb.tokenRequestCount}`);
    assert.ok(refusals(mark) >= 1, 'the expired token was refused first');
  });

  test('a refresh token eBay refuses (invalid_grant) fails the push permanently, listed in /v1/sync/failures', async () => {
    const bad = unique('ebay-revoked');
    await channel(bad, 'SIM_EBAY_OAUTH_REVOKED');
    const S = unique('EBO-REVOKED');
    const offerId = String((Date.now() + 7) % 1e9);
    eb.addItem({ sku: S, quantity: 0, offers: [{ offerId, availableQuantity: 0 }] });
    await stock(S, 4);
    ok(await A.admin('PUT', `/v1/channels/${enc(bad)}/listings/${enc(S)}`, { external: { sku: S, offer_id: offerId } }), 201);
    const failure = await until(async () => ok(await A.admin('GET', '/v1/sync/failures')).items.find((x) => x.channel === bad && x.sku === S), { timeoutMs: 15_000, everyMs: 200 });
    assert.ok(failure, 'the refused credentials show in /v1/sync/failures');
    assert.match(failure.reason, /invalid_grant/, failure.reason);
    assert.equal(eb.listedQuantity(offerId), 0);
    assert.ok(eb.tokenRequests.some((t) => t.error === 'invalid_grant'));
  });
});
