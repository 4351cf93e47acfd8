// Amazon Selling Partner API simulator: Login with Amazon token exchange, Listings Items
// patchListingsItem (fulfillment_availability quantity), getListingsItem, Orders v0 getOrders /
// getOrderItems with NextToken.
//
// Built from (stored copies):
//  - amzn/selling-partner-api-models models/listings-items-api-model/listingsItems_2021-08-01.json
//      PATCH /listings/2021-08-01/items/{sellerId}/{sku}?marketplaceIds=…; body
//      ListingsItemPatchRequest {productType, patches:[{op: add|replace|merge|delete, path, value}]};
//      200 ListingsItemSubmissionResponse {sku, status: ACCEPTED|INVALID|VALID, submissionId,
//      issues:[{code, message, severity: ERROR|WARNING|INFO, attributeNames}]};
//      errors are ErrorList {errors:[{code, message, details?}]} for 400/403/413/415/429/500/503;
//      `x-amzn-RateLimit-Limit` and `x-amzn-RequestId` headers; usage plan 5 rps, burst 5
//      (docs/channels.md notes one page lists burst 10: configurable).
//  - amzn/selling-partner-api-models models/orders-api-model/ordersV0.json
//      GET /orders/v0/orders: MarketplaceIds required (≤ 50); CreatedAfter or LastUpdatedAfter
//      required; *Before "at least 2 minutes before the current time"; MaxResultsPerPage 1–100
//      (default 100); NextToken, when present, replaces the other criteria; usage plan 0.0167 rps
//      burst 20. GET /orders/v0/orders/{orderId}/orderItems with NextToken; 0.5 rps burst 30.
//      Response {payload: {Orders|OrderItems, NextToken, …}}.
//  - Login with Amazon: https://developer.amazon.com/docs/login-with-amazon/access-token.html and
//    /docs/amazon-data-portability/use-refresh-token.html — POST /auth/o2/token, form
//    grant_type=refresh_token&refresh_token&client_id&client_secret → {access_token ("Atza|…",
//    ≥ 350 characters), token_type: "bearer", expires_in: 3600}. Error bodies follow OAuth 2.0
//    (RFC 6749 §5.2): {error, error_description}.
//  - 403 bodies {errors:[{code:"Unauthorized", message:"Access to requested resource is denied.",
//    details}]} and 429 {code:"QuotaExceeded", message:"You exceeded your quota for the requested
//    resource."}: SP-API error responses as reported in the SP-API docs/FAQ.
//  - docs/channels.md (body shape, `merge` keeps other fulfilment attributes).

import crypto from 'node:crypto';
import {
  startSim, createClock, WriteLog, FaultInjector, KeyedRateLimiter, json, parseVersion,
  VERSION_HEADER, router, safeEqual,
} from './lib.mjs';

export const DEFAULT_MARKETPLACE = 'ATVPDKIKX0DER';
export const DEFAULT_SELLER = 'A1SIMSELLER0001';

function errorList(status, code, message, details, headers = {}) {
  const e = { code, message };
  if (details !== undefined) e.details = details;
  return json(status, { errors: [e] }, headers);
}

function amazonOrderId() {
  const d = (n) => Array.from({ length: n }, () => crypto.randomInt(10)).join('');
  return `${d(3)}-${d(7)}-${d(7)}`;
}

/**
 * Starts the Amazon SP-API simulator (LWA and SP-API on the same base URL).
 *
 * @param opts {port, clients: [{clientId, clientSecret, refreshToken, sellerId}],
 *   listings: [{sellerId, sku, productType = 'PRODUCT', quantity, marketplaceIds}],
 *   tokenTtlSeconds = 3600, listingsRate: {rate: 5, burst: 5}, ordersRate: {rate: 0.0167,
 *   burst: 20}, orderItemsRate: {rate: 0.5, burst: 30}, orderItemsPageSize = 100, faults, clock}
 */
export async function startAmazonSim(opts = {}) {
  const clock = opts.clock ?? createClock();
  const log = new WriteLog(clock);
  const faults = new FaultInjector(opts.faults ?? {});
  const clients = opts.clients ?? [{ clientId: 'amzn1.application-oa2-client.sim', clientSecret: 'amzn-sim-secret', refreshToken: 'Atzr|sim-refresh-token', sellerId: DEFAULT_SELLER }];
  const tokenTtl = opts.tokenTtlSeconds ?? 3600;
  const listingsRate = { rate: 5, burst: 5, ...(opts.listingsRate ?? {}) };
  const ordersRate = { rate: 0.0167, burst: 20, ...(opts.ordersRate ?? {}) };
  const orderItemsRate = { rate: 0.5, burst: 30, ...(opts.orderItemsRate ?? {}) };
  let orderItemsPageSize = opts.orderItemsPageSize ?? 100;
  const limiters = {
    listings: new KeyedRateLimiter({ ...listingsRate, clock }),
    orders: new KeyedRateLimiter({ ...ordersRate, clock }),
    orderItems: new KeyedRateLimiter({ ...orderItemsRate, clock }),
  };
  const rateHeader = (r) => ({ 'x-amzn-ratelimit-limit': r.rate.toFixed(r.rate < 1 ? 4 : 1) });

  const accessTokens = new Map(); // token -> {clientId, sellerId, expiresAt}
  const tokenRequests = [];
  const listings = new Map(); // `${sellerId}/${sku}` -> {sellerId, sku, productType, attributes, marketplaceIds}
  const orders = new Map();
  const submissions = [];

  function addListing({ sellerId = clients[0].sellerId ?? DEFAULT_SELLER, sku, productType = 'PRODUCT', quantity, marketplaceIds = [DEFAULT_MARKETPLACE], attributes = {} }) {
    const l = { sellerId, sku, productType, marketplaceIds, attributes: { ...attributes }, created: clock.now(), updated: clock.now() };
    if (quantity !== undefined) l.attributes.fulfillment_availability = [{ fulfillment_channel_code: 'DEFAULT', quantity }];
    listings.set(`${sellerId}/${sku}`, l);
    return l;
  }
  for (const l of opts.listings ?? []) addListing(l);

  const defaultQuantity = (l) => (l.attributes.fulfillment_availability ?? []).find((x) => x.fulfillment_channel_code === 'DEFAULT')?.quantity;

  // ---------------------------------------------------------------- LWA

  function lwaToken(ctx) {
    const ct = String(ctx.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    let p;
    if (ct === 'application/json') {
      try { p = new URLSearchParams(Object.entries(ctx.json() ?? {}).map(([k, v]) => [k, String(v)])); } catch { return json(400, { error: 'invalid_request', error_description: 'The request has a malformed body' }); }
    } else p = new URLSearchParams(ctx.text());
    tokenRequests.push({ at: clock.iso(), grantType: p.get('grant_type'), clientId: p.get('client_id') });
    const grant = p.get('grant_type');
    if (!grant) return json(400, { error: 'invalid_request', error_description: 'The request is missing a required parameter : grant_type' });
    if (grant !== 'refresh_token') return json(400, { error: 'unsupported_grant_type', error_description: 'The authorization grant type is not supported by the authorization server' });
    for (const name of ['refresh_token', 'client_id']) {
      if (!p.get(name)) return json(400, { error: 'invalid_request', error_description: `The request is missing a required parameter : ${name}` });
    }
    const c = clients.find((x) => x.clientId === p.get('client_id'));
    if (!c || !safeEqual(c.clientSecret, p.get('client_secret') ?? '')) return json(401, { error: 'invalid_client', error_description: 'Client authentication failed' });
    if (!safeEqual(c.refreshToken, p.get('refresh_token'))) return json(400, { error: 'invalid_grant', error_description: 'The request has an invalid grant parameter : refresh_token' });
    const token = `Atza|${crypto.randomBytes(270).toString('base64url')}`;
    accessTokens.set(token, { clientId: c.clientId, sellerId: c.sellerId ?? null, expiresAt: clock.now() + tokenTtl * 1000 });
    return json(200, { access_token: token, token_type: 'bearer', expires_in: tokenTtl });
  }

  /** Returns {grant} or {response} (403). */
  function authorize(ctx, sellerId) {
    const t = ctx.headers['x-amz-access-token'];
    if (!t) return { response: errorList(403, 'Unauthorized', 'Access to requested resource is denied.', 'Access token is missing in the request header.') };
    const g = accessTokens.get(t);
    if (!g) return { response: errorList(403, 'Unauthorized', 'Access to requested resource is denied.', 'The access token you provided is revoked, malformed or invalid.') };
    if (clock.now() >= g.expiresAt) return { response: errorList(403, 'Unauthorized', 'Access to requested resource is denied.', 'The access token you provided has expired.') };
    // Choice: a token only works for the selling partner that authorised the app.
    if (sellerId && g.sellerId && g.sellerId !== sellerId) return { response: errorList(403, 'Unauthorized', 'Access to requested resource is denied.', 'The seller ID in the request does not match the selling partner that authorized this application.') };
    return { grant: g };
  }

  // ---------------------------------------------------------------- Listings Items

  function validatePatches(body, listing) {
    // Content-level validation → INVALID with issues (schema-level problems are 400 above).
    const issues = [];
    const issue = (message, attributeNames = ['fulfillment_availability'], code = 'INVALID_VALUE') => issues.push({ code, message, severity: 'ERROR', attributeNames, categories: ['INVALID_ATTRIBUTE'] });
    if (!listing) {
      // Docs: patchListingsItem has no 404; choice: an unknown SKU is INVALID with one issue.
      issues.push({ code: 'SKU_NOT_FOUND', message: 'A listing for this SKU does not exist for the selling partner; PATCH cannot create one.', severity: 'ERROR', attributeNames: [], categories: ['INVALID_ATTRIBUTE'] });
      return issues;
    }
    body.patches.forEach((p, i) => {
      const m = /^\/attributes\/([A-Za-z0-9_]+)$/.exec(p.path);
      if (!m) { issue(`patches[${i}].path must be /attributes/{attributeName}.`, [], 'INVALID_PATH'); return; }
      if (m[1] !== 'fulfillment_availability') return; // other attributes are accepted, without effect on stock
      if (p.op === 'delete') {
        if (p.value !== undefined && !Array.isArray(p.value)) issue('fulfillment_availability must be an array.');
        return;
      }
      if (!Array.isArray(p.value) || p.value.length === 0) { issue("'fulfillment_availability' is required but not supplied.", ['fulfillment_availability'], '90220'); return; }
      p.value.forEach((v, j) => {
        if (v === null || typeof v !== 'object') { issue(`fulfillment_availability[${j}] must be an object.`); return; }
        if (typeof v.fulfillment_channel_code !== 'string' || v.fulfillment_channel_code === '') { issue("'fulfillment_availability.fulfillment_channel_code' is required but not supplied.", ['fulfillment_availability'], '90220'); return; }
        if (v.fulfillment_channel_code === 'DEFAULT') {
          if (v.quantity === undefined || v.quantity === null) { issue("'fulfillment_availability.quantity' is required but not supplied.", ['fulfillment_availability'], '90220'); return; }
          if (!Number.isInteger(v.quantity) || v.quantity < 0) issue(`The value '${v.quantity}' provided for 'fulfillment_availability.quantity' is invalid: it must be an integer greater than or equal to 0.`);
        }
      });
    });
    return issues;
  }

  function applyPatches(l, patches) {
    for (const p of patches) {
      const name = p.path.slice('/attributes/'.length);
      if (name !== 'fulfillment_availability') {
        if (p.op === 'delete') delete l.attributes[name]; else l.attributes[name] = p.value;
        continue;
      }
      const cur = l.attributes.fulfillment_availability ?? [];
      if (p.op === 'replace') l.attributes.fulfillment_availability = p.value.map((v) => ({ ...v }));
      else if (p.op === 'delete') {
        const codes = new Set((p.value ?? cur).map((v) => v.fulfillment_channel_code));
        l.attributes.fulfillment_availability = cur.filter((v) => !codes.has(v.fulfillment_channel_code));
      } else {
        // merge (and add): entries are matched on fulfillment_channel_code; other entries and other
        // properties of a matched entry are kept.
        const next = cur.map((v) => ({ ...v }));
        for (const v of p.value) {
          const i = next.findIndex((x) => x.fulfillment_channel_code === v.fulfillment_channel_code);
          if (i >= 0) next[i] = { ...next[i], ...v }; else next.push({ ...v });
        }
        l.attributes.fulfillment_availability = next;
      }
    }
    l.updated = clock.now();
  }

  function patchListing(ctx) {
    const { sellerId, sku } = ctx.params;
    const auth = authorize(ctx, sellerId);
    const rh = rateHeader(listingsRate);
    if (auth.response) return auth.response;
    const take = limiters.listings.take(sellerId);
    if (!take.ok) return errorList(429, 'QuotaExceeded', 'You exceeded your quota for the requested resource.', undefined, rh);
    const marketplaceIds = (ctx.query.get('marketplaceIds') ?? '').split(',').filter(Boolean);
    if (marketplaceIds.length === 0) return errorList(400, 'InvalidInput', 'Missing required parameter: marketplaceIds', undefined, rh);
    const ct = String(ctx.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (ct !== 'application/json') return errorList(415, 'UnsupportedMediaType', 'The request payload is in an unsupported format.', `Content-Type must be application/json, got '${ct}'`, rh);
    let body;
    try { body = ctx.json(); } catch { return errorList(400, 'InvalidInput', 'Invalid input', 'Request body is not valid JSON.', rh); }
    // Schema-level (ListingsItemPatchRequest / PatchOperation): 400.
    if (body === null || typeof body !== 'object' || Array.isArray(body)) return errorList(400, 'InvalidInput', 'Invalid input', 'Request body must be a JSON object.', rh);
    if (typeof body.productType !== 'string' || body.productType === '') return errorList(400, 'InvalidInput', 'Invalid input', "'productType' is required.", rh);
    if (!Array.isArray(body.patches) || body.patches.length === 0) return errorList(400, 'InvalidInput', 'Invalid input', "'patches' is required and must contain at least one patch.", rh);
    for (const [i, p] of body.patches.entries()) {
      if (p === null || typeof p !== 'object') return errorList(400, 'InvalidInput', 'Invalid input', `patches[${i}] must be an object.`, rh);
      if (!['add', 'replace', 'merge', 'delete'].includes(p.op)) return errorList(400, 'InvalidInput', 'Invalid input', `patches[${i}].op must be one of add, replace, merge, delete.`, rh);
      if (typeof p.path !== 'string') return errorList(400, 'InvalidInput', 'Invalid input', `patches[${i}].path is required.`, rh);
      if (p.op !== 'delete' && p.value === undefined) return errorList(400, 'InvalidInput', 'Invalid input', `patches[${i}].value is required for op '${p.op}'.`, rh);
    }
    const listing = listings.get(`${sellerId}/${sku}`);
    const issues = validatePatches(body, listing);
    const submissionId = crypto.randomUUID();
    const preview = ctx.query.get('mode') === 'VALIDATION_PREVIEW';
    const result = { sku, status: issues.length ? 'INVALID' : (preview ? 'VALID' : 'ACCEPTED'), submissionId, issues };
    submissions.push({ at: clock.iso(), sellerId, sku, status: result.status, submissionId, body });
    if (result.status === 'ACCEPTED') {
      const before = defaultQuantity(listing);
      applyPatches(listing, body.patches);
      const after = defaultQuantity(listing);
      if (body.patches.some((p) => p.path === '/attributes/fulfillment_availability')) {
        log.record(sku, {
          value: after ?? null,
          version: parseVersion(ctx.headers[VERSION_HEADER]),
          previous: before ?? null,
          sku,
          sellerId,
          marketplaceIds,
          op: body.patches.map((p) => p.op).join(','),
          submissionId,
          requestId: ctx.requestId,
        });
      }
    }
    return json(200, result, { ...rh, 'x-amzn-requestid': ctx.requestId });
  }

  function getListing(ctx) {
    const { sellerId, sku } = ctx.params;
    const auth = authorize(ctx, sellerId);
    if (auth.response) return auth.response;
    const rh = rateHeader(listingsRate);
    const take = limiters.listings.take(sellerId);
    if (!take.ok) return errorList(429, 'QuotaExceeded', 'You exceeded your quota for the requested resource.', undefined, rh);
    if (!ctx.query.get('marketplaceIds')) return errorList(400, 'InvalidInput', 'Missing required parameter: marketplaceIds', undefined, rh);
    const l = listings.get(`${sellerId}/${sku}`);
    if (!l) return errorList(404, 'NOT_FOUND', `SKU '${sku}' not found in marketplace ${ctx.query.get('marketplaceIds')}`, undefined, rh);
    const included = (ctx.query.get('includedData') ?? 'summaries').split(',');
    const out = { sku };
    if (included.includes('summaries')) out.summaries = l.marketplaceIds.map((m) => ({ marketplaceId: m, asin: `B0SIM${sku.replace(/[^A-Z0-9]/gi, '').slice(0, 5).toUpperCase()}`, productType: l.productType, status: ['BUYABLE', 'DISCOVERABLE'], itemName: sku, createdDate: new Date(l.created).toISOString(), lastUpdatedDate: new Date(l.updated).toISOString() }));
    if (included.includes('attributes')) out.attributes = l.attributes;
    if (included.includes('fulfillmentAvailability')) out.fulfillmentAvailability = (l.attributes.fulfillment_availability ?? []).map((v) => ({ fulfillmentChannelCode: v.fulfillment_channel_code, ...(v.quantity !== undefined ? { quantity: v.quantity } : {}) }));
    if (included.includes('issues')) out.issues = [];
    return json(200, out, rh);
  }

  // ---------------------------------------------------------------- Orders v0

  function orderJson(o) {
    const qtyShipped = o.items.reduce((s, i) => s + (i.QuantityShipped ?? 0), 0);
    const qtyOrdered = o.items.reduce((s, i) => s + i.QuantityOrdered, 0);
    return {
      AmazonOrderId: o.AmazonOrderId,
      PurchaseDate: new Date(o.purchase).toISOString(),
      LastUpdateDate: new Date(o.updated).toISOString(),
      OrderStatus: o.OrderStatus,
      FulfillmentChannel: o.FulfillmentChannel,
      SalesChannel: 'Amazon.com',
      NumberOfItemsShipped: qtyShipped,
      NumberOfItemsUnshipped: o.OrderStatus === 'Canceled' ? 0 : qtyOrdered - qtyShipped,
      PaymentMethod: 'Other',
      MarketplaceId: o.MarketplaceId,
      ShipmentServiceLevelCategory: 'Standard',
      OrderType: 'StandardOrder',
      IsBusinessOrder: false,
      IsPrime: false,
      IsPremiumOrder: false,
      IsGlobalExpressEnabled: false,
      IsSoldByAB: false,
      IsISPU: false,
      IsAccessPointOrder: false,
    };
  }

  function addOrder({ AmazonOrderId = amazonOrderId(), MarketplaceId = DEFAULT_MARKETPLACE, OrderStatus = 'Unshipped', FulfillmentChannel = 'MFN', PurchaseDate, LastUpdateDate, sellerId = clients[0].sellerId ?? DEFAULT_SELLER, items = [] } = {}) {
    const t = PurchaseDate ? Date.parse(PurchaseDate) : clock.now();
    let n = 0;
    const o = {
      AmazonOrderId,
      MarketplaceId,
      OrderStatus,
      FulfillmentChannel,
      sellerId,
      purchase: t,
      updated: LastUpdateDate ? Date.parse(LastUpdateDate) : t,
      items: items.map((i) => ({
        ASIN: i.ASIN ?? `B0SIM${String(++n).padStart(5, '0')}`,
        SellerSKU: i.SellerSKU ?? i.sku,
        OrderItemId: i.OrderItemId ?? String(crypto.randomInt(10 ** 13, 10 ** 14)),
        Title: i.Title ?? i.SellerSKU ?? i.sku,
        QuantityOrdered: i.QuantityOrdered ?? i.quantity ?? 1,
        QuantityShipped: i.QuantityShipped ?? 0,
      })),
    };
    orders.set(AmazonOrderId, o);
    return orderJson(o);
  }

  function updateOrder(id, { OrderStatus, LastUpdateDate } = {}) {
    const o = orders.get(id);
    if (!o) throw new Error(`no order ${id}`);
    if (OrderStatus) o.OrderStatus = OrderStatus;
    if (OrderStatus === 'Shipped') for (const i of o.items) i.QuantityShipped = i.QuantityOrdered;
    o.updated = LastUpdateDate ? Date.parse(LastUpdateDate) : clock.now();
    return orderJson(o);
  }

  const encodeToken = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const decodeToken = (s) => { try { return JSON.parse(Buffer.from(s, 'base64url').toString('utf8')); } catch { return null; } };

  function getOrders(ctx) {
    const auth = authorize(ctx, null);
    if (auth.response) return auth.response;
    const seller = auth.grant.sellerId ?? DEFAULT_SELLER;
    const rh = rateHeader(ordersRate);
    const take = limiters.orders.take(seller);
    if (!take.ok) return errorList(429, 'QuotaExceeded', 'You exceeded your quota for the requested resource.', undefined, rh);
    const q = ctx.query;
    const list = (name) => (q.getAll(name).join(',')).split(',').map((s) => s.trim()).filter(Boolean);
    const marketplaceIds = list('MarketplaceIds');
    if (marketplaceIds.length === 0) return errorList(400, 'InvalidInput', 'Missing required parameter: MarketplaceIds', undefined, rh);
    if (marketplaceIds.length > 50) return errorList(400, 'InvalidInput', 'MarketplaceIds accepts at most 50 values', undefined, rh);
    let f;
    if (q.get('NextToken')) {
      f = decodeToken(q.get('NextToken'));
      if (!f || typeof f.offset !== 'number') return errorList(400, 'InvalidInput', 'Invalid NextToken', undefined, rh);
    } else {
      const date = (name) => { const v = q.get(name); if (v === null) return undefined; const t = Date.parse(v); return Number.isNaN(t) ? NaN : t; };
      const ca = date('CreatedAfter'); const cb = date('CreatedBefore'); const la = date('LastUpdatedAfter'); const lb = date('LastUpdatedBefore');
      for (const [n, v] of [['CreatedAfter', ca], ['CreatedBefore', cb], ['LastUpdatedAfter', la], ['LastUpdatedBefore', lb]]) {
        if (Number.isNaN(v)) return errorList(400, 'InvalidInput', `Invalid ${n}: must be an ISO 8601 date`, undefined, rh);
      }
      if (ca === undefined && la === undefined) return errorList(400, 'InvalidInput', 'Either CreatedAfter or LastUpdatedAfter must be specified', undefined, rh);
      if (ca !== undefined && la !== undefined) return errorList(400, 'InvalidInput', 'CreatedAfter and LastUpdatedAfter cannot both be specified', undefined, rh);
      const limit = clock.now() - 2 * 60 * 1000;
      if (cb !== undefined && cb > limit) return errorList(400, 'InvalidInput', 'CreatedBefore must be at least 2 minutes before the current time', undefined, rh);
      if (lb !== undefined && lb > limit) return errorList(400, 'InvalidInput', 'LastUpdatedBefore must be at least 2 minutes before the current time', undefined, rh);
      if (cb !== undefined && ca !== undefined && cb < ca) return errorList(400, 'InvalidInput', 'CreatedBefore must be equal to or after CreatedAfter', undefined, rh);
      if (lb !== undefined && la !== undefined && lb < la) return errorList(400, 'InvalidInput', 'LastUpdatedBefore must be equal to or after LastUpdatedAfter', undefined, rh);
      const max = q.has('MaxResultsPerPage') ? Number(q.get('MaxResultsPerPage')) : 100;
      if (!Number.isInteger(max) || max < 1 || max > 100) return errorList(400, 'InvalidInput', 'MaxResultsPerPage must be between 1 and 100', undefined, rh);
      const mode = la !== undefined ? 'updated' : 'created';
      const upper = mode === 'updated' ? (lb ?? clock.now()) : (cb ?? clock.now());
      f = { mode, after: mode === 'updated' ? la : ca, before: upper, statuses: list('OrderStatuses'), marketplaceIds, max, offset: 0, seller };
    }
    const field = f.mode === 'updated' ? 'updated' : 'purchase';
    const matches = [...orders.values()]
      .filter((o) => o.sellerId === f.seller && f.marketplaceIds.includes(o.MarketplaceId))
      .filter((o) => o[field] >= f.after && o[field] <= f.before)
      .filter((o) => f.statuses.length === 0 || f.statuses.includes(o.OrderStatus))
      .sort((a, b) => (a[field] - b[field]) || a.AmazonOrderId.localeCompare(b.AmazonOrderId));
    const page = matches.slice(f.offset, f.offset + f.max);
    const payload = { Orders: page.map(orderJson) };
    if (f.offset + f.max < matches.length) payload.NextToken = encodeToken({ ...f, offset: f.offset + f.max });
    if (f.mode === 'updated') payload.LastUpdatedBefore = new Date(f.before).toISOString();
    else payload.CreatedBefore = new Date(f.before).toISOString();
    return json(200, { payload }, { ...rh, 'x-amzn-requestid': ctx.requestId });
  }

  function getOrderItems(ctx) {
    const auth = authorize(ctx, null);
    if (auth.response) return auth.response;
    const seller = auth.grant.sellerId ?? DEFAULT_SELLER;
    const rh = rateHeader(orderItemsRate);
    const take = limiters.orderItems.take(seller);
    if (!take.ok) return errorList(429, 'QuotaExceeded', 'You exceeded your quota for the requested resource.', undefined, rh);
    const o = orders.get(ctx.params.orderId);
    if (!o || o.sellerId !== seller) return errorList(404, 'NotFound', 'The requested order was not found.', undefined, rh);
    let offset = 0;
    if (ctx.query.get('NextToken')) {
      const t = decodeToken(ctx.query.get('NextToken'));
      if (!t || t.orderId !== o.AmazonOrderId || typeof t.offset !== 'number') return errorList(400, 'InvalidInput', 'Invalid NextToken', undefined, rh);
      offset = t.offset;
    }
    const page = o.items.slice(offset, offset + orderItemsPageSize);
    const payload = { AmazonOrderId: o.AmazonOrderId, OrderItems: page.map((i) => ({ ...i })) };
    if (offset + orderItemsPageSize < o.items.length) payload.NextToken = encodeToken({ orderId: o.AmazonOrderId, offset: offset + orderItemsPageSize });
    return json(200, { payload }, { ...rh, 'x-amzn-requestid': ctx.requestId });
  }

  const handler = router([
    ['POST', '/auth/o2/token', lwaToken],
    ['PATCH', '/listings/2021-08-01/items/:sellerId/:sku', patchListing],
    ['GET', '/listings/2021-08-01/items/:sellerId/:sku', getListing],
    ['GET', '/orders/v0/orders', getOrders],
    ['GET', '/orders/v0/orders/:orderId/orderItems', getOrderItems],
  ], { notFound: () => errorList(404, 'NotFound', 'Resource not found') });

  const sim = await startSim(handler, {
    port: opts.port ?? 0,
    name: 'amazon',
    clock,
    log,
    faults,
    state: () => ({
      quantities: Object.fromEntries([...listings.values()].map((l) => [l.sku, defaultQuantity(l) ?? null])),
      listings: [...listings.values()].map((l) => ({ sellerId: l.sellerId, sku: l.sku, productType: l.productType, fulfillment_availability: l.attributes.fulfillment_availability ?? [] })),
      tokenRequests: tokenRequests.length,
      orders: [...orders.values()].map((o) => ({ ...orderJson(o), items: o.items })),
    }),
    errorResponse: (kind, ctx, fault) => {
      const ra = { 'retry-after': String(fault.retryAfterSeconds) };
      // SP-API's 429 carries x-amzn-RateLimit-Limit but no Retry-After: none here either.
      if (kind === '429') return errorList(429, 'QuotaExceeded', 'You exceeded your quota for the requested resource.', undefined, rateHeader(listingsRate));
      if (kind === '503') return errorList(503, 'ServiceUnavailable', 'Service temporarily unavailable. Please try again.', undefined, ra);
      return errorList(500, 'InternalFailure', 'We encountered an internal error. Please try again.');
    },
  });

  Object.defineProperty(sim, 'tokenRequestCount', { get: () => tokenRequests.length, enumerable: true });
  return Object.assign(sim, {
    lwaUrl: `${sim.url}/auth/o2/token`,
    clientId: clients[0].clientId,
    clientSecret: clients[0].clientSecret,
    refreshToken: clients[0].refreshToken,
    sellerId: clients[0].sellerId ?? DEFAULT_SELLER,
    marketplaceId: DEFAULT_MARKETPLACE,
    addListing,
    quantity: (sku, sellerId = clients[0].sellerId ?? DEFAULT_SELLER) => { const l = listings.get(`${sellerId}/${sku}`); return l ? defaultQuantity(l) : undefined; },
    listing: (sku, sellerId = clients[0].sellerId ?? DEFAULT_SELLER) => listings.get(`${sellerId}/${sku}`),
    /** A seller's edit in Seller Central: sets the listing's DEFAULT (merchant-fulfilled) quantity directly (not an API write: not in the write log). */
    setQuantity(sku, quantity, sellerId = clients[0].sellerId ?? DEFAULT_SELLER) {
      const l = listings.get(`${sellerId}/${sku}`);
      if (!l) throw new Error(`no listing ${sellerId}/${sku}`);
      const others = (l.attributes.fulfillment_availability ?? []).filter((x) => x.fulfillment_channel_code !== 'DEFAULT');
      l.attributes.fulfillment_availability = [{ fulfillment_channel_code: 'DEFAULT', quantity }, ...others];
      l.updated = clock.now();
      return quantity;
    },
    addOrder,
    updateOrder,
    cancelOrder: (id) => updateOrder(id, { OrderStatus: 'Canceled' }),
    shipOrder: (id) => updateOrder(id, { OrderStatus: 'Shipped' }),
    order: (id) => { const o = orders.get(id); return o ? { ...orderJson(o), items: o.items } : undefined; },
    tokenRequests,
    submissions,
    /** Makes every issued access token expire now (or use sim.clock.advance). */
    expireTokens() { for (const g of accessTokens.values()) g.expiresAt = clock.now(); },
    setOrderItemsPageSize(n) { orderItemsPageSize = n; },
    limiters,
  });
}
