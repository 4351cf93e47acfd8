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
//  - Inventory adjustments (Odoo's stock.quant "inventory mode"): stock.quant/search_read also
//    takes ["product_id" | "location_id", "=", id] and ["lot_id" | "package_id" | "owner_id", "=",
//    false] leaves (the simulator's quants have none). stock.quant/create `{"vals_list":[{
//    product_id, location_id, inventory_quantity}], "context": {"inventory_mode": true}}` writes the
//    count on the matching quant (a new one at 0 when there is none) and answers the ids;
//    stock.quant/write `{"ids", "vals": {"inventory_quantity"}, "context": {"inventory_mode":
//    true}}` sets the count. Neither moves stock; without inventory_mode (or with other fields):
//    422 UserError "Quant's editing is restricted". stock.quant/action_apply_inventory `{"ids",
//    "context": {"inventory_name"?}}`: for each quant with a count differing from its quantity, a
//    done inventory move of the difference named `inventory_name` ("Product Quantity Updated"
//    without one) and quantity = the count (write_date now); the count is reset; answers null.
//    stock.move/search_read takes "=" leaves, ["name", "=like", pattern] (% and _) and "|".
//
// Simulator extras: `sim.setQuant(productId, locationId, {quantity, reserved_quantity})` (stamps
// write_date now), `sim.revokeKey()` / `sim.restoreKey()`, `sim.orders`, `sim.ordersByRef(ref)`,
// `sim.moves` (every inventory move applied: a count applied twice shows twice),
// `sim.quant(productId, locationId)`.

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
      r = { id: nextId++, product_id: [product, `Product ${product}`], location_id: [location, `WH/Loc ${location}`], quantity: 0, reserved_quantity: 0, usage: 'internal', inventory_quantity: 0, inventory_quantity_set: false };
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
    if ((field === 'product_id' || field === 'location_id') && op === '=') return (r) => r[field][0] === value;
    // The simulator's quants have no lot, package or owner.
    if (['lot_id', 'package_id', 'owner_id'].includes(field) && op === '=' && value === false) return () => true;
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
  // Inventory adjustments (stock.quant in inventory mode, stock.move).
  const moves = [];
  const restricted = () => json(422, { name: 'odoo.exceptions.UserError', message: "Quant's editing is restricted, you can't do this operation.", arguments: [], context: {}, debug: '' });
  const quantsOf = (b) => (Array.isArray(b?.ids) ? b.ids.map((id) => quants.find((q) => q.id === id)) : null);
  routes.push(
    ['POST', '/json/2/stock.quant/create', (ctx) => {
      if (bearer(ctx.headers.authorization) !== apiKey) return denied();
      const b = body(ctx);
      if (!b || !Array.isArray(b.vals_list)) return json(422, { name: 'TypeError', message: 'create() missing vals_list' });
      if (!b.context?.inventory_mode) return restricted();
      const made = [];
      for (const v of b.vals_list) {
        if (!Number.isInteger(v.product_id) || !Number.isInteger(v.location_id)) return json(422, { name: 'odoo.exceptions.ValidationError', message: 'product_id and location_id are required' });
        // Odoo writes on a matching quant when one exists.
        const q = quants.find((x) => x.product_id[0] === v.product_id && x.location_id[0] === v.location_id) ?? setQuant(v.product_id, v.location_id, {});
        Object.assign(q, { inventory_quantity: Number(v.inventory_quantity ?? 0), inventory_quantity_set: true });
        made.push(q.id);
      }
      return json(200, made);
    }],
    ['POST', '/json/2/stock.quant/write', (ctx) => {
      if (bearer(ctx.headers.authorization) !== apiKey) return denied();
      const b = body(ctx);
      const qs = quantsOf(b);
      if (!qs || qs.some((q) => !q)) return json(422, { name: 'odoo.exceptions.MissingError', message: 'Record does not exist or has been deleted.' });
      const keys = Object.keys(b.vals ?? {});
      if (keys.some((k) => k !== 'inventory_quantity') || !b.context?.inventory_mode) return restricted();
      for (const q of qs) Object.assign(q, { inventory_quantity: Number(b.vals.inventory_quantity), inventory_quantity_set: true });
      return json(200, true);
    }],
    ['POST', '/json/2/stock.quant/action_apply_inventory', (ctx) => {
      if (bearer(ctx.headers.authorization) !== apiKey) return denied();
      const b = body(ctx);
      const qs = quantsOf(b);
      if (!qs || qs.some((q) => !q)) return json(422, { name: 'odoo.exceptions.MissingError', message: 'Record does not exist or has been deleted.' });
      // One transaction: a done move of the difference, the quant at its count, the count reset.
      for (const q of qs) {
        const diff = q.inventory_quantity_set ? q.inventory_quantity - q.quantity : 0;
        if (diff !== 0) {
          moves.push({ id: moves.length + 1, name: b.context?.inventory_name ?? 'Product Quantity Updated', product_id: q.product_id, location_id: q.location_id, quantity: diff, is_inventory: true, state: 'done' });
          setQuant(q.product_id[0], q.location_id[0], { quantity: q.inventory_quantity });
        }
        Object.assign(q, { inventory_quantity: 0, inventory_quantity_set: false });
      }
      return json(200, null);
    }],
    ['POST', '/json/2/stock.move/search_read', (ctx) => {
      if (bearer(ctx.headers.authorization) !== apiKey) return denied();
      const b = body(ctx);
      if (!b) return json(422, { name: 'werkzeug.exceptions.UnprocessableEntity', message: 'invalid JSON' });
      const like = (pattern) => new RegExp(`^${pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/%/g, '.*').replace(/_/g, '.')}$`);
      const test = ([field, op, value]) => {
        if (op === '=') return (m) => m[field] === value;
        if (op === '=like' && field === 'name') return (m) => like(value).test(m.name);
        return null;
      };
      // Prefix domains: leaves are ANDed; "|" ORs the next two.
      const parse = (items) => {
        const [head, ...rest] = items;
        if (head === '|') {
          const [a, r1] = parse(rest);
          const [b2, r2] = parse(r1);
          return [a && b2 ? (m) => a(m) || b2(m) : null, r2];
        }
        return [test(head), rest];
      };
      const preds = [];
      let items = b.domain ?? [];
      while (items.length) { const [p, r] = parse(items); preds.push(p); items = r; }
      if (preds.some((p) => !p)) return json(422, { name: 'ValueError', message: 'unsupported domain' });
      const fields = b.fields ?? ['id', 'name', 'product_id', 'location_id', 'quantity', 'state'];
      const rows = moves.filter((m) => preds.every((p) => p(m))).slice(0, Number(b.limit ?? 80));
      return json(200, rows.map((m) => Object.fromEntries([['id', m.id], ...fields.map((f) => [f, m[f]])])));
    }],
  );
  const sim = await startSim(router(routes), { name: 'odoo', clock, faults: opts.faults, port: opts.port, state: () => ({ quants, orders, moves }) });
  sim.moves = moves;
  sim.quant = (product, location) => quants.find((q) => q.product_id[0] === product && q.location_id[0] === location);
  sim.setQuant = setQuant;
  sim.orders = orders;
  sim.ordersByRef = (ref) => orders.filter((o) => o.client_order_ref === ref);
  sim.revokeKey = () => { apiKey = `${apiKey}-revoked`; };
  sim.apiKey = () => apiKey;
  return sim;
}
