// Generic signed-webhook ERP simulator: the receiver side of StockEdge's webhook ERP contract
// (docs/erp.md "Webhook ERP", src/erp/connectors/webhook.rs). What it checks and answers:
//  - `POST <path>` (default `/erp`) with `X-StockEdge-Timestamp` (Unix seconds) and
//    `X-StockEdge-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>`,
//    compared in constant time; a missing or wrong signature, or a timestamp more than 5 minutes
//    away from the simulator's clock: 401.
//  - `Idempotency-Key` required (400 without); a key already received: 409 (the contract's
//    "already had it", which StockEdge counts as received) and nothing is recorded again.
//  - a body that is not JSON, or a `type` outside order.created / order.cancelled /
//    order.fulfilled / adjustment.requested: 422 (a dead letter on StockEdge's side).
//  - otherwise 202 `{"received": <key>}`, the document recorded under its key.
// Faults (429 with Retry-After, 500, timeouts, lost answers) come from the shared injector
// (`lib.mjs`); a `lost` answer records the document, so the retry meets a 409.
//
// Simulator extras: `sim.documents` (in arrival order, `{key, type, body, at}`),
// `sim.ofType(type)`, `sim.ofReference(ref)`, `sim.refused` (requests answered 401/400/422),
// `sim.sign(body, timestampSecs)` (the headers a sender must set, for tests).
//
// Snapshots in (the ERP's side of `POST /v1/erp/connections/{id}/snapshots`):
// `sim.sendSnapshot(stockedgeUrl, connection, snapshot, opts)` signs the raw body with the
// simulator's secret — the same scheme it verifies — at the simulator's clock and POSTs it;
// `snapshot` is an object (sent as JSON) or CSV text (`opts.query`, e.g. `format=csv&snapshot=…`).
// `opts`: `secret` (sign with another key: a forgery), `timestampSecs`, `idempotencyKey`, `query`.
// Answers `{status, text, json}`.

import crypto from 'node:crypto';

import { startSim, createClock, json, router, safeEqual } from './lib.mjs';

export const ERP_WEBHOOK_TYPES = ['order.created', 'order.cancelled', 'order.fulfilled', 'adjustment.requested'];
const MAX_SKEW_MS = 5 * 60 * 1000;

/** `sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`. */
export function stockedgeSignature(secret, timestampSecs, body) {
  return `sha256=${crypto.createHmac('sha256', secret).update(`${timestampSecs}.`).update(body).digest('hex')}`;
}

/** @param opts {port, path = '/erp', secret = 'erp-webhook-secret', faults, clock} */
export async function startErpWebhookSim(opts = {}) {
  const clock = opts.clock ?? createClock();
  const path = opts.path ?? '/erp';
  const secret = opts.secret ?? 'erp-webhook-secret';
  const documents = [];
  const keys = new Map();
  const refused = [];
  const refuse = (status, error, ctx) => {
    refused.push({ status, error, key: ctx.headers['idempotency-key'] ?? null });
    return json(status, { error });
  };
  const receive = (ctx) => {
    const ts = ctx.headers['x-stockedge-timestamp'] ?? '';
    const sig = ctx.headers['x-stockedge-signature'] ?? '';
    if (!/^\d{1,12}$/.test(ts)) return refuse(401, 'X-StockEdge-Timestamp missing or not Unix seconds', ctx);
    if (Math.abs(clock.now() - Number(ts) * 1000) > MAX_SKEW_MS) return refuse(401, 'timestamp outside the 5 minute window', ctx);
    if (!safeEqual(sig, stockedgeSignature(secret, ts, ctx.rawBody))) return refuse(401, 'signature mismatch', ctx);
    const key = ctx.headers['idempotency-key'];
    if (!key) return refuse(400, 'Idempotency-Key required', ctx);
    if (keys.has(key)) return json(409, { error: 'duplicate', received: key });
    let body;
    try { body = ctx.json(); } catch { return refuse(422, 'body must be JSON', ctx); }
    if (!ERP_WEBHOOK_TYPES.includes(body?.type)) return refuse(422, `unknown type ${JSON.stringify(body?.type)}`, ctx);
    const doc = { key, type: body.type, body, at: clock.iso() };
    keys.set(key, doc);
    documents.push(doc);
    return json(202, { received: key });
  };
  const sim = await startSim(router([['POST', path, receive]]), {
    name: 'erp-webhook', clock, faults: opts.faults, port: opts.port,
    state: () => ({ documents, refused }),
    onReset: () => { documents.length = 0; keys.clear(); refused.length = 0; },
  });
  sim.endpoint = `${sim.url}${path}`;
  sim.secret = secret;
  sim.documents = documents;
  sim.refused = refused;
  sim.ofType = (type) => documents.filter((d) => d.type === type);
  sim.ofReference = (ref) => documents.filter((d) => d.body.reference === ref);
  sim.sign = (body, timestampSecs = Math.floor(clock.now() / 1000)) => ({
    'x-stockedge-timestamp': String(timestampSecs),
    'x-stockedge-signature': stockedgeSignature(secret, timestampSecs, body),
  });
  sim.sendSnapshot = async (stockedgeUrl, connection, snapshot, opts = {}) => {
    const csv = typeof snapshot === 'string';
    const body = csv ? snapshot : JSON.stringify(snapshot);
    const ts = opts.timestampSecs ?? Math.floor(clock.now() / 1000);
    const headers = {
      'content-type': csv ? 'text/csv' : 'application/json',
      'x-stockedge-timestamp': String(ts),
      'x-stockedge-signature': stockedgeSignature(opts.secret ?? secret, ts, body),
    };
    if (opts.idempotencyKey) headers['idempotency-key'] = opts.idempotencyKey;
    const query = opts.query ? `?${opts.query}` : '';
    const url = `${stockedgeUrl}/v1/erp/connections/${encodeURIComponent(connection)}/snapshots${query}`;
    const r = await fetch(url, { method: 'POST', headers, body });
    const text = await r.text();
    let parsed = null;
    try { parsed = JSON.parse(text); } catch { /* not JSON */ }
    return { status: r.status, text, json: parsed };
  };
  return sim;
}
