// Odoo JSON-2 API simulator (Odoo 17+ external API: POST /json/2/<model>/<method> with
// `Authorization: bearer <API key>` and a JSON body of named arguments; summarised in
// docs/erp.md). Only what StockEdge reads: stock.quant/search_read.
//  - a missing or wrong key: 401 {"name": "odoo.exceptions.AccessDenied", "message": "Access
//    Denied", ...}; an unknown model/method: 404; a malformed body: 422.
//  - search_read takes `domain` (the leaves StockEdge sends: ["location_id.usage", "=",
//    "internal"], ["write_date", ">=", "YYYY-MM-DD HH:MM:SS"]), `fields`, `limit`, `offset`,
//    `order` and answers a JSON array of records; many2one fields are [id, "display name"].
//
// Simulator extras: `sim.setQuant(productId, locationId, {quantity, reserved_quantity})` (stamps
// write_date now), `sim.revokeKey()` / `sim.restoreKey()`.

import { startSim, createClock, json, bearer, router } from './lib.mjs';

function odooDate(ms) { return new Date(ms).toISOString().slice(0, 19).replace('T', ' '); }

/** @param opts {port, apiKey = 'odoo-sim-key', quants: [{product, location, quantity, reserved_quantity}], faults, clock} */
export async function startOdooSim(opts = {}) {
  const clock = opts.clock ?? createClock();
  let apiKey = opts.apiKey ?? 'odoo-sim-key';
  const quants = [];
  let nextId = 1;
  const setQuant = (product, location, q) => {
    let r = quants.find((x) => x.product_id[0] === product && x.location_id[0] === location);
    if (!r) {
      r = { id: nextId++, product_id: [product, `Product ${product}`], location_id: [location, `WH/Loc ${location}`], quantity: 0, reserved_quantity: 0, usage: 'internal' };
      quants.push(r);
    }
    Object.assign(r, q, { write_date: odooDate(clock.now()) });
    return r;
  };
  for (const q of opts.quants ?? []) setQuant(q.product, q.location, { quantity: q.quantity ?? 0, reserved_quantity: q.reserved_quantity ?? 0, usage: q.usage ?? 'internal' });

  const denied = () => json(401, { name: 'odoo.exceptions.AccessDenied', message: 'Access Denied', arguments: ['Access Denied'], context: {}, debug: '' });
  const leaf = (l) => {
    const [field, op, value] = l;
    if (field === 'location_id.usage' && op === '=') return (r) => r.usage === value;
    if (field === 'write_date' && op === '>=') return (r) => r.write_date >= value;
    return null;
  };
  const routes = [
    ['POST', '/json/2/stock.quant/search_read', (ctx) => {
      if (bearer(ctx.headers.authorization) !== apiKey) return denied();
      let b;
      try { b = ctx.json(); } catch { return json(422, { name: 'werkzeug.exceptions.UnprocessableEntity', message: 'invalid JSON' }); }
      const preds = (b.domain ?? []).map(leaf);
      if (preds.some((p) => !p)) return json(422, { name: 'ValueError', message: 'unsupported domain' });
      const limit = Number(b.limit ?? 80);
      const offset = Number(b.offset ?? 0);
      const fields = b.fields ?? ['id', 'product_id', 'location_id', 'quantity', 'reserved_quantity', 'write_date'];
      const rows = quants.filter((r) => preds.every((p) => p(r))).sort((x, y) => x.id - y.id).slice(offset, offset + limit);
      return json(200, rows.map((r) => Object.fromEntries([['id', r.id], ...fields.map((f) => [f, r[f]])])));
    }],
  ];
  const sim = await startSim(router(routes), { name: 'odoo', clock, faults: opts.faults, port: opts.port, state: () => ({ quants }) });
  sim.setQuant = setQuant;
  sim.revokeKey = () => { apiKey = `${apiKey}-revoked`; };
  sim.apiKey = () => apiKey;
  return sim;
}
