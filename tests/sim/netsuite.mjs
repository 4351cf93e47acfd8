// NetSuite REST web services simulator (SuiteTalk REST on https://<account>.suitetalk.api.netsuite.com):
// OAuth 2.0 client credentials with a signed JWT assertion, SuiteQL over inventorybalance, sales
// orders by externalId.
//
// Built to NetSuite's documented contract (NetSuite Help Center: "OAuth 2.0 Client Credentials
// Flow", "The Request Token Structure", "POST Request to the Token Endpoint and the Access Token
// Response", "Executing SuiteQL Queries Through REST Web Services", "Working with Records";
// summarised in docs/erp.md):
//  - POST /services/rest/auth/oauth2/v1/token, application/x-www-form-urlencoded:
//    grant_type=client_credentials, client_assertion_type=urn:ietf:params:oauth:client-assertion-
//    type:jwt-bearer, client_assertion=<JWT>. The JWT's header is {typ: "JWT", alg: ES256|PS256,
//    kid: <certificate id>}, its payload {iss: <client id>, scope: "rest_webservices" (an array or
//    comma-separated), aud: <this token URL>, iat, exp (less than 60 minutes after iat)}; its
//    signature is verified with the certificate's public key registered for that kid (the
//    mapping of the application). Answer: 200 {access_token, expires_in: "3600", token_type:
//    "bearer"}; a refusal: 400 {error: "invalid_request" | "invalid_grant" | "unauthorized_client"}
//    (RFC 6749 §5.2) — the simulator adds an `error_description` saying why.
//  - every other call needs `Authorization: Bearer <access token>`; a missing, unknown or expired
//    token: 401 {type, title: "Unauthorized", status: 401, "o:errorDetails": [{detail,
//    "o:errorCode": "INVALID_LOGIN"}]}.
//  - POST /services/rest/query/v1/suiteql?limit=N&offset=M with `Prefer: transient` and
//    {"q": "<SuiteQL>"} → {links: [{rel, href}] (self, first, prev, next, last), count, hasMore,
//    items: [{links: [], <column>: "<text>"}], offset, totalResults}. limit 1..1000 (default
//    1000). The simulator runs one query: the balances per item and location StockEdge asks for
//    (`SELECT item, location, SUM(quantityonhand) AS quantityonhand, SUM(quantityavailable) AS
//    quantityavailable FROM inventorybalance GROUP BY item, location ORDER BY item, location`);
//    any other answers 400 INVALID_PARAMETER. Figures are answered as text, like SuiteQL does.
//  - POST /services/rest/record/v1/salesOrder {externalId, entity: {id}, shipDate?, item:
//    {items: [{item: {id}, quantity, location: {id}}]}} → 204 with `Location: …/salesOrder/<id>`;
//    the order commits its lines (quantityavailable falls). externalId is unique per record type:
//    a second create under one externalId is refused (400 "o:errorCode": "DUP_RCRD").
//    GET /services/rest/record/v1/salesOrder/<id> and …/salesOrder/eid:<externalId> (external id
//    access, the `eid:` prefix) → 200 with the record ({id, externalId, entity, tranId, shipDate,
//    orderStatus: {id: "B" Pending Fulfillment | "C" Cancelled | "H" Closed, refName}, and with
//    `?expandSubResources=true` its lines: item: {items: [{line, item: {id}, quantity, location:
//    {id}, isClosed}]}; without it `item` is only a link}), or 404 "o:errorCode": "NONEXISTENT_ID".
//  - PATCH /services/rest/record/v1/salesOrder/<id> {item: {items: [{line, isclosed: true}]}}
//    ("Use Case For Updating Your Sales Order": a sales order is closed by closing its lines) →
//    204; a closed line commits nothing (its units are given back once); every line closed →
//    orderStatus H. A line the order does not have: 400 USER_ERROR. Closing a closed line changes
//    nothing. Only `isclosed` (or `isClosed`) may be patched here; anything else 400.
//    A person cancelling in NetSuite: `sim.cancelOrder(id)` — orderStatus C, its committed units
//    given back.
//  - SuiteQL also runs the on-hand query a count needs (`SELECT SUM(quantityonhand) AS
//    quantityonhand FROM inventorybalance WHERE item = <id> AND location = <id>`): one row, its
//    column absent when there is no balance (SuiteQL leaves null columns out).
//  - POST /services/rest/record/v1/inventoryAdjustment {externalId?, account: {id}, subsidiary?:
//    {id}, adjLocation: {id}, memo?, inventory: {items: [{item: {id}, location: {id}, adjustQtyBy}]}}
//    → 204 with `Location: …/inventoryAdjustment/<id>`; each line moves the item's on hand (and
//    available) at its location by adjustQtyBy, in one step with the record. externalId is unique
//    per record type: a second create under one externalId is refused (400 DUP_RCRD) and moves
//    nothing. GET …/inventoryAdjustment/<id> and …/inventoryAdjustment/eid:<externalId> → 200 with
//    the record ({id, externalId, account, adjLocation, memo, tranId}) or 404 NONEXISTENT_ID.
//    Choice: an unknown account is refused (400 USER_ERROR "Invalid account reference key"), as
//    is an item the account has no balance row of; negative inventory is not checked.
//  - External ids ("Using External IDs"): letters, digits, `_` and `-` only (a `|` is read as a
//    multi-select delimiter). Choice: any other character in a create's externalId is refused
//    (400 USER_ERROR "Invalid external ID"), and in an `eid:` lookup (400 INVALID_ID).
//    `netsuiteExternalId(reference)` is StockEdge's escape of its references into such ids
//    (erp::connectors::netsuite::external_id), for tests to find its records.
//  - The account's concurrency limit (`concurrencyLimit` requests in flight, each held `callMs`):
//    past it, 429 with Retry-After and "o:errorCode": "CONCURRENCY_LIMIT_EXCEEDED". Injected 429
//    faults answer the same body; 500 and 503 answer NetSuite's error shape.
//  - Errors: {type, title, status, "o:errorDetails": [{detail, "o:errorCode"}]}.
//
// Simulator extras: `sim.credentials()` (the secret StockEdge reads: {client_id, certificate_id,
// private_key} with a key pair the simulator made, unless `publicKey` was given),
// `sim.expireTokens()` (every access token expires now), `sim.tokenRequests` (count),
// `sim.setBalance(item, location, {quantityonhand, quantityavailable})`, `sim.orders`,
// `sim.orderByExternalId(id)`, `sim.ordersByExternalId(id)` (every order under it: more than one
// would be a duplicate), `sim.ordersByReference(ref)` (the same for a StockEdge reference),
// `sim.cancelOrder(id)`, `sim.suiteqlCalls` (count), `sim.closeCalls` (PATCHes that closed at
// least one line), `sim.adjustments` (every inventory adjustment
// created, so a double apply shows), `sim.adjustmentsByExternalId(id)`, `sim.onHand(item,
// location)` (summed over bins).

import crypto from 'node:crypto';
import { startSim, createClock, json, respond, bearer, router, sleep } from './lib.mjs';

export const TOKEN_PATH = '/services/rest/auth/oauth2/v1/token';
export const SUITEQL_PATH = '/services/rest/query/v1/suiteql';
export const SALES_ORDER_PATH = '/services/rest/record/v1/salesOrder';
export const INVENTORY_ADJUSTMENT_PATH = '/services/rest/record/v1/inventoryAdjustment';
/** The on-hand query of one item at one location (a count's figure). */
export const onHandQuery = (item, location) => `SELECT SUM(quantityonhand) AS quantityonhand FROM inventorybalance WHERE item = ${item} AND location = ${location}`;
const ON_HAND_RE = /^select sum\(quantityonhand\) as quantityonhand from inventorybalance where item = (\d+) and location = (\d+)$/;
export const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** What NetSuite takes as an external id. */
const EXTERNAL_ID = /^[A-Za-z0-9_-]+$/;

/** StockEdge's escape of a reference into an external id: letters, digits and `-` stay, `_` is
 * doubled, every other UTF-8 byte becomes `_` and two upper-case hex digits. */
export function netsuiteExternalId(reference) {
  let out = '';
  for (const b of Buffer.from(reference, 'utf8')) {
    const c = String.fromCharCode(b);
    if (/[A-Za-z0-9-]/.test(c)) out += c;
    else if (c === '_') out += '__';
    else out += `_${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

export const BALANCES_QUERY = 'SELECT item, location, SUM(quantityonhand) AS quantityonhand, SUM(quantityavailable) AS quantityavailable FROM inventorybalance GROUP BY item, location ORDER BY item, location';

const TITLES = { 400: 'Bad Request', 401: 'Unauthorized', 404: 'Not Found', 429: 'Too Many Requests', 500: 'Internal Server Error', 503: 'Service Unavailable' };

/** NetSuite's REST error body. */
export function nsError(status, code, detail, headers = {}) {
  return json(status, {
    type: `https://www.rfc-editor.org/rfc/rfc9110.html#section-15.${status >= 500 ? 6 : 5}.${status % 100 + 1}`,
    title: TITLES[status] ?? 'Error',
    status,
    'o:errorDetails': [{ detail, 'o:errorCode': code }],
  }, headers);
}

const concurrencyExceeded = (retryAfterSeconds) => nsError(429, 'CONCURRENCY_LIMIT_EXCEEDED',
  'Concurrent request limit exceeded. Request blocked.', { 'retry-after': String(retryAfterSeconds) });

const b64url = (buf) => Buffer.from(buf).toString('base64url');

/** Signs a JWT (ES256 with an EC key, PS256 with an RSA key) — for tests of the token endpoint. */
export function signJwt(header, payload, privateKey) {
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
  const key = crypto.createPrivateKey(privateKey);
  const sig = header.alg === 'PS256'
    ? crypto.sign('sha256', Buffer.from(input), { key, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 })
    : crypto.sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  return `${input}.${b64url(sig)}`;
}

function verifyJwt(jwt, publicKey) {
  const parts = String(jwt ?? '').split('.');
  if (parts.length !== 3) return { why: 'client_assertion is not a JWT' };
  let header;
  let payload;
  try {
    header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8'));
    payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
  } catch { return { why: 'client_assertion is not a JWT' }; }
  if (header.typ !== 'JWT') return { header, why: 'typ must be JWT' };
  if (!['ES256', 'PS256'].includes(header.alg)) return { header, why: `alg ${header.alg} is not supported by the simulator (ES256, PS256)` };
  const input = Buffer.from(`${parts[0]}.${parts[1]}`);
  const sig = Buffer.from(parts[2], 'base64url');
  const key = crypto.createPublicKey(publicKey);
  let ok;
  try {
    ok = header.alg === 'PS256'
      ? crypto.verify('sha256', input, { key, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, sig)
      : crypto.verify('sha256', input, { key, dsaEncoding: 'ieee-p1363' }, sig);
  } catch { ok = false; }
  return ok ? { header, payload } : { header, payload, why: 'signature does not verify with the certificate of this kid' };
}

/**
 * Starts the NetSuite simulator.
 *
 * @param opts {port, clientId = 'ns-sim-client', certificateId = 'ns-sim-cert', publicKey (PEM;
 *   default: a P-256 key pair made here), tokenLifetimeSeconds = 3600, balances: [{item,
 *   location, quantityonhand, quantityavailable}] (item and location are internal ids; several
 *   rows of one item and location are bins/lots and are summed), customers = ['42'], accounts =
 *   ['540'] (the accounts an inventory adjustment may be booked to),
 *   concurrencyLimit = 5, callMs = 0, faults, clock}
 */
export async function startNetSuiteSim(opts = {}) {
  const clock = opts.clock ?? createClock();
  const clientId = opts.clientId ?? 'ns-sim-client';
  const certificateId = opts.certificateId ?? 'ns-sim-cert';
  let privateKeyPem = null;
  let publicKey = opts.publicKey;
  if (!publicKey) {
    const pair = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    privateKeyPem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' });
    publicKey = pair.publicKey.export({ type: 'spki', format: 'pem' });
  }
  const lifetime = opts.tokenLifetimeSeconds ?? 3600;
  const customers = new Set(opts.customers ?? ['42']);
  const accounts = new Set(opts.accounts ?? ['540']);
  const concurrencyLimit = opts.concurrencyLimit ?? 5;
  const callMs = opts.callMs ?? 0;

  const balances = []; // {item, location, quantityonhand, quantityavailable}
  const setBalance = (item, location, q) => {
    let row = balances.find((b) => b.item === String(item) && b.location === String(location));
    if (!row) { row = { item: String(item), location: String(location), quantityonhand: 0, quantityavailable: 0 }; balances.push(row); }
    Object.assign(row, q);
    return row;
  };
  for (const b of opts.balances ?? []) {
    balances.push({ item: String(b.item), location: String(b.location), quantityonhand: b.quantityonhand ?? 0, quantityavailable: b.quantityavailable ?? null });
  }

  const tokens = new Map(); // access token -> expires at (ms)
  let tokenRequests = 0;
  let suiteqlCalls = 0;
  let closeCalls = 0;
  let inFlight = 0;
  const orders = [];
  let nextOrderId = 800;
  const adjustments = [];
  let nextAdjustmentId = 900;
  const onHand = (item, location) => balances
    .filter((b) => b.item === String(item) && b.location === String(location))
    .reduce((sum, b) => sum + Number(b.quantityonhand ?? 0), 0);
  const hasBalance = (item, location) => balances.some((b) => b.item === String(item) && b.location === String(location));

  const tokenError = (error, why) => json(400, { error, error_description: why });
  const unauthorized = () => nsError(401, 'INVALID_LOGIN', 'Invalid login attempt. For more details, see the Login Audit Trail in the NetSuite UI at Setup > Users/Roles > User Management > View Login Audit Trail.');
  const authorized = (ctx) => {
    const t = bearer(ctx.headers.authorization);
    const until = t && tokens.get(t);
    if (!until) return false;
    if (clock.now() >= until) { tokens.delete(t); return false; }
    return true;
  };

  /** Runs `fn` as one REST call under the account's concurrency limit. */
  async function limited(fn) {
    if (inFlight >= concurrencyLimit) return concurrencyExceeded(1);
    inFlight += 1;
    try {
      if (callMs > 0) await sleep(callMs);
      return fn();
    } finally {
      inFlight -= 1;
    }
  }

  function grouped() {
    const sums = new Map();
    for (const b of balances) {
      const k = `${b.item}\u0000${b.location}`;
      const s = sums.get(k) ?? { item: b.item, location: b.location, quantityonhand: 0, quantityavailable: null };
      s.quantityonhand += Number(b.quantityonhand ?? 0);
      if (b.quantityavailable !== null && b.quantityavailable !== undefined) s.quantityavailable = (s.quantityavailable ?? 0) + Number(b.quantityavailable);
      sums.set(k, s);
    }
    const num = (x) => (/^\d+$/.test(x) ? Number(x) : NaN);
    const cmp = (a, b) => (Number.isNaN(num(a)) || Number.isNaN(num(b)) ? (a < b ? -1 : a > b ? 1 : 0) : num(a) - num(b));
    return [...sums.values()].sort((a, b) => cmp(a.item, b.item) || cmp(a.location, b.location));
  }

  const status = (o) => {
    if (o.cancelled) return { id: 'C', refName: 'Cancelled' };
    if (o.lines.every((l) => l.closed)) return { id: 'H', refName: 'Closed' };
    return { id: 'B', refName: 'Pending Fulfillment' };
  };
  const orderRecord = (o, expand) => ({
    links: [{ rel: 'self', href: `${sim.url}${SALES_ORDER_PATH}/${o.id}` }],
    id: o.id, externalId: o.externalId, entity: { id: o.entity }, tranId: `SO${o.id}`, shipDate: o.shipDate ?? null,
    orderStatus: status(o),
    item: expand
      ? { links: [], items: o.lines.map((l, i) => ({ links: [], line: i + 1, item: { id: l.item }, quantity: l.quantity, location: { id: l.location }, isClosed: Boolean(l.closed) })) }
      : { links: [{ rel: 'self', href: `${sim.url}${SALES_ORDER_PATH}/${o.id}/item` }] },
  });
  /** Gives a line's committed units back (once: a line closed, or its order cancelled). */
  const release = (l) => {
    const row = setBalance(l.item, l.location, {});
    row.quantityavailable = Number(row.quantityavailable ?? row.quantityonhand) + l.quantity;
  };

  /** The record `id` names among `records` — its internal id, or `eid:<externalId>` — as
   * `{ record }`, or `{ refused }`: NetSuite's answer (400 INVALID_ID for an external id it would
   * not take, 404 NONEXISTENT_ID for none). */
  const lookup = (records, id) => {
    const eid = id.startsWith('eid:') ? id.slice(4) : null;
    if (eid !== null && !EXTERNAL_ID.test(eid)) return { refused: nsError(400, 'INVALID_ID', `Invalid external ID ${eid}.`) };
    const record = records.find((x) => (eid === null ? x.id === id : x.externalId === eid));
    if (!record) return { refused: nsError(404, 'NONEXISTENT_ID', 'The record instance does not exist. Provide a valid record instance ID.') };
    return { record };
  };

  const routes = [
    ['POST', TOKEN_PATH, (ctx) => {
      const form = new URLSearchParams(ctx.text());
      if (form.get('grant_type') !== 'client_credentials') return tokenError('unsupported_grant_type', 'grant_type must be client_credentials');
      if (form.get('client_assertion_type') !== ASSERTION_TYPE) return tokenError('invalid_request', 'client_assertion_type must be jwt-bearer');
      const v = verifyJwt(form.get('client_assertion'), publicKey);
      if (!v.header) return tokenError('invalid_request', v.why);
      if (v.header.kid !== certificateId) return tokenError('invalid_client', `no certificate mapped under kid ${v.header.kid}`);
      if (v.why) return tokenError('invalid_grant', v.why);
      const p = v.payload;
      const now = Math.floor(clock.now() / 1000);
      const scopes = Array.isArray(p.scope) ? p.scope : String(p.scope ?? '').split(',').map((s) => s.trim());
      if (p.iss !== clientId) return tokenError('unauthorized_client', 'iss is not the client id of the mapped application');
      if (p.aud !== `${sim.url}${TOKEN_PATH}`) return tokenError('invalid_grant', `aud must be ${sim.url}${TOKEN_PATH}`);
      if (!scopes.includes('rest_webservices')) return tokenError('invalid_scope', 'scope must include rest_webservices');
      if (!Number.isInteger(p.iat) || !Number.isInteger(p.exp)) return tokenError('invalid_grant', 'iat and exp must be whole seconds');
      if (p.exp <= now) return tokenError('invalid_grant', 'the assertion has expired');
      if (p.exp - p.iat >= 3600) return tokenError('invalid_grant', 'exp must be less than 60 minutes after iat');
      if (p.iat > now + 60) return tokenError('invalid_grant', 'iat is in the future');
      tokenRequests += 1;
      const token = `ns.${crypto.randomBytes(24).toString('base64url')}`;
      tokens.set(token, clock.now() + lifetime * 1000);
      return json(200, { access_token: token, expires_in: String(lifetime), token_type: 'bearer' });
    }],
    ['POST', SUITEQL_PATH, (ctx) => limited(() => {
      if (!authorized(ctx)) return unauthorized();
      if (String(ctx.headers.prefer ?? '').toLowerCase() !== 'transient') return nsError(400, 'INVALID_HEADER', 'The request must carry the header Prefer: transient.');
      let b;
      try { b = ctx.json(); } catch { return nsError(400, 'INVALID_CONTENT', 'The request body is not valid JSON.'); }
      const q = String(b.q ?? '').replace(/\s+/g, ' ').trim().toLowerCase();
      const one = ON_HAND_RE.exec(q);
      if (one) {
        suiteqlCalls += 1;
        const row = { links: [] };
        if (hasBalance(one[1], one[2])) row.quantityonhand = String(onHand(one[1], one[2]));
        return json(200, { links: [], count: 1, hasMore: false, items: [row], offset: 0, totalResults: 1 });
      }
      if (q !== BALANCES_QUERY.toLowerCase()) {
        return nsError(400, 'INVALID_PARAMETER', 'Invalid search query. Detailed unprocessed description follows. (The simulator runs only the inventorybalance queries.)');
      }
      const limit = Number(ctx.query.get('limit') ?? 1000);
      const offset = Number(ctx.query.get('offset') ?? 0);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) return nsError(400, 'INVALID_PARAMETER', 'Invalid value for the parameter limit. Provide a value between 1 and 1000.');
      if (!Number.isInteger(offset) || offset < 0) return nsError(400, 'INVALID_PARAMETER', 'Invalid value for the parameter offset.');
      suiteqlCalls += 1;
      const all = grouped();
      const page = all.slice(offset, offset + limit);
      const href = (o) => `${sim.url}${SUITEQL_PATH}?limit=${limit}&offset=${o}`;
      const links = [{ rel: 'first', href: href(0) }];
      if (offset > 0) links.push({ rel: 'prev', href: href(Math.max(0, offset - limit)) });
      const hasMore = offset + limit < all.length;
      if (hasMore) links.push({ rel: 'next', href: href(offset + limit) });
      links.push({ rel: 'last', href: href(Math.max(0, Math.floor((all.length - 1) / limit) * limit)) }, { rel: 'self', href: href(offset) });
      const text = (x) => (x === null ? null : String(x));
      return json(200, {
        links, count: page.length, hasMore, offset, totalResults: all.length,
        items: page.map((r) => ({ links: [], item: r.item, location: r.location, quantityonhand: text(r.quantityonhand), quantityavailable: text(r.quantityavailable) })),
      });
    })],
    ['POST', SALES_ORDER_PATH, (ctx) => limited(() => {
      if (!authorized(ctx)) return unauthorized();
      let b;
      try { b = ctx.json(); } catch { return nsError(400, 'INVALID_CONTENT', 'The request body is not valid JSON.'); }
      if (!customers.has(String(b.entity?.id ?? ''))) return nsError(400, 'USER_ERROR', 'Invalid entity reference key.');
      const lines = b.item?.items;
      if (!Array.isArray(lines) || lines.length === 0) return nsError(400, 'USER_ERROR', 'You must enter at least one line item for this transaction.');
      for (const l of lines) {
        if (!balances.some((x) => x.item === String(l.item?.id))) return nsError(400, 'USER_ERROR', `Invalid item reference key ${l.item?.id}.`);
        if (!(Number(l.quantity) > 0)) return nsError(400, 'USER_ERROR', 'Quantity must be positive.');
      }
      if (b.externalId !== undefined && !EXTERNAL_ID.test(String(b.externalId))) return nsError(400, 'USER_ERROR', 'Invalid external ID: use letters, numbers, underscores and hyphens.');
      if (b.externalId !== undefined && orders.some((o) => o.externalId === String(b.externalId))) {
        return nsError(400, 'DUP_RCRD', 'This record already exists.');
      }
      nextOrderId += 1;
      const o = { id: String(nextOrderId), externalId: b.externalId === undefined ? null : String(b.externalId), memo: b.memo ?? null, entity: String(b.entity.id), shipDate: b.shipDate,
        lines: lines.map((l) => ({ item: String(l.item.id), quantity: Number(l.quantity), location: String(l.location?.id ?? '1') })) };
      orders.push(o);
      for (const l of o.lines) {
        const row = setBalance(l.item, l.location, {});
        row.quantityavailable = Number(row.quantityavailable ?? row.quantityonhand) - l.quantity;
      }
      return respond(204, '', { location: `${sim.url}${SALES_ORDER_PATH}/${o.id}` });
    })],
    ['POST', INVENTORY_ADJUSTMENT_PATH, (ctx) => limited(() => {
      if (!authorized(ctx)) return unauthorized();
      let b;
      try { b = ctx.json(); } catch { return nsError(400, 'INVALID_CONTENT', 'The request body is not valid JSON.'); }
      if (!accounts.has(String(b.account?.id ?? ''))) return nsError(400, 'USER_ERROR', `Invalid account reference key ${b.account?.id}.`);
      if (!b.adjLocation?.id) return nsError(400, 'USER_ERROR', 'Please enter value(s) for: Adjustment Location');
      const lines = b.inventory?.items;
      if (!Array.isArray(lines) || lines.length === 0) return nsError(400, 'USER_ERROR', 'You must enter at least one line item for this transaction.');
      for (const l of lines) {
        if (!balances.some((x) => x.item === String(l.item?.id))) return nsError(400, 'USER_ERROR', `Invalid item reference key ${l.item?.id}.`);
        if (!l.location?.id) return nsError(400, 'USER_ERROR', 'Please enter value(s) for: Location');
        if (typeof l.adjustQtyBy !== 'number' || !Number.isFinite(l.adjustQtyBy) || l.adjustQtyBy === 0) return nsError(400, 'USER_ERROR', 'Please enter value(s) for: Adjust Qty. By');
      }
      if (b.externalId !== undefined && !EXTERNAL_ID.test(String(b.externalId))) return nsError(400, 'USER_ERROR', 'Invalid external ID: use letters, numbers, underscores and hyphens.');
      if (b.externalId !== undefined && adjustments.some((a) => a.externalId === String(b.externalId))) {
        return nsError(400, 'DUP_RCRD', 'This record already exists.');
      }
      nextAdjustmentId += 1;
      const a = { id: String(nextAdjustmentId), externalId: b.externalId === undefined ? null : String(b.externalId), account: String(b.account.id),
        subsidiary: b.subsidiary?.id === undefined ? null : String(b.subsidiary.id), adjLocation: String(b.adjLocation.id), memo: b.memo ?? null,
        lines: lines.map((l) => ({ item: String(l.item.id), location: String(l.location.id), adjustQtyBy: l.adjustQtyBy })) };
      adjustments.push(a);
      for (const l of a.lines) {
        const row = setBalance(l.item, l.location, {});
        row.quantityonhand = Number(row.quantityonhand ?? 0) + l.adjustQtyBy;
        if (row.quantityavailable !== null && row.quantityavailable !== undefined) row.quantityavailable = Number(row.quantityavailable) + l.adjustQtyBy;
      }
      return respond(204, '', { location: `${sim.url}${INVENTORY_ADJUSTMENT_PATH}/${a.id}` });
    })],
    ['GET', `${INVENTORY_ADJUSTMENT_PATH}/:id`, (ctx) => limited(() => {
      if (!authorized(ctx)) return unauthorized();
      const { record: a, refused } = lookup(adjustments, ctx.params.id);
      if (refused) return refused;
      return json(200, {
        links: [{ rel: 'self', href: `${sim.url}${INVENTORY_ADJUSTMENT_PATH}/${a.id}` }],
        id: a.id, externalId: a.externalId, tranId: `IA${a.id}`, account: { id: a.account }, adjLocation: { id: a.adjLocation }, memo: a.memo,
      });
    })],
    ['GET', `${SALES_ORDER_PATH}/:id`, (ctx) => limited(() => {
      if (!authorized(ctx)) return unauthorized();
      const { record: o, refused } = lookup(orders, ctx.params.id);
      if (refused) return refused;
      return json(200, orderRecord(o, ctx.query.get('expandSubResources') === 'true'));
    })],
    ['PATCH', `${SALES_ORDER_PATH}/:id`, (ctx) => limited(() => {
      if (!authorized(ctx)) return unauthorized();
      const o = orders.find((x) => x.id === ctx.params.id);
      if (!o) return nsError(404, 'NONEXISTENT_ID', `The record instance does not exist. Provide a valid record instance ID.`);
      let b;
      try { b = ctx.json(); } catch { return nsError(400, 'INVALID_CONTENT', 'The request body is not valid JSON.'); }
      const items = b?.item?.items;
      if (Object.keys(b ?? {}).some((k) => k !== 'item') || !Array.isArray(items)) return nsError(400, 'USER_ERROR', 'The simulator patches only item lines.');
      const picked = [];
      for (const p of items) {
        const line = Number(p.line);
        const keys = Object.keys(p).filter((k) => k !== 'line');
        if (!Number.isInteger(line) || line < 1 || line > o.lines.length) return nsError(400, 'USER_ERROR', `Invalid line ${p.line}.`);
        if (keys.length !== 1 || !['isclosed', 'isClosed'].includes(keys[0]) || p[keys[0]] !== true) return nsError(400, 'USER_ERROR', 'The simulator patches only isclosed: true on a line.');
        picked.push(o.lines[line - 1]);
      }
      let closedNow = 0;
      for (const l of picked) {
        if (l.closed) continue;
        l.closed = true;
        closedNow += 1;
        if (!o.cancelled) release(l);
      }
      if (closedNow > 0) closeCalls += 1;
      return respond(204, '');
    })],
  ];

  const sim = await startSim(router(routes), {
    name: 'netsuite', clock, faults: opts.faults, port: opts.port,
    errorResponse: (kind, ctx, fault) => {
      if (kind === '429') return concurrencyExceeded(fault.retryAfterSeconds);
      if (kind === '503') return nsError(503, 'UNEXPECTED_ERROR', 'Service unavailable.', { 'retry-after': String(fault.retryAfterSeconds) });
      if (kind === '500') return nsError(500, 'UNEXPECTED_ERROR', 'An unexpected error occurred.');
      return null;
    },
    state: () => ({ balances: grouped(), orders, adjustments, tokens: tokens.size, tokenRequests, suiteqlCalls }),
  });
  sim.credentials = () => ({ client_id: clientId, certificate_id: certificateId, private_key: privateKeyPem });
  sim.expireTokens = () => { for (const t of tokens.keys()) tokens.set(t, clock.now()); };
  sim.setBalance = setBalance;
  sim.orders = orders;
  sim.orderByExternalId = (id) => orders.find((o) => o.externalId === id) ?? null;
  sim.adjustments = adjustments;
  sim.adjustmentsByExternalId = (id) => adjustments.filter((a) => a.externalId === id);
  sim.onHand = onHand;
  sim.ordersByExternalId = (id) => orders.filter((o) => o.externalId === id);
  sim.ordersByReference = (reference) => sim.ordersByExternalId(netsuiteExternalId(reference));
  sim.cancelOrder = (id) => {
    const o = orders.find((x) => x.id === String(id));
    if (!o || o.cancelled) return false;
    o.cancelled = true;
    for (const l of o.lines) if (!l.closed) release(l);
    return true;
  };
  Object.defineProperty(sim, 'tokenRequests', { get: () => tokenRequests });
  Object.defineProperty(sim, 'closeCalls', { get: () => closeCalls });
  Object.defineProperty(sim, 'suiteqlCalls', { get: () => suiteqlCalls });
  return sim;
}
