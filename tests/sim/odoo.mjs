// Odoo JSON-2 API simulator (Odoo 17+ external API: POST /json/2/<model>/<method> with
// `Authorization: bearer <API key>` and a JSON body of named arguments; summarised in
// docs/erp.md). What StockEdge uses: stock.quant/search_read, and sale.order search_read / create /
// action_confirm / action_cancel (the order delivery).
//  - a missing or wrong key: 401 {"name": "odoo.exceptions.AccessDenied", "message": "Access
//    Denied", ...}; an unknown model/method: 404; a malformed body: 422.
//  - search_read takes `domain` (the leaves StockEdge sends: ["location_id.usage", "=",
//    "internal"], ["write_date", ">=", "YYYY-MM-DD HH:MM:SS"]), `fields`, `limit`, `offset`,
//    `order` and answers a JSON array of records; many2one fields are [id, "display name"].
//  - sale.order/search_read takes a domain of ["client_order_ref", "=", ref] leaves (and the
//    stock.quant leaves above are refused there); answers [{id, state, ...fields}].
//  - sale.order/create takes `vals_list` ([{partner_id, client_order_ref, order_line: [[0, 0,
//    {product_id, product_uom_qty}]], warehouse_id?}]) and answers the new ids; the order is a
//    `draft` quotation. A missing partner_id or an unknown product: 422 (ValidationError).
//  - sale.order/action_confirm `{"ids"}`: draft → `sale`; the delivery reserves each line's units
//    (reserved_quantity of the product's first internal quant rises; write_date now). Confirming
//    an order not in draft: 422 (UserError), as Odoo's "not in a state requiring confirmation".
//  - sale.order/action_cancel `{"ids"}`: → `cancel`, the reservation released.
//
// Simulator extras: `sim.setQuant(productId, locationId, {quantity, reserved_quantity})` (stamps
// write_date now), `sim.revokeKey()` / `sim.restoreKey()`, `sim.orders`, `sim.ordersByRef(ref)`.

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
  const orders = [];
  let nextOrder = 1;
  const userError = (message) => json(422, { name: 'odoo.exceptions.UserError', message, arguments: [message], context: {}, debug: '' });
  const body = (ctx) => { try { return ctx.json(); } catch { return null; } };
  const reserve = (o, sign) => {
    for (const l of o.order_line) {
      const q = quants.find((x) => x.product_id[0] === l.product_id && x.usage === 'internal');
      if (q) setQuant(l.product_id, q.location_id[0], { reserved_quantity: q.reserved_quantity + sign * l.product_uom_qty });
    }
  };
  const byIds = (b) => (Array.isArray(b?.ids) ? b.ids.map((id) => orders.find((o) => o.id === id)) : null);
  routes.push(
    ['POST', '/json/2/sale.order/search_read', (ctx) => {
      if (bearer(ctx.headers.authorization) !== apiKey) return denied();
      const b = body(ctx);
      if (!b) return json(422, { name: 'werkzeug.exceptions.UnprocessableEntity', message: 'invalid JSON' });
      const preds = (b.domain ?? []).map(([field, op, value]) => (field === 'client_order_ref' && op === '=' ? (o) => o.client_order_ref === value : null));
      if (preds.some((p) => !p)) return json(422, { name: 'ValueError', message: 'unsupported domain' });
      const fields = b.fields ?? ['id', 'state', 'client_order_ref', 'partner_id', 'order_line'];
      const rows = orders.filter((o) => preds.every((p) => p(o))).slice(0, Number(b.limit ?? 80));
      return json(200, rows.map((o) => Object.fromEntries([['id', o.id], ...fields.map((f) => [f, o[f]])])));
    }],
    ['POST', '/json/2/sale.order/create', (ctx) => {
      if (bearer(ctx.headers.authorization) !== apiKey) return denied();
      const b = body(ctx);
      if (!b || !Array.isArray(b.vals_list)) return json(422, { name: 'TypeError', message: 'create() missing vals_list' });
      const made = [];
      for (const v of b.vals_list) {
        if (!Number.isInteger(v.partner_id)) return json(422, { name: 'odoo.exceptions.ValidationError', message: 'Customer is required' });
        const lines = (v.order_line ?? []).map((c) => c[2]);
        if (lines.some((l) => !quants.some((q) => q.product_id[0] === l.product_id))) return json(422, { name: 'odoo.exceptions.ValidationError', message: 'unknown product' });
        const o = { id: nextOrder++, partner_id: v.partner_id, client_order_ref: v.client_order_ref ?? false, warehouse_id: v.warehouse_id ?? 1, state: 'draft', order_line: lines.map((l) => ({ product_id: l.product_id, product_uom_qty: Number(l.product_uom_qty) })) };
        orders.push(o);
        made.push(o.id);
      }
      return json(200, made);
    }],
    ['POST', '/json/2/sale.order/action_confirm', (ctx) => {
      if (bearer(ctx.headers.authorization) !== apiKey) return denied();
      const os = byIds(body(ctx));
      if (!os || os.some((o) => !o)) return json(422, { name: 'odoo.exceptions.MissingError', message: 'Record does not exist or has been deleted.' });
      if (os.some((o) => o.state !== 'draft')) return userError('Some orders are not in a state requiring confirmation.');
      for (const o of os) { o.state = 'sale'; reserve(o, 1); }
      return json(200, true);
    }],
    ['POST', '/json/2/sale.order/action_cancel', (ctx) => {
      if (bearer(ctx.headers.authorization) !== apiKey) return denied();
      const os = byIds(body(ctx));
      if (!os || os.some((o) => !o)) return json(422, { name: 'odoo.exceptions.MissingError', message: 'Record does not exist or has been deleted.' });
      for (const o of os) { if (o.state === 'sale') reserve(o, -1); o.state = 'cancel'; }
      return json(200, true);
    }],
  );
  const sim = await startSim(router(routes), { name: 'odoo', clock, faults: opts.faults, port: opts.port, state: () => ({ quants, orders }) });
  sim.setQuant = setQuant;
  sim.orders = orders;
  sim.ordersByRef = (ref) => orders.filter((o) => o.client_order_ref === ref);
  sim.revokeKey = () => { apiKey = `${apiKey}-revoked`; };
  sim.apiKey = () => apiKey;
  return sim;
}
