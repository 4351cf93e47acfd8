// eBay Sell APIs simulator: Inventory bulkUpdatePriceQuantity (+ re-reads), Fulfillment getOrders,
// Notification getPublicKey, and a signed-notification sender.
//
// Built from (stored copies):
//  - https://developer.ebay.com/api-docs/sell/static/inventory/bulk-updates.html — up to 25
//    requests per call; quantity must be set on the item (shipToLocationAvailability) and the
//    offer (availableQuantity); the listed quantity is min(availableQuantity, quantity).
//  - https://developer.ebay.com/api-docs/sell/inventory/types/slr:BulkPriceQuantityResponse and
//    slr:PriceQuantityResponse — {responses:[{offerId?, sku, statusCode, errors?, warnings?}]}.
//  - bulkUpdatePriceQuantity method page (as transcribed in public client code): 200 all
//    succeeded, 207 Multi-Status otherwise; errors 25001 (system), 25002 "Any User error.
//    {additionalInfo}", 25709 "Invalid value for {fieldName}. {additionalInfo}", 25759;
//    ErrorDetailV3 {errorId, domain, subdomain?, category, message, longMessage?, parameters}.
//  - Inventory API method notes: "Each listing can be revised up to 250 times in one calendar
//    day. If this revision threshold is reached, the seller will be blocked from revising the
//    item until the next calendar day." (no dedicated error code is documented).
//  - https://developer.ebay.com/api-docs/sell/fulfillment/resources/order/methods/getOrders —
//    GET /sell/fulfillment/v1/order?filter=creationdate:[…]|lastmodifieddate:[…]|
//    orderfulfillmentstatus:{…}&limit&offset&orderIds; no filter = orders of the last 90 days.
//  - Notification API: https://developer.ebay.com/api-docs/buy/notification/resources/public_key/
//    methods/getPublicKey — GET /commerce/notification/v1/public_key/{public_key_id} →
//    PublicKey {algorithm ("ECDSA"), digest (e.g. "SHA1"), key}; X-EBAY-SIGNATURE is base64 JSON
//    {alg:"ecdsa", kid, signature, digest} (eBay Connect 2021 "Notifications" deck; docs/channels.md).
//    eBay's SDKs verify over the JSON message re-serialised compactly, with the algorithm taken
//    from the public key's digest (Java: "<digest>with<algorithm>") or fixed to SHA-1 (Node SDK
//    'ssl3-sha1'); eBay's own SDK test fixture header says "digest":"SHA1". The key is returned
//    as PEM without line breaks (the SDKs re-insert them). See README for the digest choice.
//  - https://developer.ebay.com/api-docs/static/oauth-refresh-token-request.html — POST
//    /identity/v1/oauth2/token, Content-Type application/x-www-form-urlencoded, Authorization
//    Basic base64(client_id:client_secret), body grant_type=refresh_token&refresh_token&scope
//    (space-separated, the granted scopes or a subset) → {access_token, expires_in: 7200,
//    token_type: "User Access Token"}; OAuth 2.0 errors {error, error_description}: invalid_grant
//    (400) for a bad refresh token, invalid_client (401), invalid_scope, unsupported_grant_type.
//    grant_type=client_credentials&scope=https://api.ebay.com/oauth/api_scope mints an application
//    token ("Application Access Token"), which getPublicKey requires (a user token is refused).
//  - OAuth failures: 401 {errors:[{errorId:1001, domain:"OAuth", category:"REQUEST",
//    message:"Invalid access token", longMessage:"Invalid access token. Check the value of the
//    Authorization HTTP request header."}]}.

import crypto from 'node:crypto';
import {
  startSim, createClock, WriteLog, FaultInjector, json, bearer, basicAuth, safeEqual, postRaw,
  parseVersion, VERSION_HEADER, router,
} from './lib.mjs';

export const MAX_REQUESTS = 25;
export const TOKEN_PATH = '/identity/v1/oauth2/token';
export const SCOPE_PUBLIC = 'https://api.ebay.com/oauth/api_scope';
export const SCOPE_INVENTORY = 'https://api.ebay.com/oauth/api_scope/sell.inventory';
/** Application tokens (client-credentials grant) live 2 hours, like user tokens. */
const APP_TOKEN_TTL_S = 7200;
export const SCOPE_FULFILLMENT = 'https://api.ebay.com/oauth/api_scope/sell.fulfillment';
/** The OAuth client the simulator knows unless told otherwise (`.dev.vars` SIM_EBAY_OAUTH). */
export const DEFAULT_CLIENT = {
  clientId: 'StockEdg-sim-PRD-0123456789',
  clientSecret: 'PRD-sim-client-secret-0123',
  refreshToken: 'v^1.1#i^1#r^1#f^0#I^3#p^3#t^sim-refresh-token',
  scopes: ['https://api.ebay.com/oauth/api_scope', SCOPE_INVENTORY, SCOPE_FULFILLMENT],
};

function ebayError(errorId, { domain = 'API_INVENTORY', category = 'REQUEST', message, longMessage, parameters } = {}) {
  const e = { errorId, domain, subdomain: domain === 'API_INVENTORY' ? 'Selling' : undefined, category, message };
  if (e.subdomain === undefined) delete e.subdomain;
  if (longMessage) e.longMessage = longMessage;
  if (parameters) e.parameters = parameters;
  return e;
}

const invalidValue = (field, info = '') => ebayError(25709, {
  message: `Invalid value for ${field}. ${info}`.trim(),
  longMessage: `Invalid value for ${field}. ${info}`.trim(),
  parameters: [{ name: 'fieldName', value: field }, ...(info ? [{ name: 'additionalInfo', value: info }] : [])],
});
const userError = (info) => ebayError(25002, { message: `Any User error. ${info}`, longMessage: `Any User error. ${info}`, parameters: [{ name: 'additionalInfo', value: info }] });

/** Single-line PEM, as eBay returns it (the SDKs insert the line breaks back). */
function singleLinePem(publicKey) {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return `-----BEGIN PUBLIC KEY-----${der.toString('base64')}-----END PUBLIC KEY-----`;
}

/** What eBay's SDKs do before verifying: put the PEM line breaks back. */
export function formatEbayKey(key) {
  return key.replace(/-----BEGIN PUBLIC KEY-----/, '-----BEGIN PUBLIC KEY-----\n').replace(/-----END PUBLIC KEY-----/, '\n-----END PUBLIC KEY-----');
}

const HASH = { SHA1: 'sha1', SHA256: 'sha256' };

/** Signs a notification body: returns the X-EBAY-SIGNATURE header value. */
export function signNotification(body, { privateKey, kid, digest = 'SHA256' }) {
  const alg = HASH[digest];
  if (!alg) throw new RangeError(`digest must be one of ${Object.keys(HASH).join(', ')}`);
  const signature = crypto.sign(alg, Buffer.from(body), privateKey).toString('base64'); // DER (ASN.1) ECDSA signature
  return Buffer.from(JSON.stringify({ alg: 'ecdsa', kid, signature, digest })).toString('base64');
}

/** The notification envelope eBay pushes ({metadata, notification}). */
export function notificationPayload({ topic, data = {}, schemaVersion = '1.0', notificationId = crypto.randomUUID(), eventDate = new Date().toISOString(), publishDate = eventDate, publishAttemptCount = 1 }) {
  return { metadata: { topic, schemaVersion, deprecated: false }, notification: { notificationId, eventDate, publishDate, publishAttemptCount, data } };
}

/**
 * POSTs a signed notification. `payload` is an object (serialised compactly with JSON.stringify,
 * which is also what eBay's SDKs re-serialise before verifying) or a string sent as is.
 */
export async function sendNotification(targetUrl, payload, { privateKey, kid, digest = 'SHA256', timeoutMs = 5000, signatureHeader } = {}) {
  const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
  const sig = signatureHeader ?? signNotification(body, { privateKey, kid, digest });
  const headers = { 'content-type': 'application/json', 'x-ebay-signature': sig };
  const r = await postRaw(targetUrl, { headers, body, timeoutMs });
  return { ...r, body, signatureHeader: sig, sent: { headers } };
}

/** The endpoint-validation answer: hex SHA-256 of challengeCode + verificationToken + endpoint. */
export function challengeResponse(challengeCode, verificationToken, endpoint) {
  return crypto.createHash('sha256').update(challengeCode).update(verificationToken).update(endpoint).digest('hex');
}

/**
 * Performs eBay's endpoint validation against a receiver: GET endpoint?challenge_code=…, expects
 * 200 JSON {challengeResponse}. Returns {ok, status, expected, got}.
 */
export async function sendChallenge(endpoint, verificationToken, challengeCode = crypto.randomBytes(16).toString('hex')) {
  const u = new URL(endpoint);
  u.searchParams.set('challenge_code', challengeCode);
  const r = await postRaw(u.toString(), { method: 'GET', headers: { accept: 'application/json' }, body: undefined });
  let got;
  try { got = JSON.parse(r.text).challengeResponse; } catch { got = undefined; }
  const expected = challengeResponse(challengeCode, verificationToken, endpoint);
  return { ok: r.status === 200 && got === expected, status: r.status, expected, got };
}

/**
 * Starts the eBay simulator.
 *
 * @param opts {port, tokens = ['v^1.1#sim-user-token'] (fixed tokens that never expire),
 *   clients = [DEFAULT_CLIENT] ({clientId, clientSecret, refreshToken, scopes}: who may mint
 *   tokens), tokenTtlSeconds = 7200, inventory: [{sku, quantity, offers: [{offerId,
 *   availableQuantity, marketplaceId = 'EBAY_US', status = 'PUBLISHED', listingId}]}],
 *   revisionLimit = 250, digest = 'SHA256', keyId, orders: [...], faults, clock}
 */
export async function startEbaySim(opts = {}) {
  const clock = opts.clock ?? createClock();
  const log = new WriteLog(clock);
  const faults = new FaultInjector(opts.faults ?? {});
  const tokens = new Set(opts.tokens ?? ['v^1.1#sim-user-token']);
  const clients = opts.clients ?? [DEFAULT_CLIENT];
  const tokenTtl = opts.tokenTtlSeconds ?? 7200;
  const issued = new Map(); // access token -> {clientId, scopes, expiresAt}
  const tokenRequests = []; // {at, clientId, grantType, status, error?}
  const revisionLimit = opts.revisionLimit ?? 250;
  let digest = opts.digest ?? 'SHA256';
  const keyId = opts.keyId ?? crypto.randomUUID();
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' });

  const items = new Map(); // sku -> {sku, quantity}
  const offers = new Map(); // offerId -> {offerId, sku, availableQuantity, marketplaceId, status, listingId, price}
  const revisions = new Map(); // `${listingId}|${utcDay}` -> count
  const orders = new Map();
  let nextListing = 110000000000;
  let nextLine = 10000000000;

  const utcDay = () => new Date(clock.now()).toISOString().slice(0, 10); // choice: the calendar day is UTC
  const revisionCount = (listingId) => revisions.get(`${listingId}|${utcDay()}`) ?? 0;
  const bumpRevision = (listingId) => revisions.set(`${listingId}|${utcDay()}`, revisionCount(listingId) + 1);

  function addItem({ sku, quantity = 0, offers: os = [] }) {
    items.set(sku, { sku, quantity });
    for (const o of os) addOffer({ sku, ...o });
  }
  function addOffer({ sku, offerId = String(crypto.randomInt(10 ** 9, 10 ** 10)), availableQuantity = 0, marketplaceId = 'EBAY_US', status = 'PUBLISHED', listingId = String(++nextListing), price = { value: '10.00', currency: 'USD' } }) {
    offers.set(String(offerId), { offerId: String(offerId), sku, availableQuantity, marketplaceId, status, listingId: status === 'PUBLISHED' ? listingId : null, price });
    return String(offerId);
  }
  for (const i of opts.inventory ?? []) addItem(i);

  const listed = (o) => Math.min(o.availableQuantity, items.get(o.sku)?.quantity ?? 0);

  const UNAUTHORIZED = json(401, { errors: [ebayError(1001, { domain: 'OAuth', category: 'REQUEST', message: 'Invalid access token', longMessage: 'Invalid access token. Check the value of the Authorization HTTP request header.' })] });
  // A fixed token, or one the token endpoint issued that has not expired on the simulator's clock.
  const authed = (ctx) => {
    const t = bearer(ctx.headers.authorization) ?? '';
    if (tokens.has(t)) return true;
    const g = issued.get(t);
    return Boolean(g) && clock.now() < g.expiresAt;
  };

  // ---------------------------------------------------------------- OAuth token endpoint

  function oauthToken(ctx) {
    const entry = { at: clock.iso(), clientId: null, grantType: null, status: 0 };
    tokenRequests.push(entry);
    const answer = (status, body) => { entry.status = status; if (body.error) entry.error = body.error; return json(status, body); };
    const ct = String(ctx.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (ct !== 'application/x-www-form-urlencoded') return answer(400, { error: 'invalid_request', error_description: 'request is missing a required parameter or malformed.' });
    const p = new URLSearchParams(ctx.text());
    entry.grantType = p.get('grant_type');
    const basic = basicAuth(ctx.headers.authorization);
    entry.clientId = basic?.user ?? null;
    const c = basic && clients.find((x) => x.clientId === basic.user);
    if (!c || !safeEqual(c.clientSecret, basic.pass)) return answer(401, { error: 'invalid_client', error_description: 'client authentication failed' });
    if (!p.get('grant_type')) return answer(400, { error: 'invalid_request', error_description: 'request is missing a required parameter or malformed.' });
    if (p.get('grant_type') === 'client_credentials') {
      // An application token: no seller behind it; only the public scope.
      const asked = (p.get('scope') ?? '').split(' ').filter(Boolean);
      if (asked.length === 0 || asked.some((x) => x !== SCOPE_PUBLIC)) return answer(400, { error: 'invalid_scope', error_description: 'The requested scope is invalid, unknown, malformed, or exceeds the scope granted to the client' });
      const token = `v^1.1#i^1#f^0#p^1#r^0#I^3#t^${crypto.randomBytes(48).toString('base64url')}`;
      issued.set(token, { clientId: c.clientId, scopes: asked, application: true, expiresAt: clock.now() + APP_TOKEN_TTL_S * 1000 });
      return answer(200, { access_token: token, expires_in: APP_TOKEN_TTL_S, token_type: 'Application Access Token' });
    }
    if (p.get('grant_type') !== 'refresh_token') return answer(400, { error: 'unsupported_grant_type', error_description: 'grant type in request is not supported by the authorization server' });
    if (!p.get('refresh_token')) return answer(400, { error: 'invalid_request', error_description: 'request is missing a required parameter or malformed.' });
    if (!safeEqual(c.refreshToken, p.get('refresh_token'))) return answer(400, { error: 'invalid_grant', error_description: 'the provided authorization refresh token is invalid or was issued to another client' });
    const granted = c.scopes ?? DEFAULT_CLIENT.scopes;
    const asked = (p.get('scope') ?? '').split(' ').filter(Boolean);
    if (asked.some((x) => !granted.includes(x))) return answer(400, { error: 'invalid_scope', error_description: 'The requested scope is invalid, unknown, malformed, or exceeds the scope granted to the client' });
    const token = `v^1.1#i^1#p^3#I^3#r^0#f^0#t^${crypto.randomBytes(48).toString('base64url')}`;
    issued.set(token, { clientId: c.clientId, scopes: asked.length ? asked : granted, application: false, expiresAt: clock.now() + tokenTtl * 1000 });
    return answer(200, { access_token: token, expires_in: tokenTtl, token_type: 'User Access Token' });
  }

  // ---------------------------------------------------------------- bulkUpdatePriceQuantity

  function bulkUpdate(ctx) {
    if (!authed(ctx)) return UNAUTHORIZED;
    let body;
    try { body = ctx.json(); } catch { return json(400, { errors: [userError('The request payload is not valid JSON.')] }); }
    if (!body || !Array.isArray(body.requests) || body.requests.length === 0) return json(400, { errors: [userError("The 'requests' container is required and must not be empty.")] });
    if (body.requests.length > MAX_REQUESTS) return json(400, { errors: [userError(`The 'requests' container can hold at most ${MAX_REQUESTS} requests; ${body.requests.length} were sent.`)] });
    const version = parseVersion(ctx.headers[VERSION_HEADER]);
    const responses = [];
    for (const req of body.requests) {
      const sku = req?.sku;
      const reqOffers = Array.isArray(req?.offers) ? req.offers : [];
      const ship = req?.shipToLocationAvailability;
      const fail = (err) => {
        if (reqOffers.length) for (const o of reqOffers) responses.push({ offerId: o?.offerId, sku: sku ?? offers.get(String(o?.offerId))?.sku, statusCode: 400, errors: [err] });
        else responses.push({ sku, statusCode: 400, errors: [err] });
      };
      if (ship !== undefined && sku === undefined) { fail(invalidValue('sku', 'sku is required with shipToLocationAvailability.')); continue; }
      if (sku !== undefined && !items.has(sku)) { fail(invalidValue('sku', `No inventory item with SKU '${sku}'.`)); continue; }
      if (ship !== undefined && (!ship || !Number.isInteger(ship.quantity) || ship.quantity < 0)) { fail(invalidValue('shipToLocationAvailability.quantity', 'The value must be an integer greater than or equal to 0.')); continue; }
      if (ship === undefined && reqOffers.length === 0) { fail(userError('Each request needs shipToLocationAvailability or offers.')); continue; }
      const ids = reqOffers.map((o) => String(o?.offerId));
      if (new Set(ids).size !== ids.length) { fail(userError('Duplicate offerId values in the offers container.')); continue; }
      // Validate each offer; an invalid offer gets its own error entry and is not applied.
      const offerResults = reqOffers.map((o) => {
        const off = offers.get(String(o?.offerId));
        if (!off) return { o, err: invalidValue('offerId', `No offer with offerId '${o?.offerId}'.`) };
        if (sku !== undefined && off.sku !== sku) return { o, off, err: invalidValue('offerId', `Offer ${off.offerId} belongs to SKU '${off.sku}', not '${sku}'.`) };
        if (o.availableQuantity === undefined && o.price === undefined) return { o, off, err: userError('availableQuantity or price is required for each offer.') };
        if (o.availableQuantity !== undefined && (!Number.isInteger(o.availableQuantity) || o.availableQuantity < 0)) return { o, off, err: invalidValue('availableQuantity', 'The value must be greater than or equal to 0.') };
        if (off.status !== 'PUBLISHED') return { o, off, err: userError(`Offer ${off.offerId} is not published; use updateOffer for unpublished offers.`) };
        return { o, off };
      });
      // Revisions: every published listing touched by this request counts one revision today.
      // Choice: if any of them has already had `revisionLimit` revisions today, the whole request
      // element is refused ("blocked from revising the item until the next calendar day").
      const touched = new Set();
      for (const r of offerResults) if (!r.err) touched.add(r.off.listingId);
      if (ship !== undefined) for (const o of offers.values()) if (o.sku === sku && o.status === 'PUBLISHED') touched.add(o.listingId);
      const blocked = [...touched].filter((l) => revisionCount(l) >= revisionLimit);
      if (blocked.length) { fail(userError(`Listing ${blocked.join(', ')} has been revised ${revisionLimit} times today; it cannot be revised again until the next calendar day.`)); continue; }
      if (ship !== undefined) items.get(sku).quantity = ship.quantity;
      for (const l of touched) bumpRevision(l);
      if (reqOffers.length === 0) {
        responses.push({ sku, statusCode: 200 });
        for (const o of offers.values()) {
          if (o.sku !== sku || o.status !== 'PUBLISHED') continue;
          log.record(sku, { value: listed(o), version, offerId: o.offerId, listingId: o.listingId, availableQuantity: o.availableQuantity, shipToLocationQuantity: items.get(sku).quantity, revisionsToday: revisionCount(o.listingId), sku, requestId: ctx.requestId });
        }
        continue;
      }
      for (const r of offerResults) {
        if (r.err) { responses.push({ offerId: r.o?.offerId, sku: sku ?? r.off?.sku, statusCode: 400, errors: [r.err] }); continue; }
        if (r.o.availableQuantity !== undefined) r.off.availableQuantity = r.o.availableQuantity;
        if (r.o.price !== undefined) r.off.price = r.o.price;
        responses.push({ offerId: r.off.offerId, sku: r.off.sku, statusCode: 200 });
        log.record(r.off.sku, { value: listed(r.off), version, offerId: r.off.offerId, listingId: r.off.listingId, availableQuantity: r.off.availableQuantity, shipToLocationQuantity: items.get(r.off.sku)?.quantity ?? null, revisionsToday: revisionCount(r.off.listingId), sku: r.off.sku, requestId: ctx.requestId });
      }
    }
    const allOk = responses.every((r) => r.statusCode === 200);
    return json(allOk ? 200 : 207, { responses });
  }

  function getInventoryItem(ctx) {
    if (!authed(ctx)) return UNAUTHORIZED;
    const it = items.get(ctx.params.sku);
    if (!it) return json(404, { errors: [ebayError(25710, { message: `We didn't find the resource/entity you are requesting. Please verify the request`, longMessage: `We didn't find the resource/entity you are requesting. Please verify the request` })] });
    return json(200, { sku: it.sku, availability: { shipToLocationAvailability: { quantity: it.quantity } } });
  }

  function getOffer(ctx) {
    if (!authed(ctx)) return UNAUTHORIZED;
    const o = offers.get(ctx.params.offerId);
    if (!o) return json(404, { errors: [ebayError(25713, { message: 'This Offer is not available.' })] });
    return json(200, { offerId: o.offerId, sku: o.sku, marketplaceId: o.marketplaceId, format: 'FIXED_PRICE', availableQuantity: o.availableQuantity, pricingSummary: { price: o.price }, status: o.status, listing: o.listingId ? { listingId: o.listingId, listingStatus: 'ACTIVE' } : undefined });
  }

  // ---------------------------------------------------------------- Fulfillment getOrders

  function orderJson(o) {
    return {
      orderId: o.orderId,
      legacyOrderId: o.orderId,
      creationDate: new Date(o.created).toISOString(),
      lastModifiedDate: new Date(o.modified).toISOString(),
      orderFulfillmentStatus: o.orderFulfillmentStatus,
      orderPaymentStatus: o.orderPaymentStatus,
      sellerId: 'sim_seller',
      buyer: { username: 'sim_buyer' },
      cancelStatus: { cancelState: o.cancelState, cancelRequests: [] },
      salesRecordReference: String(o.salesRecord),
      lineItems: o.lineItems.map((li) => ({ ...li })),
    };
  }

  let salesRecord = 1000;
  function addOrder({ orderId = `${crypto.randomInt(10, 99)}-${crypto.randomInt(10000, 99999)}-${crypto.randomInt(10000, 99999)}`, lineItems = [], creationDate, orderFulfillmentStatus = 'NOT_STARTED', orderPaymentStatus = 'PAID' } = {}) {
    const t = creationDate ? Date.parse(creationDate) : clock.now();
    const o = {
      orderId,
      created: t,
      modified: t,
      orderFulfillmentStatus,
      orderPaymentStatus,
      cancelState: 'NONE_REQUESTED',
      salesRecord: ++salesRecord,
      lineItems: lineItems.map((li) => {
        const off = [...offers.values()].find((x) => x.sku === li.sku);
        return { lineItemId: String(li.lineItemId ?? ++nextLine), legacyItemId: li.legacyItemId ?? off?.listingId ?? null, sku: li.sku, title: li.title ?? li.sku, quantity: li.quantity ?? 1, lineItemFulfillmentStatus: 'NOT_STARTED' };
      }),
    };
    orders.set(orderId, o);
    return orderJson(o);
  }

  function updateOrder(orderId, changes = {}) {
    const o = orders.get(orderId);
    if (!o) throw new Error(`no order ${orderId}`);
    Object.assign(o, Object.fromEntries(Object.entries(changes).filter(([k]) => ['orderFulfillmentStatus', 'orderPaymentStatus', 'cancelState'].includes(k))));
    if (changes.orderFulfillmentStatus === 'FULFILLED') for (const li of o.lineItems) li.lineItemFulfillmentStatus = 'FULFILLED';
    o.modified = changes.lastModifiedDate ? Date.parse(changes.lastModifiedDate) : clock.now();
    return orderJson(o);
  }

  function splitFilter(s) {
    const out = [];
    let depth = 0;
    let cur = '';
    for (const c of s) {
      if (c === '[' || c === '{') depth++;
      if (c === ']' || c === '}') depth--;
      if (c === ',' && depth === 0) { out.push(cur); cur = ''; continue; }
      cur += c;
    }
    if (cur) out.push(cur);
    return out.map((x) => x.trim()).filter(Boolean);
  }

  // Fulfillment error ids below (30700 invalid filter name, 30800 invalid filter value, 30840
  // invalid limit, 30850 invalid offset) are the simulator's; the stored docs did not show them.
  const fulfillmentError = (errorId, message) => json(400, { errors: [ebayError(errorId, { domain: 'API_FULFILLMENT', category: 'REQUEST', message })] });

  function getOrders(ctx) {
    if (!authed(ctx)) return UNAUTHORIZED;
    const q = ctx.query;
    const limit = q.has('limit') ? Number(q.get('limit')) : 50;
    if (!Number.isInteger(limit) || limit < 1 || limit > 200) return fulfillmentError(30840, 'Invalid limit. Supported range is 1 to 200.');
    const offset = q.has('offset') ? Number(q.get('offset')) : 0;
    if (!Number.isInteger(offset) || offset < 0) return fulfillmentError(30850, 'Invalid offset. It must be zero or greater.');
    let list = [...orders.values()];
    if (q.get('orderIds')) {
      const ids = q.get('orderIds').split(',').map((s) => s.trim()).filter(Boolean);
      if (ids.length > 50) return fulfillmentError(30800, 'A maximum of 50 orderIds can be specified.');
      list = list.filter((o) => ids.includes(o.orderId));
    } else if (q.get('filter')) {
      for (const part of splitFilter(q.get('filter'))) {
        const i = part.indexOf(':');
        const name = i < 0 ? part : part.slice(0, i);
        const value = i < 0 ? '' : part.slice(i + 1);
        if (name === 'creationdate' || name === 'lastmodifieddate') {
          const m = /^\[(.*?)\.\.(.*)\]$/.exec(value);
          if (!m) return fulfillmentError(30800, `Invalid filter value ${value} for filter ${name}.`);
          const from = m[1] ? Date.parse(m[1]) : -Infinity;
          const to = m[2] ? Date.parse(m[2]) : Infinity;
          if (Number.isNaN(from) || Number.isNaN(to)) return fulfillmentError(30800, `Invalid filter value ${value} for filter ${name}.`);
          const f = name === 'creationdate' ? 'created' : 'modified';
          list = list.filter((o) => o[f] >= from && o[f] <= to);
        } else if (name === 'orderfulfillmentstatus') {
          const m = /^\{([A-Z_|]+)\}$/.exec(value);
          if (!m) return fulfillmentError(30800, `Invalid filter value ${value} for filter ${name}.`);
          const set = m[1].split('|');
          list = list.filter((o) => set.includes(o.orderFulfillmentStatus));
        } else {
          return fulfillmentError(30700, `Invalid filter name: ${name}`);
        }
      }
    } else {
      const since = clock.now() - 90 * 24 * 3600 * 1000;
      list = list.filter((o) => o.created >= since);
    }
    // Choice: newest first by creation date, order id as tie-break (stable offsets).
    list.sort((a, b) => (b.created - a.created) || b.orderId.localeCompare(a.orderId));
    const total = list.length;
    const page = list.slice(offset, offset + limit).map(orderJson);
    const href = new URL(`${sim.url}${ctx.path}`);
    for (const [k, v] of q) href.searchParams.set(k, v);
    href.searchParams.set('limit', String(limit));
    href.searchParams.set('offset', String(offset));
    const out = { href: href.toString(), total, limit, offset, orders: page };
    if (offset + limit < total) { const n = new URL(href); n.searchParams.set('offset', String(offset + limit)); out.next = n.toString(); }
    if (offset > 0) { const p = new URL(href); p.searchParams.set('offset', String(Math.max(0, offset - limit))); out.prev = p.toString(); }
    return json(200, out);
  }

  // ---------------------------------------------------------------- Notification public key

  function getPublicKey(ctx) {
    // getPublicKey is authorised per application: an application token (client-credentials
    // grant), or the fixed legacy token; a seller's minted user token is refused.
    if (!authed(ctx) || issued.get(bearer(ctx.headers.authorization) ?? '')?.application === false) return UNAUTHORIZED;
    if (ctx.params.kid !== keyId) {
      // Simulator's error id: the stored docs did not list getPublicKey's error codes.
      return json(404, { errors: [ebayError(195000, { domain: 'API_NOTIFICATION', category: 'REQUEST', message: `The public key ID ${ctx.params.kid} was not found.` })] });
    }
    return json(200, { algorithm: 'ECDSA', digest, key: singleLinePem(publicKey) });
  }

  const handler = router([
    ['POST', TOKEN_PATH, oauthToken],
    ['POST', '/sell/inventory/v1/bulk_update_price_quantity', bulkUpdate],
    ['GET', '/sell/inventory/v1/inventory_item/:sku', getInventoryItem],
    ['GET', '/sell/inventory/v1/offer/:offerId', getOffer],
    ['GET', '/sell/fulfillment/v1/order', getOrders],
    ['GET', '/commerce/notification/v1/public_key/:kid', getPublicKey],
  ], { notFound: () => json(404, { errors: [ebayError(2002, { domain: 'ACCESS', category: 'REQUEST', message: 'Resource not found' })] }) });

  const sim = await startSim(handler, {
    port: opts.port ?? 0,
    name: 'ebay',
    clock,
    log,
    faults,
    state: () => ({
      quantities: Object.fromEntries([...offers.values()].filter((o) => o.status === 'PUBLISHED').map((o) => [o.sku, listed(o)])),
      items: [...items.values()],
      offers: [...offers.values()].map((o) => ({ ...o, listedQuantity: listed(o), revisionsToday: o.listingId ? revisionCount(o.listingId) : 0 })),
      orders: [...orders.values()].map(orderJson),
      publicKeyId: keyId,
      tokenRequests: tokenRequests.length,
    }),
    errorResponse: (kind, ctx, fault) => {
      const ra = { 'retry-after': String(fault.retryAfterSeconds) };
      if (kind === '429') return json(429, { errors: [ebayError(2001, { domain: 'ACCESS', category: 'REQUEST', message: 'Too many requests. The request limit has been reached for the resource.' })] }, ra);
      if (kind === '503') return json(503, { errors: [ebayError(25001, { category: 'APPLICATION', message: 'A system error has occurred. Service unavailable.' })] }, ra);
      return json(500, { errors: [ebayError(25001, { category: 'APPLICATION', message: 'A system error has occurred.', parameters: [{ name: 'additionalInfo', value: 'Internal server error' }] })] });
    },
    onReset: () => revisions.clear(),
  });

  for (const o of opts.orders ?? []) addOrder(o);

  Object.defineProperty(sim, 'digest', { get: () => digest, enumerable: true });
  Object.defineProperty(sim, 'tokenRequestCount', { get: () => tokenRequests.length, enumerable: true });
  return Object.assign(sim, {
    token: [...tokens][0],
    tokenUrl: `${sim.url}${TOKEN_PATH}`,
    tokenTtlSeconds: tokenTtl,
    clientId: clients[0]?.clientId,
    clientSecret: clients[0]?.clientSecret,
    refreshToken: clients[0]?.refreshToken,
    /** The refresh-token credentials JSON StockEdge reads from an eBay channel's secret. */
    oauthSecret: (c = clients[0]) => JSON.stringify({ client_id: c.clientId, client_secret: c.clientSecret, refresh_token: c.refreshToken }),
    tokenRequests,
    /** Makes every issued access token expire now (or move `sim.clock` past `tokenTtlSeconds`). */
    expireTokens() { for (const g of issued.values()) g.expiresAt = clock.now(); },
    keyId,
    privateKey,
    publicKey,
    setDigest(d) { if (!HASH[d]) throw new RangeError('digest must be SHA1 or SHA256'); digest = d; },
    addItem,
    addOffer,
    item: (sku) => items.get(sku),
    /** A seller's quantity edit in Seller Hub: the inventory item's ship-to-location quantity and its offers' available quantity (not an API write: not in the write log, no revision counted). */
    setQuantity(sku, quantity) {
      const it = items.get(sku);
      if (!it) throw new Error(`no inventory item ${sku}`);
      it.quantity = quantity;
      for (const o of offers.values()) if (o.sku === sku) o.availableQuantity = quantity;
      return quantity;
    },
    offer: (offerId) => offers.get(String(offerId)),
    listedQuantity: (offerId) => { const o = offers.get(String(offerId)); return o ? listed(o) : undefined; },
    revisionsToday: (offerId) => { const o = offers.get(String(offerId)); return o?.listingId ? revisionCount(o.listingId) : 0; },
    /** Pretends `n` revisions already happened today on the offer's listing. */
    setRevisionsToday(offerId, n) { const o = offers.get(String(offerId)); revisions.set(`${o.listingId}|${utcDay()}`, n); },
    addOrder,
    updateOrder,
    cancelOrder: (id) => updateOrder(id, { cancelState: 'CANCELED', orderPaymentStatus: 'FULLY_REFUNDED' }),
    fulfillOrder: (id) => updateOrder(id, { orderFulfillmentStatus: 'FULFILLED' }),
    /** Signs with this simulator's key (kid = sim.keyId) and POSTs the notification. */
    sendNotification: (url, payload, o = {}) => sendNotification(url, payload, { privateKey, kid: keyId, digest, ...o }),
    publicKeyUrl: () => `${sim.url}/commerce/notification/v1/public_key/${keyId}`,
  });
}
