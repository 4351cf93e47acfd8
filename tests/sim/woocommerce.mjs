// WooCommerce REST API (wc/v3) simulator: product/variation stock batches, order listing with
// `modified_after` and WordPress pagination headers, and the webhook sender.
//
// Built from WooCommerce's own source (stored copies, woocommerce/woocommerce):
//  - plugins/woocommerce/includes/rest-api/Controllers/Version3/class-wc-rest-controller.php
//      check_batch_limit(): create+update+delete counted together, limit 100 (filter
//      `woocommerce_rest_batch_items_limit`), over it → WP_Error
//      'woocommerce_rest_request_entity_too_large' "Unable to accept more than %s items for this
//      request." with status 413 (NB: 413, not 400);
//      batch_items(): per-item failures are `{id, error: {code, message, data}}` inside the
//      `create`/`update`/`delete` arrays; the call itself answers 200.
//  - .../Version3/class-wc-rest-crud-controller.php
//      update_item(): unknown id → "woocommerce_rest_{post_type}_invalid_id" "Invalid ID."
//      status 400; get_items(): `modified_after` / `modified_before` (post_modified[_gmt]),
//      `page`, `per_page`, headers X-WP-Total and X-WP-TotalPages, Link rel=prev/next; a page past
//      the end is an empty array.
//  - permission errors: 'woocommerce_rest_cannot_batch' "Sorry, you are not allowed to batch
//    manipulate this resource." / 'woocommerce_rest_cannot_view' with rest_authorization_required_code()
//    (401 when not logged in); authentication errors 'woocommerce_rest_authentication_error'
//    "Consumer key is invalid." / "Consumer secret is invalid." status 401.
//  - plugins/woocommerce/includes/class-wc-webhook.php
//      deliver(): body = trim(wp_json_encode(payload)) (PHP json_encode: "/" escaped as "\/",
//      non-ASCII as \uXXXX), headers Content-Type, X-WC-Webhook-Source (home_url('/')), -Topic,
//      -Resource, -Event, -Signature (base64 raw HMAC-SHA256 of the body), -ID, -Delivery-ID;
//      user agent "WooCommerce/<v> Hookshot (WordPress/<v>)"; a deleted resource's payload is
//      just {id}; 2xx–302 is success; more than 5 consecutive failures disable the webhook; no
//      retries. deliver_ping(): POST body "webhook_id=N", no signature.
//  - error JSON shape (WP REST): {code, message, data: {status}}; `rest_invalid_param`,
//    `rest_no_route`, `rest_invalid_json` from WordPress core.
//  - docs/channels.md (fields manage_stock, stock_quantity, stock_status, backorders).

import crypto from 'node:crypto';
import {
  startSim, createClock, WriteLog, FaultInjector, json, basicAuth, hmacBase64, postRaw,
  parseVersion, VERSION_HEADER, router, safeEqual,
} from './lib.mjs';

export const WC_VERSION = '9.9.0';
export const WP_VERSION = '6.8';
const NS = '/wp-json/wc/v3';

/** PHP json_encode() default flags, as wp_json_encode() uses them: escapes "/" and non-ASCII. */
export function phpJsonEncode(value) {
  return JSON.stringify(value)
    .replace(/\//g, '\\/')
    .replace(/[\u0080-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

function wpError(status, code, message, extraData = {}) {
  return json(status, { code, message, data: { status, ...extraData } });
}

function invalidParam(name, message, code = 'rest_invalid_param') {
  return wpError(400, code, `Invalid parameter(s): ${name}`, { params: { [name]: message }, details: { [name]: { code: 'rest_invalid_param', message, data: null } } });
}

/** WordPress-style local datetime without offset (the simulated site runs in UTC). */
function wpDate(ms) { return new Date(ms).toISOString().slice(0, 19); }

/** rest_parse_date-ish: RFC 3339 with or without offset; no offset means site time (UTC here). */
function parseWpDate(s) {
  if (typeof s !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$/.test(s)) return NaN;
  return Date.parse(/(Z|[+-]\d{2}:?\d{2})$/.test(s) ? s : `${s}Z`);
}

const STOCK_STATUSES = ['instock', 'outofstock', 'onbackorder'];
const BACKORDERS = ['no', 'notify', 'yes'];
export const ORDER_STATUSES = ['pending', 'processing', 'on-hold', 'completed', 'cancelled', 'refunded', 'failed', 'checkout-draft', 'trash'];

/**
 * Starts the WooCommerce simulator.
 *
 * @param opts {port, keys: [{consumerKey, consumerSecret, permissions: 'read'|'write'|'read_write'}],
 *   products: [{id, sku, type: 'simple'|'variable', manage_stock, stock_quantity, backorders,
 *   variations: [{id, sku, manage_stock, stock_quantity}]}], orders: [...], batchLimit = 100,
 *   webhooks: [{id, topic, url, secret}], faults, clock}
 */
export async function startWooCommerceSim(opts = {}) {
  const clock = opts.clock ?? createClock();
  const log = new WriteLog(clock);
  const faults = new FaultInjector(opts.faults ?? {});
  const keys = opts.keys ?? [{ consumerKey: 'ck_sim_key', consumerSecret: 'cs_sim_secret', permissions: 'read_write' }];
  const batchLimit = opts.batchLimit ?? 100;

  const products = new Map(); // id -> product (simple/variable)
  const variations = new Map(); // id -> variation (with parent_id)
  const orders = new Map();
  const webhooks = [];
  const deliveries = [];
  const pending = new Set();
  let nextId = 5000;
  let nextOrderId = 100;
  let nextLineId = 1;
  let sim;

  const nowMs = () => clock.now();

  function computeStockStatus(p) {
    if (!p.manage_stock) { p.stock_quantity = null; return; }
    if (p.stock_quantity > 0) p.stock_status = 'instock';
    else p.stock_status = p.backorders === 'no' ? 'outofstock' : 'onbackorder';
  }

  function newProduct(src, type = src.type ?? 'simple') {
    const t = nowMs();
    const p = {
      id: Number(src.id ?? ++nextId),
      name: src.name ?? src.sku ?? `Product ${src.id}`,
      type,
      status: 'publish',
      sku: src.sku ?? '',
      price: src.price ?? '10.00',
      regular_price: src.regular_price ?? src.price ?? '10.00',
      manage_stock: src.manage_stock ?? (src.stock_quantity !== undefined && src.stock_quantity !== null),
      stock_quantity: src.stock_quantity ?? null,
      stock_status: src.stock_status ?? 'instock',
      backorders: src.backorders ?? 'no',
      created: t,
      modified: t,
      meta_data: src.meta_data ?? [],
    };
    computeStockStatus(p);
    return p;
  }

  function addProduct(src) {
    const p = newProduct(src);
    products.set(p.id, p);
    p.variationIds = [];
    for (const v of src.variations ?? []) addVariation(p.id, v);
    if (p.variationIds.length && p.type === 'simple') p.type = 'variable';
    return p.id;
  }

  function addVariation(parentId, src) {
    const parent = products.get(Number(parentId));
    if (!parent) throw new Error(`no product ${parentId}`);
    const v = newProduct(src, 'variation');
    v.parent_id = parent.id;
    variations.set(v.id, v);
    parent.variationIds.push(v.id);
    return v.id;
  }

  function productJson(p) {
    const base = {
      id: p.id,
      name: p.name,
      type: p.type,
      status: p.status,
      sku: p.sku,
      price: p.price,
      regular_price: p.regular_price,
      date_created: wpDate(p.created),
      date_created_gmt: wpDate(p.created),
      date_modified: wpDate(p.modified),
      date_modified_gmt: wpDate(p.modified),
      manage_stock: p.manage_stock,
      stock_quantity: p.stock_quantity,
      stock_status: p.stock_status,
      backorders: p.backorders,
      backorders_allowed: p.backorders !== 'no',
      backordered: p.manage_stock && p.stock_quantity !== null && p.stock_quantity < 0 && p.backorders !== 'no',
      meta_data: p.meta_data,
    };
    if (p.type === 'variation') return { ...base, parent_id: p.parent_id };
    return { ...base, parent_id: 0, variations: p.variationIds ?? [] };
  }

  for (const p of opts.products ?? []) addProduct(p);

  // ---------------------------------------------------------------- auth

  /** Returns null when allowed, else the WP error response. */
  function authenticate(ctx, need, cannot) {
    let ck;
    let cs;
    const b = basicAuth(ctx.headers.authorization);
    if (b) { ck = b.user; cs = b.pass; } else if (ctx.query.get('consumer_key')) { ck = ctx.query.get('consumer_key'); cs = ctx.query.get('consumer_secret'); }
    if (!ck) return wpError(401, cannot.code, cannot.message); // not logged in: permission check fails with 401
    const k = keys.find((x) => x.consumerKey === ck);
    if (!k) return wpError(401, 'woocommerce_rest_authentication_error', 'Consumer key is invalid.');
    if (!safeEqual(k.consumerSecret, cs)) return wpError(401, 'woocommerce_rest_authentication_error', 'Consumer secret is invalid.');
    const perm = k.permissions ?? 'read_write';
    if (need === 'write' && perm === 'read') return wpError(401, 'woocommerce_rest_authentication_error', 'The API key provided does not have write permissions.');
    if (need === 'read' && perm === 'write') return wpError(401, 'woocommerce_rest_authentication_error', 'The API key provided does not have read permissions.');
    return null;
  }

  // ---------------------------------------------------------------- batch

  function itemError(id, code, message, status, extra = {}) {
    return { id, error: { code, message, data: { status, ...extra } } };
  }

  function applyUpdate(obj, item, ctx, endpoint) {
    // Type checks the REST schema would do (simulator: reported per item).
    if (item.stock_quantity !== undefined && item.stock_quantity !== null && !Number.isInteger(item.stock_quantity)) {
      return itemError(item.id, 'rest_invalid_param', 'Invalid parameter(s): stock_quantity', 400, { params: { stock_quantity: 'stock_quantity is not of type integer.' } });
    }
    if (item.manage_stock !== undefined && typeof item.manage_stock !== 'boolean' && !(obj.type === 'variation' && item.manage_stock === 'parent')) {
      return itemError(item.id, 'rest_invalid_param', 'Invalid parameter(s): manage_stock', 400, { params: { manage_stock: 'manage_stock is not of type boolean.' } });
    }
    if (item.stock_status !== undefined && !STOCK_STATUSES.includes(item.stock_status)) {
      return itemError(item.id, 'rest_invalid_param', 'Invalid parameter(s): stock_status', 400, { params: { stock_status: `stock_status is not one of ${STOCK_STATUSES.join(', ')}.` } });
    }
    if (item.backorders !== undefined && !BACKORDERS.includes(item.backorders)) {
      return itemError(item.id, 'rest_invalid_param', 'Invalid parameter(s): backorders', 400, { params: { backorders: `backorders is not one of ${BACKORDERS.join(', ')}.` } });
    }
    const before = obj.stock_quantity;
    if (item.manage_stock !== undefined) obj.manage_stock = item.manage_stock === true;
    if (item.backorders !== undefined) obj.backorders = item.backorders;
    if (item.stock_status !== undefined && !obj.manage_stock) obj.stock_status = item.stock_status;
    if (item.stock_quantity !== undefined) obj.stock_quantity = item.stock_quantity;
    if (item.sku !== undefined) obj.sku = String(item.sku);
    if (item.name !== undefined) obj.name = String(item.name);
    if (item.regular_price !== undefined) { obj.regular_price = String(item.regular_price); obj.price = obj.regular_price; }
    if (Array.isArray(item.meta_data)) {
      for (const m of item.meta_data) {
        const i = obj.meta_data.findIndex((x) => x.key === m.key);
        if (i >= 0) obj.meta_data[i] = { ...obj.meta_data[i], value: m.value };
        else obj.meta_data.push({ id: obj.meta_data.length + 1, key: m.key, value: m.value });
      }
    }
    computeStockStatus(obj); // stock_quantity is dropped (null) when stock is not managed
    obj.modified = nowMs();
    // The write log records stock writes that took effect: stock_quantity was sent and is managed.
    if (item.stock_quantity !== undefined && obj.manage_stock) {
      const metaVersion = Array.isArray(item.meta_data) ? item.meta_data.find((m) => m.key === 'stockedge_version')?.value : undefined;
      log.record(String(obj.id), {
        value: obj.stock_quantity,
        version: parseVersion(metaVersion ?? ctx.headers[VERSION_HEADER]),
        previous: before,
        sku: obj.sku || null,
        parent_id: obj.type === 'variation' ? obj.parent_id : 0,
        endpoint,
        requestId: ctx.requestId,
      });
    }
    return productJson(obj);
  }

  async function batch(ctx, parentId) {
    const cannot = { code: 'woocommerce_rest_cannot_batch', message: 'Sorry, you are not allowed to batch manipulate this resource.' };
    const denied = authenticate(ctx, 'write', cannot);
    if (denied) return denied;
    let body;
    try { body = ctx.rawBody.length ? ctx.json() : {}; } catch (e) {
      return wpError(400, 'rest_invalid_json', 'Invalid JSON body passed.', { json_error_code: 4, json_error_message: 'Syntax error' });
    }
    if (body === null || typeof body !== 'object' || Array.isArray(body)) body = {};
    const count = (k) => (Array.isArray(body[k]) ? body[k].length : 0);
    const total = count('create') + count('update') + count('delete');
    if (total > batchLimit) {
      return wpError(413, 'woocommerce_rest_request_entity_too_large', `Unable to accept more than ${batchLimit} items for this request.`);
    }
    const postType = parentId === undefined ? 'product' : 'product_variation';
    const endpoint = parentId === undefined ? 'products/batch' : `products/${parentId}/variations/batch`;
    const parent = parentId === undefined ? null : products.get(Number(parentId));
    const lookup = (id) => {
      if (parentId === undefined) return products.get(Number(id));
      const v = variations.get(Number(id));
      // Choice: a variation of another product (or an unknown parent) is an unknown id.
      return v && parent && v.parent_id === parent.id ? v : undefined;
    };
    const out = {};
    if (Array.isArray(body.create) && body.create.length) {
      out.create = body.create.map((item) => {
        if (item?.id) return itemError(0, `woocommerce_rest_${postType}_exists`, `Cannot create existing ${postType}.`, 400);
        if (parentId !== undefined && !parent) return itemError(0, `woocommerce_rest_${postType}_invalid_id`, 'Invalid ID.', 404);
        const id = parentId === undefined ? addProduct(item ?? {}) : addVariation(parent.id, item ?? {});
        const obj = parentId === undefined ? products.get(id) : variations.get(id);
        if (item?.stock_quantity !== undefined && obj.manage_stock) {
          log.record(String(id), { value: obj.stock_quantity, version: parseVersion(ctx.headers[VERSION_HEADER]), previous: null, sku: obj.sku || null, parent_id: obj.parent_id ?? 0, endpoint, requestId: ctx.requestId });
        }
        return productJson(obj);
      });
    }
    if (Array.isArray(body.update) && body.update.length) {
      out.update = body.update.map((item) => {
        const id = item?.id;
        if (parentId === undefined && variations.has(Number(id))) {
          return itemError(Number(id), 'woocommerce_rest_invalid_product_id', 'To manipulate product variations you should use the /products/<product_id>/variations/<id> endpoint.', 404);
        }
        const obj = lookup(id);
        if (!obj) return itemError(id ?? 0, `woocommerce_rest_${postType}_invalid_id`, 'Invalid ID.', 400);
        return applyUpdate(obj, item, ctx, endpoint);
      });
    }
    if (Array.isArray(body.delete) && body.delete.length) {
      out.delete = [];
      for (const raw of body.delete) {
        const id = Number(raw);
        if (id === 0) continue;
        const obj = lookup(id);
        if (!obj) { out.delete.push(itemError(id, `woocommerce_rest_${postType}_invalid_id`, 'Invalid ID.', 404)); continue; }
        const snapshot = productJson(obj);
        if (obj.type === 'variation') { variations.delete(id); const p = products.get(obj.parent_id); if (p) p.variationIds = p.variationIds.filter((x) => x !== id); } else products.delete(id);
        out.delete.push(snapshot);
      }
    }
    return json(200, out);
  }

  // ---------------------------------------------------------------- orders

  function orderJson(o) {
    return {
      id: o.id,
      parent_id: 0,
      number: String(o.id),
      order_key: o.order_key,
      created_via: o.created_via,
      version: WC_VERSION,
      status: o.status,
      currency: o.currency,
      date_created: wpDate(o.created),
      date_created_gmt: wpDate(o.created),
      date_modified: wpDate(o.modified),
      date_modified_gmt: wpDate(o.modified),
      date_paid: o.paid ? wpDate(o.paid) : null,
      date_paid_gmt: o.paid ? wpDate(o.paid) : null,
      date_completed: o.completed ? wpDate(o.completed) : null,
      date_completed_gmt: o.completed ? wpDate(o.completed) : null,
      total: o.line_items.reduce((s, li) => s + Number(li.total), 0).toFixed(2),
      customer_id: 0,
      payment_method: 'bacs',
      line_items: o.line_items.map((li) => ({ ...li })),
      refunds: o.refunds.map((r) => ({ ...r })),
      meta_data: [],
    };
  }

  function addOrder({ id = ++nextOrderId, status = 'processing', line_items = [], currency = 'USD', created_via = 'checkout', createdAt } = {}) {
    if (!ORDER_STATUSES.includes(status)) throw new Error(`unknown order status ${status}`);
    const t = createdAt ? Date.parse(createdAt) : nowMs();
    const o = {
      id: Number(id),
      order_key: `wc_order_${crypto.randomBytes(6).toString('hex')}`,
      created_via,
      status,
      currency,
      created: t,
      modified: t,
      paid: ['processing', 'completed'].includes(status) ? t : null,
      completed: status === 'completed' ? t : null,
      line_items: line_items.map((li) => ({
        id: li.id ?? nextLineId++,
        name: li.name ?? li.sku ?? 'Item',
        product_id: li.product_id ?? 0,
        variation_id: li.variation_id ?? 0,
        quantity: li.quantity,
        tax_class: '',
        subtotal: (Number(li.price ?? 10) * li.quantity).toFixed(2),
        total: (Number(li.price ?? 10) * li.quantity).toFixed(2),
        sku: li.sku ?? '',
        price: Number(li.price ?? 10),
        meta_data: [],
      })),
      refunds: [],
    };
    orders.set(o.id, o);
    fire('order.created', o);
    return orderJson(o);
  }

  function updateOrder(id, changes = {}) {
    const o = orders.get(Number(id));
    if (!o) throw new Error(`no order ${id}`);
    if (changes.status !== undefined) {
      if (!ORDER_STATUSES.includes(changes.status)) throw new Error(`unknown order status ${changes.status}`);
      o.status = changes.status;
      if (changes.status === 'completed') o.completed = nowMs();
      if (['processing', 'completed'].includes(changes.status) && !o.paid) o.paid = nowMs();
    }
    if (Array.isArray(changes.refunds)) {
      for (const r of changes.refunds) o.refunds.push({ id: r.id ?? nextLineId++, reason: r.reason ?? '', total: `-${Math.abs(Number(r.total ?? 0)).toFixed(2)}` });
    }
    if (Array.isArray(changes.line_items)) {
      for (const c of changes.line_items) {
        const li = o.line_items.find((x) => x.id === c.id);
        if (li && c.quantity !== undefined) li.quantity = c.quantity;
      }
    }
    o.modified = changes.modifiedAt ? Date.parse(changes.modifiedAt) : nowMs();
    fire('order.updated', o);
    return orderJson(o);
  }

  function deleteOrder(id) {
    const o = orders.get(Number(id));
    if (!o) throw new Error(`no order ${id}`);
    orders.delete(o.id);
    fire('order.deleted', o);
    return { id: o.id };
  }

  function listOrders(ctx) {
    const denied = authenticate(ctx, 'read', { code: 'woocommerce_rest_cannot_view', message: 'Sorry, you cannot list resources.' });
    if (denied) return denied;
    const q = ctx.query;
    const page = q.has('page') ? Number(q.get('page')) : 1;
    if (!Number.isInteger(page) || page < 1) return invalidParam('page', 'page must be greater than or equal to 1');
    const perPage = q.has('per_page') ? Number(q.get('per_page')) : 10;
    if (!Number.isInteger(perPage) || perPage < 1 || perPage > 100) return invalidParam('per_page', 'per_page must be between 1 (inclusive) and 100 (inclusive)');
    const bounds = {};
    for (const name of ['after', 'before', 'modified_after', 'modified_before']) {
      if (!q.has(name)) continue;
      const t = parseWpDate(q.get(name));
      if (Number.isNaN(t)) return invalidParam(name, 'Invalid date.');
      bounds[name] = t;
    }
    const orderBy = q.get('orderby') ?? 'date';
    if (!['date', 'id', 'include', 'title', 'slug', 'modified'].includes(orderBy)) return invalidParam('orderby', 'orderby is not one of date, id, include, title, slug, modified.');
    const dir = q.get('order') ?? 'desc';
    if (!['asc', 'desc'].includes(dir)) return invalidParam('order', 'order is not one of asc, desc.');
    const statusParam = (q.get('status') ?? 'any').split(',').map((s) => s.trim()).filter(Boolean);
    let list = [...orders.values()].filter((o) => {
      if (statusParam.includes('any')) { if (['trash', 'checkout-draft'].includes(o.status)) return false; } else if (!statusParam.includes(o.status)) return false;
      // WP date_query 'after'/'before' are exclusive.
      if (bounds.after !== undefined && !(o.created > bounds.after)) return false;
      if (bounds.before !== undefined && !(o.created < bounds.before)) return false;
      if (bounds.modified_after !== undefined && !(o.modified > bounds.modified_after)) return false;
      if (bounds.modified_before !== undefined && !(o.modified < bounds.modified_before)) return false;
      return true;
    });
    const keyOf = (o) => (orderBy === 'modified' ? o.modified : orderBy === 'date' ? o.created : o.id);
    // 'date'/'modified' sort by date then ID, for stable pagination (as the CRUD controller does).
    list.sort((a, b) => (keyOf(a) - keyOf(b)) || (a.id - b.id));
    if (dir === 'desc') list.reverse();
    const total = list.length;
    const totalPages = Math.ceil(total / perPage);
    const pageItems = list.slice((page - 1) * perPage, page * perPage).map(orderJson);
    const headers = { 'x-wp-total': String(total), 'x-wp-totalpages': String(totalPages) };
    const base = new URL(`${sim.url}${NS}/orders`);
    for (const [k, v] of q) if (k !== 'consumer_key' && k !== 'consumer_secret') base.searchParams.set(k, v);
    const links = [];
    if (page > 1) { const u = new URL(base); u.searchParams.set('page', String(Math.min(page - 1, Math.max(totalPages, 1)))); links.push(`<${u}>; rel="prev"`); }
    if (totalPages > page) { const u = new URL(base); u.searchParams.set('page', String(page + 1)); links.push(`<${u}>; rel="next"`); }
    if (links.length) headers.link = links.join(', ');
    return json(200, pageItems, headers);
  }

  // ---------------------------------------------------------------- webhooks on order changes

  function fire(topic, o) {
    for (const w of webhooks) {
      if (w.status !== 'active' || w.topic !== topic) continue;
      const payload = topic.endsWith('.deleted') ? { id: o.id } : orderJson(o);
      const p = sendWebhook(w.url, topic, payload, { secret: w.secret, webhookId: w.id, source: `${sim?.url ?? 'http://127.0.0.1'}/` }).then((r) => {
        const success = r.status >= 200 && r.status < 303;
        if (success) w.failure_count = 0;
        else if (w.failure_count > 5) w.status = 'disabled';
        else w.failure_count += 1;
        deliveries.push({ webhookId: w.id, topic, orderId: o.id, status: r.status, error: r.error ?? null, deliveryId: r.deliveryId });
        return r;
      });
      pending.add(p);
      p.finally(() => pending.delete(p));
    }
  }

  // ---------------------------------------------------------------- reads (to re-read stock)

  function getProduct(ctx) {
    const denied = authenticate(ctx, 'read', { code: 'woocommerce_rest_cannot_view', message: 'Sorry, you cannot view this resource.' });
    if (denied) return denied;
    const p = products.get(Number(ctx.params.id));
    if (!p) return wpError(404, 'woocommerce_rest_product_invalid_id', 'Invalid ID.');
    return json(200, productJson(p));
  }

  function getVariation(ctx) {
    const denied = authenticate(ctx, 'read', { code: 'woocommerce_rest_cannot_view', message: 'Sorry, you cannot view this resource.' });
    if (denied) return denied;
    const v = variations.get(Number(ctx.params.vid));
    if (!v || v.parent_id !== Number(ctx.params.id)) return wpError(404, 'woocommerce_rest_product_variation_invalid_id', 'Invalid ID.');
    return json(200, productJson(v));
  }

  function getOrder(ctx) {
    const denied = authenticate(ctx, 'read', { code: 'woocommerce_rest_cannot_view', message: 'Sorry, you cannot view this resource.' });
    if (denied) return denied;
    const o = orders.get(Number(ctx.params.id));
    if (!o) return wpError(404, 'woocommerce_rest_shop_order_invalid_id', 'Invalid ID.');
    return json(200, orderJson(o));
  }

  const handler = router([
    ['POST', `${NS}/products/batch`, (ctx) => batch(ctx, undefined)],
    ['PUT', `${NS}/products/batch`, (ctx) => batch(ctx, undefined)],
    ['POST', `${NS}/products/:id/variations/batch`, (ctx) => batch(ctx, ctx.params.id)],
    ['PUT', `${NS}/products/:id/variations/batch`, (ctx) => batch(ctx, ctx.params.id)],
    ['GET', `${NS}/products/:id`, getProduct],
    ['GET', `${NS}/products/:id/variations/:vid`, getVariation],
    ['GET', `${NS}/orders`, listOrders],
    ['GET', `${NS}/orders/:id`, getOrder],
  ], { notFound: () => wpError(404, 'rest_no_route', 'No route was found matching the URL and request method.') });

  sim = await startSim(handler, {
    port: opts.port ?? 0,
    name: 'woocommerce',
    clock,
    log,
    faults,
    state: () => ({
      quantities: Object.fromEntries([...products.values(), ...variations.values()].filter((p) => p.manage_stock).map((p) => [String(p.id), p.stock_quantity])),
      products: [...products.values()].map((p) => ({ ...productJson(p), variations: (p.variationIds ?? []).map((id) => productJson(variations.get(id))) })),
      orders: [...orders.values()].map(orderJson),
      webhooks: webhooks.map((w) => ({ id: w.id, topic: w.topic, status: w.status, failure_count: w.failure_count })),
    }),
    errorResponse: (kind, ctx, fault) => {
      // WooCommerce core does not rate-limit wc/v3; a 429 comes from the host in front of it.
      if (kind === '429') return json(429, { code: 'too_many_requests', message: 'Too many requests.', data: { status: 429 } }, { 'retry-after': String(fault.retryAfterSeconds) });
      if (kind === '503') return json(503, { code: 'service_unavailable', message: 'Service temporarily unavailable.', data: { status: 503 } }, { 'retry-after': String(fault.retryAfterSeconds) });
      return json(500, { code: 'internal_server_error', message: 'There has been a critical error on this website.', data: { status: 500 } });
    },
  });

  for (const w of opts.webhooks ?? []) webhooks.push({ id: w.id ?? webhooks.length + 1, topic: w.topic, url: w.url, secret: w.secret ?? 'wc-sim-webhook-secret', status: 'active', failure_count: 0 });
  for (const o of opts.orders ?? []) addOrder(o);

  return Object.assign(sim, {
    apiBase: `${sim.url}${NS}`,
    siteUrl: `${sim.url}/`,
    consumerKey: keys[0].consumerKey,
    consumerSecret: keys[0].consumerSecret,
    authHeader: `Basic ${Buffer.from(`${keys[0].consumerKey}:${keys[0].consumerSecret}`).toString('base64')}`,
    addProduct,
    addVariation,
    product: (id) => { const p = products.get(Number(id)) ?? variations.get(Number(id)); return p ? productJson(p) : undefined; },
    stockOf: (id) => (products.get(Number(id)) ?? variations.get(Number(id)))?.stock_quantity,
    /** A merchant's edit in wp-admin: sets a product's or variation's `stock_quantity` directly (not an API write: not in the write log, no webhook). Returns the new value. */
    setStock(id, quantity) {
      const p = products.get(Number(id)) ?? variations.get(Number(id));
      if (!p) throw new Error(`no product or variation ${id}`);
      p.stock_quantity = quantity;
      p.manage_stock = true;
      return p.stock_quantity;
    },
    addOrder,
    updateOrder,
    setOrderStatus: (id, status) => updateOrder(id, { status }),
    deleteOrder,
    order: (id) => { const o = orders.get(Number(id)); return o ? orderJson(o) : undefined; },
    addWebhook({ id = webhooks.length + 1, topic, url, secret = 'wc-sim-webhook-secret' }) { const w = { id, topic, url, secret, status: 'active', failure_count: 0 }; webhooks.push(w); return w; },
    webhooks,
    deliveries,
    async flushWebhooks() { await Promise.all([...pending]); },
  });
}

// ---------------------------------------------------------------------------------------------
// Webhook sender

/**
 * Sends a WooCommerce webhook: body = trim(wp_json_encode(payload)) unless `payload` is a string
 * (sent as is), with the X-WC-Webhook-* headers and a base64 HMAC-SHA256 signature.
 */
export async function sendWebhook(targetUrl, topic, payload, {
  secret = 'wc-sim-webhook-secret',
  webhookId = 1,
  deliveryId = crypto.createHash('md5').update(`${webhookId}${Date.now()}${crypto.randomUUID()}`).digest('hex'),
  source = 'http://127.0.0.1/',
  timeoutMs = 60_000,
  signature,
} = {}) {
  const body = typeof payload === 'string' ? payload : phpJsonEncode(payload).trim();
  const [resource, event] = topic.split('.');
  const sig = signature ?? hmacBase64(secret, body);
  const headers = {
    'content-type': 'application/json',
    'user-agent': `WooCommerce/${WC_VERSION} Hookshot (WordPress/${WP_VERSION})`,
    'x-wc-webhook-source': source,
    'x-wc-webhook-topic': topic,
    'x-wc-webhook-resource': resource,
    'x-wc-webhook-event': event,
    'x-wc-webhook-signature': sig,
    'x-wc-webhook-id': String(webhookId),
    'x-wc-webhook-delivery-id': deliveryId,
  };
  const r = await postRaw(targetUrl, { headers, body, timeoutMs });
  return { ...r, body, signature: sig, deliveryId, sent: { headers } };
}

/** The creation ping: form-encoded `webhook_id=N`, no signature, no X-WC-Webhook-* headers. */
export async function sendPing(targetUrl, webhookId = 1, { timeoutMs = 60_000 } = {}) {
  const body = `webhook_id=${webhookId}`;
  const headers = {
    'content-type': 'application/x-www-form-urlencoded; charset=UTF-8',
    'user-agent': `WooCommerce/${WC_VERSION} Hookshot (WordPress/${WP_VERSION})`,
  };
  const r = await postRaw(targetUrl, { headers, body, timeoutMs });
  return { ...r, body, sent: { headers } };
}
