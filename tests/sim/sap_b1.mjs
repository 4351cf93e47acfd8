// SAP Business One Service Layer simulator (OData at /b1s/v1): login sessions, the Items
// collection with warehouse rows, sales Orders.
//
// Built to the Service Layer's documented contract (SAP's "Working with SAP Business One
// Service Layer" guide; summarised in docs/erp.md):
//  - POST /b1s/v1/Login {CompanyDB, UserName, Password} → 200 {"odata.metadata", SessionId,
//    Version, SessionTimeout (minutes, 30 by default)} with cookies B1SESSION (the session id)
//    and ROUTEID (the load balancer's node). A wrong login: 401 {"error": {"code": -304,
//    "message": {"lang": "en-us", "value": "Fail to get DB Credentials from SLD"}}}.
//  - every other call needs the B1SESSION cookie; a missing, unknown or timed-out session:
//    401 {"error": {"code": 301, "message": {"lang": "en-us", "value": "Invalid session or
//    session already timeout."}}}. Each call keeps the session alive (the timeout is idle time).
//  - POST /b1s/v1/Logout ends the session (204).
//  - GET /b1s/v1/Items?$select=…&$filter=UpdateDate ge 'YYYY-MM-DD'&$orderby=ItemCode
//    → {"odata.metadata", "value": [...], "odata.nextLink": "Items?…&$skip=N"} — the page size
//    from `Prefer: odata.maxpagesize=N` (20 when absent), next link relative to /b1s/v1/.
//    Items carry ItemCode, UpdateDate ('YYYY-MM-DD'), ItemWarehouseInfoCollection rows
//    {WarehouseCode, InStock, Committed, Ordered} (decimals).
//  - POST /b1s/v1/Orders {CardCode, DocDueDate, NumAtCard, DocumentLines: [{ItemCode, Quantity,
//    WarehouseCode}]} → 201 with the document (DocEntry, DocNum, …). An open order commits its
//    quantities: Committed of the line's warehouse row rises by Quantity, UpdateDate is today.
//    GET /b1s/v1/Orders?$filter=NumAtCard eq '…' → {"value": [...]}.
//    POST /b1s/v1/Orders(<DocEntry>)/Cancel → 204; the commitment is released.
//  - GET /b1s/v1/Items('<code>')?$select=… → the item (404 when absent).
//  - Goods receipts / issues: POST /b1s/v1/InventoryGenEntries | InventoryGenExits {JournalMemo
//    (≤ 50 characters), Comments, DocumentLines: [{ItemCode, Quantity (> 0), WarehouseCode}]} → 201
//    with the document; InStock of the line's warehouse rises (entries) or falls (exits; an exit
//    below 0 is refused, SAP's default "negative inventory" block). GET …?$filter=JournalMemo eq
//    '…' → {"value": [...]}.
//  - Errors: {"error": {"code": n, "message": {"lang", "value"}}}.
//
// Simulator extras: `sim.expireSessions()` times every session out (the next call answers 401),
// `sim.setStock(item, warehouse, {InStock, Committed})`, `sim.orders`, `sim.ordersByRef(ref)`,
// `sim.postings` (every goods receipt and issue: one posted twice shows twice), `sim.inStock(item, wh)`,
// `sim.logins` (count). Injected faults (FaultInjector) apply to every route but /__sim; 429
// carries Retry-After.

import crypto from 'node:crypto';
import { startSim, createClock, json, respond, router } from './lib.mjs';

const ROOT = '/b1s/v1';

function b1Error(status, code, value) {
  return json(status, { error: { code, message: { lang: 'en-us', value } } });
}

function cookies(header) {
  const out = {};
  for (const part of String(header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out[part.slice(0, i).trim()] = part.slice(i + 1).trim();
  }
  return out;
}

/** Evaluates the small subset of OData $filter the connector uses: `<Field> ge|eq '<text>'`. */
function filterOf(expr) {
  if (!expr) return () => true;
  const m = /^\s*(\w+)\s+(ge|eq)\s+'((?:[^']|'')*)'\s*$/.exec(expr);
  if (!m) return null;
  const [, field, op, raw] = m;
  const v = raw.replace(/''/g, "'");
  return (rec) => (op === 'eq' ? String(rec[field]) === v : String(rec[field] ?? '') >= v);
}

/**
 * Starts the SAP Business One Service Layer simulator.
 *
 * @param opts {port, company = 'SBODEMOUS', user = 'manager', password = 'secret',
 *   sessionTimeoutMinutes = 30, items: [{ItemCode, warehouses: [{WarehouseCode, InStock,
 *   Committed = 0, Ordered = 0}]}], faults, clock}
 */
export async function startSapB1Sim(opts = {}) {
  const clock = opts.clock ?? createClock();
  const company = opts.company ?? 'SBODEMOUS';
  const user = opts.user ?? 'manager';
  const password = opts.password ?? 'secret';
  const timeoutMin = opts.sessionTimeoutMinutes ?? 30;
  const today = () => clock.iso().slice(0, 10);

  const items = new Map();
  const setStock = (code, wh, q) => {
    const item = items.get(code) ?? { ItemCode: code, UpdateDate: today(), ItemWarehouseInfoCollection: [] };
    items.set(code, item);
    let row = item.ItemWarehouseInfoCollection.find((r) => r.WarehouseCode === wh);
    if (!row) { row = { WarehouseCode: wh, InStock: 0, Committed: 0, Ordered: 0 }; item.ItemWarehouseInfoCollection.push(row); }
    Object.assign(row, q);
    item.UpdateDate = today();
    return row;
  };
  for (const it of opts.items ?? []) {
    for (const w of it.warehouses ?? []) setStock(it.ItemCode, w.WarehouseCode, { InStock: w.InStock ?? 0, Committed: w.Committed ?? 0, Ordered: w.Ordered ?? 0 });
  }

  const sessions = new Map(); // id -> {lastUsed}
  const orders = [];
  let docEntry = 100;
  let logins = 0;

  function session(ctx) {
    const c = cookies(ctx.headers.cookie);
    const s = sessions.get(c.B1SESSION);
    if (!s || clock.now() - s.lastUsed > timeoutMin * 60_000) {
      if (s) sessions.delete(c.B1SESSION);
      return null;
    }
    s.lastUsed = clock.now();
    return s;
  }
  const invalid = () => b1Error(401, 301, 'Invalid session or session already timeout.');

  const routes = [
    ['POST', `${ROOT}/Login`, (ctx) => {
      let b;
      try { b = ctx.json(); } catch { return b1Error(400, -1000, 'Invalid JSON'); }
      if (b.CompanyDB !== company || b.UserName !== user || b.Password !== password) {
        return b1Error(401, -304, 'Fail to get DB Credentials from SLD');
      }
      logins += 1;
      const id = crypto.randomUUID();
      sessions.set(id, { lastUsed: clock.now() });
      return json(200, { 'odata.metadata': `${ROOT}/$metadata#B1Sessions/@Element`, SessionId: id, Version: '1000190', SessionTimeout: timeoutMin }, {
        'set-cookie': [`B1SESSION=${id}; path=${ROOT}; Secure; HttpOnly`, 'ROUTEID=.node1; path=/b1s'],
      });
    }],
    ['POST', `${ROOT}/Logout`, (ctx) => {
      const c = cookies(ctx.headers.cookie);
      sessions.delete(c.B1SESSION);
      return respond(204);
    }],
    ['GET', `${ROOT}/Items`, (ctx) => {
      if (!session(ctx)) return invalid();
      const pred = filterOf(ctx.query.get('$filter'));
      if (!pred) return b1Error(400, -1000, 'Unsupported $filter');
      const m = /odata\.maxpagesize=(\d+)/.exec(String(ctx.headers.prefer ?? ''));
      const size = m ? Math.max(1, Number(m[1])) : 20;
      const skip = Number(ctx.query.get('$skip') ?? 0);
      const all = [...items.values()].filter(pred).sort((a, b) => (a.ItemCode < b.ItemCode ? -1 : 1));
      const select = (ctx.query.get('$select') ?? '').split(',').filter(Boolean);
      const value = all.slice(skip, skip + size).map((it) => {
        const full = { ...it, ItemWarehouseInfoCollection: it.ItemWarehouseInfoCollection.map((r) => ({ ItemCode: it.ItemCode, ...r })) };
        return select.length ? Object.fromEntries(select.map((k) => [k, full[k]])) : full;
      });
      const body = { 'odata.metadata': `${ROOT}/$metadata#Items`, value };
      if (skip + size < all.length) {
        const q = new URLSearchParams(ctx.query);
        q.set('$skip', String(skip + size));
        body['odata.nextLink'] = `Items?${decodeURIComponent(q.toString())}`;
      }
      return json(200, body);
    }],
    ['GET', `${ROOT}/Orders`, (ctx) => {
      if (!session(ctx)) return invalid();
      const pred = filterOf(ctx.query.get('$filter'));
      if (!pred) return b1Error(400, -1000, 'Unsupported $filter');
      return json(200, { 'odata.metadata': `${ROOT}/$metadata#Orders`, value: orders.filter(pred) });
    }],
    ['POST', `${ROOT}/Orders`, (ctx) => {
      if (!session(ctx)) return invalid();
      let b;
      try { b = ctx.json(); } catch { return b1Error(400, -1000, 'Invalid JSON'); }
      if (typeof b.CardCode !== 'string' || !b.CardCode) return b1Error(400, -5002, 'Enter business partner code');
      if (!Array.isArray(b.DocumentLines) || b.DocumentLines.length === 0) return b1Error(400, -5002, 'Document must contain at least one row');
      for (const l of b.DocumentLines) {
        if (!items.has(l.ItemCode)) return b1Error(400, -10, `Item ${l.ItemCode} not found`);
        if (!(Number(l.Quantity) > 0)) return b1Error(400, -10, 'Quantity must be positive');
      }
      if (b.NumAtCard !== undefined && String(b.NumAtCard).length > 100) return b1Error(400, -10, 'NumAtCard too long');
      docEntry += 1;
      const doc = {
        DocEntry: docEntry, DocNum: docEntry - 100, CardCode: b.CardCode, DocDate: today(), DocDueDate: b.DocDueDate ?? today(),
        NumAtCard: b.NumAtCard ?? null, DocumentStatus: 'bost_Open', Cancelled: 'tNO',
        DocumentLines: b.DocumentLines.map((l, i) => ({ LineNum: i, ItemCode: l.ItemCode, Quantity: Number(l.Quantity), WarehouseCode: l.WarehouseCode ?? '01' })),
      };
      orders.push(doc);
      for (const l of doc.DocumentLines) {
        const row = setStock(l.ItemCode, l.WarehouseCode, {});
        row.Committed += l.Quantity;
      }
      return json(201, doc);
    }],
    ['POST', `${ROOT}/Orders(:entry)/Cancel`, (ctx) => {
      if (!session(ctx)) return invalid();
      const doc = orders.find((o) => String(o.DocEntry) === ctx.params.entry);
      if (!doc) return b1Error(404, -2028, 'No matching records found (ODBC -2028)');
      if (doc.Cancelled === 'tYES') return b1Error(400, -5006, 'Document is already cancelled');
      doc.Cancelled = 'tYES';
      doc.DocumentStatus = 'bost_Close';
      for (const l of doc.DocumentLines) setStock(l.ItemCode, l.WarehouseCode, {}).Committed -= l.Quantity;
      return respond(204);
    }],
  ];
  const cancelRoute = routes[routes.length - 1][2];
  // Goods receipts (InventoryGenEntries, units in) and issues (InventoryGenExits, units out).
  const postings = [];
  for (const [collection, sign] of [['InventoryGenEntries', 1], ['InventoryGenExits', -1]]) {
    routes.push(
      ['GET', `${ROOT}/${collection}`, (ctx) => {
        if (!session(ctx)) return invalid();
        const pred = filterOf(ctx.query.get('$filter'));
        if (!pred) return b1Error(400, -1000, 'Unsupported $filter');
        return json(200, { 'odata.metadata': `${ROOT}/$metadata#${collection}`, value: postings.filter((p) => p.collection === collection && pred(p)) });
      }],
      ['POST', `${ROOT}/${collection}`, (ctx) => {
        if (!session(ctx)) return invalid();
        let b;
        try { b = ctx.json(); } catch { return b1Error(400, -1000, 'Invalid JSON'); }
        if (!Array.isArray(b.DocumentLines) || b.DocumentLines.length === 0) return b1Error(400, -5002, 'Document must contain at least one row');
        if (b.JournalMemo !== undefined && String(b.JournalMemo).length > 50) return b1Error(400, -10, 'JournalMemo too long');
        for (const l of b.DocumentLines) {
          if (!items.has(l.ItemCode)) return b1Error(400, -10, `Item ${l.ItemCode} not found`);
          if (!(Number(l.Quantity) > 0)) return b1Error(400, -10, 'Quantity must be positive');
          const row = items.get(l.ItemCode).ItemWarehouseInfoCollection.find((r) => r.WarehouseCode === (l.WarehouseCode ?? '01'));
          if (sign < 0 && (row?.InStock ?? 0) < Number(l.Quantity)) return b1Error(400, -10, `Quantity falls into negative inventory [IGE1.ItemCode][line: ${l.ItemCode}]`);
        }
        docEntry += 1;
        const doc = {
          DocEntry: docEntry, DocNum: docEntry - 100, DocDate: today(), JournalMemo: b.JournalMemo ?? null, Comments: b.Comments ?? null,
          DocumentLines: b.DocumentLines.map((l, i) => ({ LineNum: i, ItemCode: l.ItemCode, Quantity: Number(l.Quantity), WarehouseCode: l.WarehouseCode ?? '01' })),
        };
        postings.push({ collection, ...doc });
        for (const l of doc.DocumentLines) setStock(l.ItemCode, l.WarehouseCode, {}).InStock += sign * l.Quantity;
        return json(201, doc);
      }],
    );
  }
  const itemRoute = (ctx, code) => {
    if (!session(ctx)) return invalid();
    const it = items.get(code);
    if (!it) return b1Error(404, -2028, 'No matching records found (ODBC -2028)');
    const full = { ...it, ItemWarehouseInfoCollection: it.ItemWarehouseInfoCollection.map((r) => ({ ItemCode: it.ItemCode, ...r })) };
    const select = (ctx.query.get('$select') ?? '').split(',').filter(Boolean);
    return json(200, select.length ? Object.fromEntries(select.map((k) => [k, full[k]])) : full);
  };
  // `Orders(5)/Cancel` and `Items('A1')` do not split on '/' like the router's segments: match them by hand.
  const route = router(routes);
  const handler = (ctx) => {
    const m = /^\/b1s\/v1\/Orders\((\d+)\)\/Cancel$/.exec(ctx.path);
    if (m && ctx.method === 'POST') return cancelRoute({ ...ctx, params: { entry: m[1] } });
    const i = /^\/b1s\/v1\/Items\('((?:[^']|'')*)'\)$/.exec(decodeURIComponent(ctx.path));
    if (i && ctx.method === 'GET') return itemRoute(ctx, i[1].replace(/''/g, "'"));
    return route(ctx);
  };

  const sim = await startSim(handler, {
    name: 'sap_b1', clock, faults: opts.faults, port: opts.port,
    state: () => ({ items: [...items.values()], orders, postings, sessions: sessions.size, logins }),
  });
  sim.orders = orders;
  sim.postings = postings;
  sim.inStock = (item, wh) => items.get(item)?.ItemWarehouseInfoCollection.find((r) => r.WarehouseCode === wh)?.InStock;
  sim.ordersByRef = (ref) => orders.filter((o) => o.NumAtCard === ref);
  sim.setStock = setStock;
  sim.expireSessions = () => sessions.clear();
  Object.defineProperty(sim, 'logins', { get: () => logins });
  return sim;
}
