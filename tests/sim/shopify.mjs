// Shopify Admin GraphQL simulator (inventory only) + webhook sender.
//
// Built from (stored copies, checked with the `search` tool):
//  - inventorySetQuantities, InventorySetQuantitiesInput, InventoryQuantityInput, payload, user
//    errors and the InventorySetQuantitiesUserErrorCode enum:
//      https://shopify.dev/docs/api/admin-graphql/latest/mutations/inventorySetQuantities
//      https://shopify.dev/docs/api/admin-graphql/latest/input-objects/InventorySetQuantitiesInput
//      https://shopify.dev/docs/api/admin-graphql/latest/enums/InventorySetQuantitiesUserErrorCode
//  - changeFromQuantity (2026-01, optional; overrides compareQuantity/ignoreCompareQuantity) and
//    its finalisation in 2026-04 (mandatory at runtime, `null` skips the check; compareQuantity and
//    ignoreCompareQuantity removed):
//      https://shopify.dev/changelog/compare-and-swap-redesign-for-inventory-set-quantities
//      https://shopify.dev/changelog/finalizing-compare-and-swap-redesign-for-inventory-set-quantities
//  - quantity names and on_hand = available + committed + reserved + damaged + safety_stock +
//    quality_control: https://shopify.dev/docs/api/admin-graphql/latest/objects/InventoryQuantity
//    and /docs/apps/build/inventory-management-apps/manage-quantities-states
//  - cost-based throttling (leaky bucket per app+store, 100 points/s on Standard, scalars 0,
//    objects 1, connections 2 + first, single query max 1000, `extensions.cost.throttleStatus`,
//    `{errors:[{message:"Throttled", extensions:{code:"THROTTLED"}}]}`):
//      https://shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits
//      https://shopify.dev/docs/api/usage/limits
//  - webhook headers and HMAC: https://shopify.dev/docs/apps/build/webhooks/delivery-structure
//    (X-Shopify-Topic, -Hmac-Sha256, -Shop-Domain, -API-Version, -Webhook-Id, -Triggered-At,
//    -Event-Id); signature = base64(HMAC-SHA256(client secret, raw body)).
//  - webhook payloads are the REST resources (orders, refunds with refund_line_items and
//    restock_type return|cancel|no_restock, inventory_levels/update with an InventoryLevel GID
//    carrying `?inventory_item_id=`): /docs/api/webhooks and the REST Refund/InventoryLevel
//    resources; docs/channels.md.
//
// Where the docs are silent the choice is written next to the code and listed in README.md.

import crypto from 'node:crypto';
import {
  startSim, createClock, WriteLog, FaultInjector, TokenBucket, json, hmacBase64, postRaw,
  parseVersion, VERSION_HEADER, router,
} from './lib.mjs';
import { parse, selectOperation, validateAndCost, execute, GraphQLError, argsToJs } from './graphql.mjs';

export const DEFAULT_API_VERSION = '2026-04';

/** Reasons accepted by inventorySetQuantities ("possible reasons" in manage-quantities-states). */
export const REASONS = [
  'correction', 'cycle_count_available', 'damaged', 'movement_created', 'movement_updated',
  'movement_received', 'movement_canceled', 'other', 'promotion', 'quality_control', 'received',
  'reservation_created', 'reservation_deleted', 'reservation_updated', 'restock', 'safety_stock',
  'shrinkage',
];

export const QUANTITY_NAMES = ['available', 'committed', 'reserved', 'incoming', 'damaged', 'quality_control', 'safety_stock', 'on_hand'];
const ON_HAND_PARTS = ['available', 'committed', 'reserved', 'damaged', 'safety_stock', 'quality_control'];

const MAX_QUERY_COST = 1000;
const QTY_MAX = 1_000_000_000;

export const gid = {
  item: (id) => `gid://shopify/InventoryItem/${id}`,
  location: (id) => `gid://shopify/Location/${id}`,
  // The InventoryLevel GID carries the location id and the item id as a query string.
  level: (itemId, locationId) => `gid://shopify/InventoryLevel/${locationId}?inventory_item_id=${itemId}`,
  order: (id) => `gid://shopify/Order/${id}`,
  lineItem: (id) => `gid://shopify/LineItem/${id}`,
  refund: (id) => `gid://shopify/Refund/${id}`,
};

/** Parses `gid://shopify/Type/123[?query]` → {type, id, query} or null. */
export function parseGid(s) {
  const m = /^gid:\/\/shopify\/([A-Za-z]+)\/(\d+)(?:\?(.*))?$/.exec(String(s ?? ''));
  if (!m) return null;
  return { type: m[1], id: m[2], query: new URLSearchParams(m[3] ?? '') };
}

/** 'unstable' sorts after every dated version. */
function versionAtLeast(v, min) {
  if (v === 'unstable') return true;
  return v >= min;
}

const SCHEMA = {
  scalars: new Set(['DateTime', 'URL', 'UnsignedInt64']),
  types: {
    QueryRoot: {
      inventoryItem: { type: 'InventoryItem', required: ['id'] },
      inventoryLevel: { type: 'InventoryLevel', required: ['id'] },
      location: { type: 'Location' },
      inventoryItems: { type: 'InventoryItemConnection', connection: true },
    },
    Mutation: {
      inventorySetQuantities: { type: 'InventorySetQuantitiesPayload', cost: 10, required: ['input'] },
    },
    InventorySetQuantitiesPayload: {
      inventoryAdjustmentGroup: { type: 'InventoryAdjustmentGroup' },
      userErrors: { type: '[InventorySetQuantitiesUserError]', cost: 0 },
    },
    InventorySetQuantitiesUserError: {
      code: { type: 'InventorySetQuantitiesUserErrorCode', enum: true },
      field: { type: '[String]' },
      message: { type: 'String' },
    },
    InventoryAdjustmentGroup: {
      id: { type: 'ID' }, createdAt: { type: 'DateTime' }, reason: { type: 'String' },
      referenceDocumentUri: { type: 'URL' }, changes: { type: '[InventoryChange]' },
    },
    InventoryChange: {
      name: { type: 'String' }, delta: { type: 'Int' }, quantityAfterChange: { type: 'Int' },
      ledgerDocumentUri: { type: 'URL' }, item: { type: 'InventoryItem' }, location: { type: 'Location' },
    },
    InventoryItem: {
      id: { type: 'ID' }, legacyResourceId: { type: 'UnsignedInt64' }, sku: { type: 'String' },
      tracked: { type: 'Boolean' }, createdAt: { type: 'DateTime' }, updatedAt: { type: 'DateTime' },
      inventoryLevel: { type: 'InventoryLevel', required: ['locationId'] },
      inventoryLevels: { type: 'InventoryLevelConnection', connection: true },
    },
    InventoryLevel: {
      id: { type: 'ID' }, quantities: { type: '[InventoryQuantity]', required: ['names'] },
      item: { type: 'InventoryItem' }, location: { type: 'Location' },
      createdAt: { type: 'DateTime' }, updatedAt: { type: 'DateTime' },
    },
    InventoryQuantity: { id: { type: 'ID' }, name: { type: 'String' }, quantity: { type: 'Int' }, updatedAt: { type: 'DateTime' } },
    Location: { id: { type: 'ID' }, legacyResourceId: { type: 'UnsignedInt64' }, name: { type: 'String' }, isActive: { type: 'Boolean' } },
    InventoryLevelConnection: { edges: { type: '[InventoryLevelEdge]' }, nodes: { type: '[InventoryLevel]' }, pageInfo: { type: 'PageInfo' } },
    InventoryLevelEdge: { cursor: { type: 'String' }, node: { type: 'InventoryLevel' } },
    InventoryItemConnection: { edges: { type: '[InventoryItemEdge]' }, nodes: { type: '[InventoryItem]' }, pageInfo: { type: 'PageInfo' } },
    InventoryItemEdge: { cursor: { type: 'String' }, node: { type: 'InventoryItem' } },
    PageInfo: { hasNextPage: { type: 'Boolean' }, hasPreviousPage: { type: 'Boolean' }, startCursor: { type: 'String' }, endCursor: { type: 'String' } },
  },
};

/**
 * Starts the Shopify simulator.
 *
 * @param opts {port, accessTokens = ['shpat_sim_token'], shopDomain, clientSecret (for webhooks),
 *   throttle: {maximumAvailable = 2000, restoreRate = 100}, throttleStatusCode = 200,
 *   locations: [{id, name}], items: [{id, sku, tracked, levels: {locationId: {available, …}}}],
 *   webhooks: [{topic, url, secret?, apiVersion?}], faults, clock}
 */
export async function startShopifySim(opts = {}) {
  const clock = opts.clock ?? createClock();
  const log = new WriteLog(clock);
  const faults = new FaultInjector(opts.faults ?? {});
  const shopDomain = opts.shopDomain ?? 'stockedge-sim.myshopify.com';
  const tokens = new Set(opts.accessTokens ?? ['shpat_sim_token']);
  const clientSecret = opts.clientSecret ?? 'shopify-sim-client-secret';
  // Docs give the restore rate (Standard plan 100 points/s) but not the bucket size; 2000 is a
  // choice (it must be ≥ the 1000-point single-query maximum).
  const throttle = { maximumAvailable: 2000, restoreRate: 100, ...(opts.throttle ?? {}) };
  let bucket = new TokenBucket({ rate: throttle.restoreRate, burst: throttle.maximumAvailable, clock });
  // Docs are silent on the HTTP status of a throttled GraphQL call (community reports both 200
  // and 429); the body is always the documented THROTTLED error. Default 200; set 429 to test.
  let throttleStatusCode = opts.throttleStatusCode ?? 200;

  const items = new Map();
  const locations = new Map();
  const levels = new Map();
  const subscriptions = [];
  const deliveries = [];
  const pending = new Set();
  const idempotency = new Map();
  let groupSeq = 7000;
  let nextItemId = 900000;

  const key = (itemId, locationId) => `${itemId}:${locationId}`;
  const now = () => new Date(clock.now()).toISOString();

  function onHand(q) { return ON_HAND_PARTS.reduce((s, n) => s + (q[n] ?? 0), 0); }
  function quantityOf(lvl, name) { return name === 'on_hand' ? onHand(lvl.q) : (lvl.q[name] ?? 0); }

  function addLocation({ id, name = `Location ${id}`, isActive = true }) {
    locations.set(String(id), { id: String(id), name, isActive });
    return gid.location(id);
  }

  function addItem({ id = ++nextItemId, sku = null, tracked = true, levels: lv = {} } = {}) {
    const t = now();
    items.set(String(id), { id: String(id), sku, tracked, createdAt: t, updatedAt: t });
    for (const [locId, q] of Object.entries(lv)) stock(id, locId, q);
    return gid.item(id);
  }

  /** Stocks an item at a location (creates the inventory level) with the given quantities. */
  function stock(itemId, locationId, q = {}) {
    if (!locations.has(String(locationId))) addLocation({ id: locationId });
    const k = key(itemId, locationId);
    const t = now();
    const lvl = levels.get(k) ?? { itemId: String(itemId), locationId: String(locationId), q: {}, createdAt: t, updatedAt: t };
    for (const n of QUANTITY_NAMES) if (n !== 'on_hand' && q[n] !== undefined) lvl.q[n] = q[n];
    for (const n of QUANTITY_NAMES) if (n !== 'on_hand' && lvl.q[n] === undefined) lvl.q[n] = 0;
    if (q.on_hand !== undefined) lvl.q.available += q.on_hand - onHand(lvl.q);
    lvl.updatedAt = t;
    levels.set(k, lvl);
    return lvl;
  }

  for (const l of opts.locations ?? [{ id: '1', name: 'Main warehouse' }]) addLocation(l);
  for (const i of opts.items ?? []) addItem(i);
  for (const w of opts.webhooks ?? []) subscriptions.push({ secret: clientSecret, apiVersion: DEFAULT_API_VERSION, ...w });

  // ---------------------------------------------------------------- GraphQL object builders

  function locationObj(id) {
    const l = locations.get(String(id));
    if (!l) return null;
    return { __typename: 'Location', id: gid.location(l.id), legacyResourceId: l.id, name: l.name, isActive: l.isActive };
  }

  function connection(list, args, typename) {
    const first = args.first ?? args.last;
    if (first === undefined) throw new GraphQLError('you must provide one of first or last');
    if (first > 250) throw new GraphQLError('The maximum number of records returned (first/last) is 250.');
    let start = 0;
    if (args.after) start = Number(Buffer.from(String(args.after), 'base64').toString('utf8')) + 1;
    const slice = list.slice(start, start + first);
    const edges = slice.map((node, i) => ({ __typename: `${typename}Edge`, cursor: Buffer.from(String(start + i)).toString('base64'), node }));
    return {
      __typename: `${typename}Connection`,
      edges,
      nodes: slice,
      pageInfo: {
        __typename: 'PageInfo',
        hasNextPage: start + first < list.length,
        hasPreviousPage: start > 0,
        startCursor: edges[0]?.cursor ?? null,
        endCursor: edges[edges.length - 1]?.cursor ?? null,
      },
    };
  }

  function levelObj(itemId, locationId) {
    const lvl = levels.get(key(itemId, locationId));
    if (!lvl) return null;
    return {
      __typename: 'InventoryLevel',
      id: gid.level(lvl.itemId, lvl.locationId),
      createdAt: lvl.createdAt,
      updatedAt: lvl.updatedAt,
      quantities: ({ names }) => (names ?? []).map((n) => {
        if (!QUANTITY_NAMES.includes(n)) throw new GraphQLError(`The quantity name '${n}' is not valid.`);
        return { __typename: 'InventoryQuantity', id: `gid://shopify/InventoryQuantity/${lvl.locationId}?inventory_item_id=${lvl.itemId}&name=${n}`, name: n, quantity: quantityOf(lvl, n), updatedAt: lvl.updatedAt };
      }),
      item: () => itemObj(lvl.itemId),
      location: () => locationObj(lvl.locationId),
    };
  }

  function itemObj(id) {
    const it = items.get(String(id));
    if (!it) return null;
    return {
      __typename: 'InventoryItem',
      id: gid.item(it.id),
      legacyResourceId: it.id,
      sku: it.sku,
      tracked: it.tracked,
      createdAt: it.createdAt,
      updatedAt: it.updatedAt,
      inventoryLevel: ({ locationId }) => {
        const g = parseGid(locationId);
        if (!g || g.type !== 'Location') throw new GraphQLError(`Invalid global id '${locationId}'`, { code: 'argumentLiteralsIncompatible' });
        return levelObj(it.id, g.id);
      },
      inventoryLevels: (args) => connection([...levels.values()].filter((l) => l.itemId === it.id).map((l) => levelObj(l.itemId, l.locationId)), args, 'InventoryLevel'),
    };
  }

  // ---------------------------------------------------------------- the mutation

  /** Checks the input against InventorySetQuantitiesInput for this API version (GraphQL level). */
  function checkInputShape(input, version, fromVariable) {
    const problems = [];
    const hasCfq = versionAtLeast(version, '2026-01');
    const hasCompare = !versionAtLeast(version, '2026-04');
    if (input === null || typeof input !== 'object' || Array.isArray(input)) {
      problems.push({ path: [], explanation: 'Expected value to be an object' });
    } else {
      const allowed = new Set(['name', 'reason', 'referenceDocumentUri', 'quantities', ...(hasCompare ? ['ignoreCompareQuantity'] : [])]);
      for (const k of Object.keys(input)) if (!allowed.has(k)) problems.push({ path: [k], explanation: 'Field is not defined on InventorySetQuantitiesInput' });
      if (typeof input.name !== 'string') problems.push({ path: ['name'], explanation: 'Expected value to not be null' });
      if (typeof input.reason !== 'string') problems.push({ path: ['reason'], explanation: 'Expected value to not be null' });
      if (input.referenceDocumentUri !== undefined && input.referenceDocumentUri !== null && typeof input.referenceDocumentUri !== 'string') problems.push({ path: ['referenceDocumentUri'], explanation: 'Could not coerce value to URL' });
      if (input.ignoreCompareQuantity !== undefined && typeof input.ignoreCompareQuantity !== 'boolean') problems.push({ path: ['ignoreCompareQuantity'], explanation: 'Could not coerce value to Boolean' });
      if (!Array.isArray(input.quantities)) problems.push({ path: ['quantities'], explanation: 'Expected value to not be null' });
      else {
        if (input.quantities.length > 250) problems.push({ path: ['quantities'], explanation: 'Input arrays have a maximum size of 250' });
        input.quantities.forEach((q, i) => {
          if (q === null || typeof q !== 'object') { problems.push({ path: ['quantities', i], explanation: 'Expected value to be an object' }); return; }
          const allowedQ = new Set(['inventoryItemId', 'locationId', 'quantity', ...(hasCfq ? ['changeFromQuantity'] : []), ...(hasCompare ? ['compareQuantity'] : [])]);
          for (const k of Object.keys(q)) if (!allowedQ.has(k)) problems.push({ path: ['quantities', i, k], explanation: 'Field is not defined on InventoryQuantityInput' });
          if (typeof q.inventoryItemId !== 'string') problems.push({ path: ['quantities', i, 'inventoryItemId'], explanation: 'Expected value to not be null' });
          if (typeof q.locationId !== 'string') problems.push({ path: ['quantities', i, 'locationId'], explanation: 'Expected value to not be null' });
          if (!Number.isInteger(q.quantity)) problems.push({ path: ['quantities', i, 'quantity'], explanation: q.quantity === undefined || q.quantity === null ? 'Expected value to not be null' : 'Could not coerce value to Int' });
          for (const f of ['changeFromQuantity', 'compareQuantity']) {
            if (q[f] !== undefined && q[f] !== null && !Number.isInteger(q[f])) problems.push({ path: ['quantities', i, f], explanation: 'Could not coerce value to Int' });
          }
        });
      }
    }
    if (problems.length === 0) return null;
    const p = problems[0];
    if (fromVariable) {
      return new GraphQLError(`Variable $${fromVariable} of type InventorySetQuantitiesInput! was provided invalid value${p.path.length ? ` for ${p.path.join('.')}` : ''} (${p.explanation})`, { code: 'INVALID_VARIABLE', value: input, problems });
    }
    return new GraphQLError(`Argument 'input' on Field 'inventorySetQuantities' has an invalid value. Expected type 'InventorySetQuantitiesInput!'.`, { code: 'argumentLiteralsIncompatible', typeName: 'Field', argumentName: 'input', problems });
  }

  function userError(code, field, message) { return { __typename: 'InventorySetQuantitiesUserError', code, field, message }; }

  /**
   * The caller's version, from (in order): the referenceDocumentUri's `version` query parameter;
   * the last path segment of a `gid://<app>/StockChange/<sku>/<version>` URI (the form StockEdge's
   * adapter sends); the X-StockEdge-Version header.
   */
  function versionFrom(input, headers) {
    const uri = input.referenceDocumentUri;
    if (typeof uri === 'string') {
      const q = uri.split('?')[1];
      if (q) {
        const v = new URLSearchParams(q.split('#')[0]).get('version');
        if (v !== null) return parseVersion(v);
      }
      const m = /\/StockChange\/.+\/(\d+)(?:[?#].*)?$/.exec(uri);
      if (m) return parseVersion(m[1]);
    }
    return parseVersion(headers[VERSION_HEADER]);
  }

  function inventorySetQuantities(input, { version, idempotencyKey, headers, requestId }) {
    // Idempotency (the @idempotent directive; the enum carries IDEMPOTENCY_* codes). Optional here.
    const fingerprint = JSON.stringify(input);
    if (idempotencyKey) {
      const prev = idempotency.get(idempotencyKey);
      if (prev) {
        if (prev.fingerprint !== fingerprint) return { __typename: 'InventorySetQuantitiesPayload', inventoryAdjustmentGroup: null, userErrors: [userError('IDEMPOTENCY_KEY_PARAMETER_MISMATCH', null, 'The same idempotency key cannot be used with different operation parameters.')] };
        return prev.payload;
      }
    }
    const errors = [];
    const base = ['input'];
    if (!['available', 'on_hand'].includes(input.name)) errors.push(userError('INVALID_NAME', [...base, 'name'], "The quantity name must be either 'available' or 'on_hand'."));
    if (!REASONS.includes(input.reason)) errors.push(userError('INVALID_REASON', [...base, 'reason'], 'The specified reason is invalid.'));
    if (typeof input.referenceDocumentUri === 'string' && !/^[A-Za-z][A-Za-z0-9+.-]*:.+/.test(input.referenceDocumentUri)) {
      errors.push(userError('INVALID_REFERENCE_DOCUMENT', [...base, 'referenceDocumentUri'], 'The specified reference document is invalid.'));
    }
    const seen = new Set();
    const planned = [];
    input.quantities.forEach((q, i) => {
      const f = [...base, 'quantities', String(i)];
      const ig = parseGid(q.inventoryItemId);
      const lg = parseGid(q.locationId);
      if (!ig || ig.type !== 'InventoryItem' || !items.has(ig.id)) { errors.push(userError('INVALID_INVENTORY_ITEM', [...f, 'inventoryItemId'], 'The specified inventory item could not be found.')); return; }
      if (!lg || lg.type !== 'Location' || !locations.has(lg.id)) { errors.push(userError('INVALID_LOCATION', [...f, 'locationId'], 'The specified location could not be found.')); return; }
      const lvl = levels.get(key(ig.id, lg.id));
      if (!lvl) { errors.push(userError('ITEM_NOT_STOCKED_AT_LOCATION', [...f, 'locationId'], 'The specified inventory item is not stocked at the location.')); return; }
      const pair = key(ig.id, lg.id);
      if (seen.has(pair)) { errors.push(userError('NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR', [...f], 'The combination of inventoryItemId and locationId must be unique.')); return; }
      seen.add(pair);
      if (q.quantity > QTY_MAX) { errors.push(userError('INVALID_QUANTITY_TOO_HIGH', [...f, 'quantity'], "The total quantity can't be higher than 1,000,000,000.")); return; }
      if (q.quantity < -QTY_MAX) { errors.push(userError('INVALID_QUANTITY_TOO_LOW', [...f, 'quantity'], "The total quantity can't be lower than -1,000,000,000.")); return; }
      // Choice: on_hand may not be negative; available may (oversold), within ±1e9.
      if (input.name === 'on_hand' && q.quantity < 0) { errors.push(userError('INVALID_QUANTITY_NEGATIVE', [...f, 'quantity'], "The quantity can't be negative.")); return; }
      const current = ['available', 'on_hand'].includes(input.name) ? quantityOf(lvl, input.name) : 0;
      // Compare-and-set, by API version.
      const cfqKnown = versionAtLeast(version, '2026-01');
      if (versionAtLeast(version, '2026-04')) {
        if (!Object.prototype.hasOwnProperty.call(q, 'changeFromQuantity')) {
          // Docs: omitting it "will result in an error at runtime"; the code is not documented.
          // Choice: COMPARE_QUANTITY_REQUIRED, the enum's "argument must be given" code.
          errors.push(userError('COMPARE_QUANTITY_REQUIRED', [...f, 'changeFromQuantity'], 'The changeFromQuantity argument must be given to each quantity. Pass null to skip the check.'));
          return;
        }
        if (q.changeFromQuantity !== null && q.changeFromQuantity !== current) {
          errors.push(userError('CHANGE_FROM_QUANTITY_STALE', [...f, 'changeFromQuantity'], 'The changeFromQuantity value does not match persisted value.'));
          return;
        }
      } else if (cfqKnown && Object.prototype.hasOwnProperty.call(q, 'changeFromQuantity')) {
        // 2026-01: passing changeFromQuantity (even null) overrides compareQuantity/ignoreCompareQuantity.
        if (q.changeFromQuantity !== null && q.changeFromQuantity !== current) {
          errors.push(userError('CHANGE_FROM_QUANTITY_STALE', [...f, 'changeFromQuantity'], 'The changeFromQuantity value does not match persisted value.'));
          return;
        }
      } else if (input.ignoreCompareQuantity !== true) {
        if (q.compareQuantity === undefined || q.compareQuantity === null) {
          errors.push(userError('COMPARE_QUANTITY_REQUIRED', [...f, 'compareQuantity'], 'The compareQuantity argument must be given to each quantity or ignored using ignoreCompareQuantity.'));
          return;
        }
        if (q.compareQuantity !== current) {
          errors.push(userError('COMPARE_QUANTITY_STALE', [...f, 'compareQuantity'], 'The compareQuantity value does not match persisted value.'));
          return;
        }
      }
      planned.push({ lvl, quantity: q.quantity, current, changeFromQuantity: q.changeFromQuantity ?? q.compareQuantity ?? null });
    });

    // Choice: all-or-nothing — any user error means nothing is written.
    if (errors.length > 0) {
      const payload = { __typename: 'InventorySetQuantitiesPayload', inventoryAdjustmentGroup: null, userErrors: errors };
      return payload;
    }

    const groupId = ++groupSeq;
    const createdAt = now();
    const changes = [];
    const logVersion = versionFrom(input, headers);
    for (const p of planned) {
      const delta = p.quantity - p.current;
      p.lvl.q.available += delta; // setting on_hand moves available by the same delta
      p.lvl.updatedAt = createdAt;
      const other = input.name === 'available' ? 'on_hand' : 'available';
      changes.push({ name: input.name, delta, quantityAfterChange: quantityOf(p.lvl, input.name), lvl: p.lvl });
      changes.push({ name: other, delta, quantityAfterChange: quantityOf(p.lvl, other), lvl: p.lvl });
      const it = items.get(p.lvl.itemId);
      log.record(key(p.lvl.itemId, p.lvl.locationId), {
        value: quantityOf(p.lvl, input.name),
        version: logVersion,
        reference: input.referenceDocumentUri ?? null,
        name: input.name,
        previous: p.current,
        changeFromQuantity: p.changeFromQuantity,
        available: p.lvl.q.available,
        on_hand: onHand(p.lvl.q),
        sku: it?.sku ?? null,
        inventoryItemId: p.lvl.itemId,
        locationId: p.lvl.locationId,
        reason: input.reason,
        apiVersion: version,
        requestId,
      });
      notify(p.lvl);
    }
    const payload = {
      __typename: 'InventorySetQuantitiesPayload',
      inventoryAdjustmentGroup: {
        __typename: 'InventoryAdjustmentGroup',
        id: `gid://shopify/InventoryAdjustmentGroup/${groupId}`,
        createdAt,
        reason: input.reason,
        referenceDocumentUri: input.referenceDocumentUri ?? null,
        changes: changes.map((c) => ({
          __typename: 'InventoryChange',
          name: c.name,
          delta: c.delta,
          quantityAfterChange: c.quantityAfterChange,
          ledgerDocumentUri: null,
          item: () => itemObj(c.lvl.itemId),
          location: () => locationObj(c.lvl.locationId),
        })),
      },
      userErrors: [],
    };
    if (idempotencyKey) idempotency.set(idempotencyKey, { fingerprint, payload });
    return payload;
  }

  // ---------------------------------------------------------------- webhooks emitted on change

  function notify(lvl) {
    for (const s of subscriptions.filter((x) => x.topic === 'inventory_levels/update')) {
      const payload = inventoryLevelsUpdatePayload({
        inventory_item_id: Number(lvl.itemId),
        location_id: Number(lvl.locationId),
        available: lvl.q.available,
        updated_at: lvl.updatedAt,
      });
      const p = sendWebhook(s.url, s.topic, payload, { secret: s.secret, shopDomain, apiVersion: s.apiVersion })
        .then((r) => { deliveries.push({ topic: s.topic, url: s.url, payload, status: r.status, error: r.error ?? null }); return r; });
      pending.add(p);
      p.finally(() => pending.delete(p));
    }
  }

  // ---------------------------------------------------------------- HTTP

  const UNAUTHORIZED = { errors: '[API] Invalid API key or access token (unrecognized login or wrong password)' };

  function throttleStatus() {
    return { maximumAvailable: bucket.burst, currentlyAvailable: Math.floor(bucket.available()), restoreRate: bucket.rate };
  }

  async function graphqlEndpoint(ctx) {
    const version = ctx.params.version;
    if (!/^\d{4}-(01|04|07|10)$/.test(version) && version !== 'unstable') return json(404, { errors: 'Not Found' });
    const token = ctx.headers['x-shopify-access-token'];
    if (!token || !tokens.has(token)) return json(401, UNAUTHORIZED);

    let query;
    let variables = {};
    let operationName;
    const ct = String(ctx.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (ct === 'application/graphql') {
      query = ctx.text();
    } else {
      try {
        const b = ctx.json();
        query = b?.query;
        variables = b?.variables ?? {};
        operationName = b?.operationName ?? undefined;
      } catch {
        return json(400, { errors: { query: 'Required parameter missing or invalid' } });
      }
    }
    if (typeof query !== 'string' || query.trim() === '') return json(400, { errors: { query: 'Required parameter missing or invalid' } });
    if (variables === null || typeof variables !== 'object' || Array.isArray(variables)) return json(400, { errors: { variables: 'Required parameter missing or invalid' } });

    let doc;
    let op;
    let vars;
    try {
      doc = parse(query);
      ({ op, vars } = selectOperation(doc, operationName, variables));
    } catch (e) {
      return json(200, { errors: [e instanceof GraphQLError ? e.toJSON() : { message: String(e.message) }] });
    }
    if (op.operation === 'subscription') return json(200, { errors: [{ message: 'Subscriptions are not supported' }] });
    const rootType = op.operation === 'mutation' ? 'Mutation' : 'QueryRoot';
    const { errors: verrs, cost } = validateAndCost(SCHEMA, doc, op, vars, rootType);
    if (verrs.length) return json(200, { errors: verrs.map((e) => e.toJSON()) });
    if (cost > MAX_QUERY_COST) {
      return json(200, {
        errors: [{
          message: `Query cost is ${cost}, which exceeds the single query max cost limit (${MAX_QUERY_COST}).`,
          extensions: { code: 'MAX_COST_EXCEEDED', cost, maxCost: MAX_QUERY_COST, documentation: 'https://shopify.dev/api/usage/rate-limits' },
        }],
      });
    }

    // Input-level validation of mutation arguments happens before anything runs (no data).
    let idempotencyKey = null;
    if (op.operation === 'mutation') {
      for (const sel of op.selectionSet) {
        if (sel.kind !== 'Field' || sel.name !== 'inventorySetQuantities') continue;
        const a = argsToJs(sel.args, vars);
        const inputArg = sel.args.find((x) => x.name === 'input');
        const fromVariable = inputArg?.value.kind === 'Variable' ? inputArg.value.name : null;
        const err = checkInputShape(a.input, version, fromVariable);
        if (err) return json(200, { errors: [err.toJSON()] });
        const idem = sel.directives.find((d) => d.name === 'idempotent');
        if (idem) idempotencyKey = argsToJs(idem.args, vars).key ?? null;
      }
    }

    const take = bucket.take(cost);
    if (!take.ok) {
      const body = {
        errors: [{ message: 'Throttled', extensions: { code: 'THROTTLED', documentation: 'https://shopify.dev/api/usage/rate-limits' } }],
        extensions: { cost: { requestedQueryCost: cost, actualQueryCost: null, throttleStatus: throttleStatus() } },
      };
      const headers = throttleStatusCode === 429 ? { 'retry-after': String(take.retryAfterSeconds) } : {};
      return json(throttleStatusCode, body, headers);
    }

    const root = op.operation === 'mutation'
      ? { inventorySetQuantities: ({ input }) => inventorySetQuantities(input, { version, idempotencyKey, headers: ctx.headers, requestId: ctx.requestId }) }
      : {
        inventoryItem: ({ id }) => { const g = parseGid(id); return g?.type === 'InventoryItem' ? itemObj(g.id) : null; },
        inventoryLevel: ({ id }) => {
          const g = parseGid(id);
          if (!g || g.type !== 'InventoryLevel') return null;
          return levelObj(g.query.get('inventory_item_id'), g.id);
        },
        location: ({ id }) => { if (id === undefined) return locationObj([...locations.keys()][0]); const g = parseGid(id); return g?.type === 'Location' ? locationObj(g.id) : null; },
        inventoryItems: (args) => {
          let list = [...items.values()];
          const m = /sku:("?)([^"\s]+)\1/.exec(args.query ?? '');
          if (m) list = list.filter((i) => i.sku === m[2]);
          return connection(list.map((i) => itemObj(i.id)), args, 'InventoryItem');
        },
      };
    const { data, errors } = await execute(doc, op, vars, root, {});
    const body = { data };
    if (errors.length) body.errors = errors.map((e) => e.toJSON());
    body.extensions = { cost: { requestedQueryCost: cost, actualQueryCost: cost, throttleStatus: throttleStatus() } };
    return json(200, body);
  }

  const handler = router([['POST', '/admin/api/:version/graphql.json', graphqlEndpoint]], {
    notFound: (ctx, allowed) => (allowed.length ? json(405, { errors: 'Method Not Allowed' }) : json(404, { errors: 'Not Found' })),
  });

  const sim = await startSim(handler, {
    port: opts.port ?? 0,
    name: 'shopify',
    clock,
    log,
    faults,
    state: () => ({
      shopDomain,
      throttleStatus: throttleStatus(),
      quantities: Object.fromEntries([...levels.values()].map((l) => [key(l.itemId, l.locationId), l.q.available])),
      levels: [...levels.values()].map((l) => ({
        listing: key(l.itemId, l.locationId),
        inventoryItemId: gid.item(l.itemId),
        locationId: gid.location(l.locationId),
        sku: items.get(l.itemId)?.sku ?? null,
        quantities: Object.fromEntries(QUANTITY_NAMES.map((n) => [n, quantityOf(l, n)])),
        updatedAt: l.updatedAt,
      })),
      webhookDeliveries: deliveries.length,
    }),
    errorResponse: (kind, ctx, fault) => {
      if (kind === '429') return json(429, { errors: 'Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service.' }, { 'retry-after': String(fault.retryAfterSeconds) });
      if (kind === '503') return json(503, { errors: 'Unavailable Shop' }, { 'retry-after': String(fault.retryAfterSeconds) });
      return json(500, { errors: 'Internal Server Error' });
    },
  });

  return Object.assign(sim, {
    shopDomain,
    clientSecret,
    accessToken: [...tokens][0],
    graphqlUrl: (version = DEFAULT_API_VERSION) => `${sim.url}/admin/api/${version}/graphql.json`,
    addLocation,
    addItem,
    /** Merchant-side change (not an API write: not in the write log; fires subscribed webhooks). */
    setQuantities(itemId, locationId, q) { const l = stock(itemId, locationId, q); notify(l); return Object.fromEntries(QUANTITY_NAMES.map((n) => [n, quantityOf(l, n)])); },
    stock,
    /** The current quantity `name` of an item at a location (undefined when not stocked). */
    quantity(itemId, locationId, name = 'available') { const l = levels.get(key(itemId, locationId)); return l ? quantityOf(l, name) : undefined; },
    level(itemId, locationId) { const l = levels.get(key(itemId, locationId)); return l ? Object.fromEntries(QUANTITY_NAMES.map((n) => [n, quantityOf(l, n)])) : undefined; },
    listingKey: key,
    subscribe(topic, url, { secret = clientSecret, apiVersion = DEFAULT_API_VERSION } = {}) { subscriptions.push({ topic, url, secret, apiVersion }); },
    deliveries,
    async flushWebhooks() { await Promise.all([...pending]); },
    throttleStatus,
    setThrottle({ maximumAvailable = bucket.burst, restoreRate = bucket.rate, currentlyAvailable } = {}) {
      bucket = new TokenBucket({ rate: restoreRate, burst: maximumAvailable, clock, initial: currentlyAvailable ?? maximumAvailable });
      return throttleStatus();
    },
    setThrottleStatusCode(code) { throttleStatusCode = code; },
    gid,
  });
}

// ---------------------------------------------------------------------------------------------
// Webhook sender and payload builders

/**
 * Sends a webhook the way Shopify does: POST, JSON body, and the documented headers.
 * `payload` may be an object (serialised with JSON.stringify) or a string sent byte-for-byte.
 * Returns {status, ok, text, headers, error?, body, signature, sent: {headers}}.
 */
export async function sendWebhook(targetUrl, topic, payload, {
  secret = 'shopify-sim-client-secret',
  shopDomain = 'stockedge-sim.myshopify.com',
  eventId = crypto.randomUUID(),
  webhookId = crypto.randomUUID(),
  triggeredAt = new Date().toISOString(),
  apiVersion = DEFAULT_API_VERSION,
  name,
  timeoutMs = 5000, // Shopify: 1 s to connect, 5 s in total
  signature,
} = {}) {
  const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
  const sig = signature ?? hmacBase64(secret, body);
  const headers = {
    'content-type': 'application/json',
    'user-agent': 'Shopify-Captain-Hook',
    'x-shopify-topic': topic,
    'x-shopify-hmac-sha256': sig,
    'x-shopify-shop-domain': shopDomain,
    'x-shopify-api-version': apiVersion,
    'x-shopify-webhook-id': webhookId,
    'x-shopify-event-id': eventId,
    'x-shopify-triggered-at': triggeredAt,
  };
  if (name) headers['x-shopify-name'] = name;
  const r = await postRaw(targetUrl, { headers, body, timeoutMs });
  return { ...r, body, signature: sig, sent: { headers } };
}

function money(amount, currency) {
  const a = Number(amount).toFixed(2);
  return { shop_money: { amount: a, currency_code: currency }, presentment_money: { amount: a, currency_code: currency } };
}

function lineItemPayload(li, currency) {
  const price = li.price ?? '10.00';
  return {
    id: li.id,
    admin_graphql_api_id: gid.lineItem(li.id),
    variant_id: li.variant_id ?? null,
    product_id: li.product_id ?? null,
    sku: li.sku ?? null,
    title: li.title ?? li.sku ?? 'Item',
    name: li.name ?? li.title ?? li.sku ?? 'Item',
    variant_title: li.variant_title ?? null,
    quantity: li.quantity,
    current_quantity: li.current_quantity ?? li.quantity,
    fulfillable_quantity: li.fulfillable_quantity ?? li.quantity,
    fulfillment_service: 'manual',
    fulfillment_status: li.fulfillment_status ?? null,
    variant_inventory_management: 'shopify',
    requires_shipping: true,
    product_exists: true,
    taxable: true,
    gift_card: false,
    grams: 0,
    price: Number(price).toFixed(2),
    price_set: money(price, currency),
    total_discount: '0.00',
    total_discount_set: money(0, currency),
    discount_allocations: [],
    properties: [],
    tax_lines: [],
    duties: [],
  };
}

/**
 * An Order resource as sent with orders/create (and, with cancelled_at set, orders/cancelled).
 * lineItems: [{id, variant_id, product_id, sku, quantity, price?, title?}]
 */
export function orderPayload({
  id, orderNumber = 1001, lineItems = [], currency = 'USD', createdAt = new Date().toISOString(),
  updatedAt = createdAt, financialStatus = 'paid', fulfillmentStatus = null, cancelledAt = null,
  cancelReason = null, locationId = null, sourceName = 'web', test = false, refunds = [],
  email = 'buyer@example.com',
} = {}) {
  const lis = lineItems.map((li) => lineItemPayload(li, currency));
  const subtotal = lis.reduce((s, li) => s + Number(li.price) * li.quantity, 0);
  return {
    id,
    admin_graphql_api_id: gid.order(id),
    name: `#${orderNumber}`,
    number: orderNumber - 1000,
    order_number: orderNumber,
    email,
    created_at: createdAt,
    updated_at: updatedAt,
    processed_at: createdAt,
    cancelled_at: cancelledAt,
    cancel_reason: cancelReason,
    closed_at: null,
    confirmed: true,
    test,
    currency,
    presentment_currency: currency,
    financial_status: financialStatus,
    fulfillment_status: fulfillmentStatus,
    location_id: locationId,
    source_name: sourceName,
    subtotal_price: subtotal.toFixed(2),
    total_price: subtotal.toFixed(2),
    subtotal_price_set: money(subtotal, currency),
    total_price_set: money(subtotal, currency),
    total_tax: '0.00',
    taxes_included: false,
    line_items: lis,
    fulfillments: [],
    refunds,
    shipping_lines: [],
    tags: '',
  };
}

/** orders/create payload. */
export function orderCreatedPayload(o) { return orderPayload(o); }

/** orders/cancelled payload: the order with cancelled_at/cancel_reason set (refunds may restock). */
export function orderCancelledPayload(o) {
  const at = o.cancelledAt ?? o.updatedAt ?? new Date().toISOString();
  return orderPayload({ financialStatus: 'voided', ...o, cancelledAt: at, updatedAt: at, cancelReason: o.cancelReason ?? 'customer' });
}

/**
 * refunds/create payload. refundLineItems: [{id?, line_item_id, quantity, restock_type:
 * 'return'|'cancel'|'no_restock', location_id, line_item?: {…as in the order…}}].
 */
export function refundCreatedPayload({
  id, orderId, refundLineItems = [], createdAt = new Date().toISOString(), note = null, currency = 'USD',
} = {}) {
  let n = 0;
  const rli = refundLineItems.map((r) => {
    const li = r.line_item ? lineItemPayload({ id: r.line_item_id, quantity: r.quantity, ...r.line_item }, currency) : null;
    const subtotal = li ? Number(li.price) * r.quantity : 0;
    return {
      id: r.id ?? Number(`${id}${++n}`),
      line_item_id: r.line_item_id,
      location_id: r.restock_type === 'no_restock' ? null : (r.location_id ?? null),
      quantity: r.quantity,
      restock_type: r.restock_type ?? 'return',
      subtotal,
      total_tax: 0,
      subtotal_set: money(subtotal, currency),
      total_tax_set: money(0, currency),
      line_item: li,
    };
  });
  return {
    id,
    admin_graphql_api_id: gid.refund(id),
    order_id: orderId,
    created_at: createdAt,
    processed_at: createdAt,
    note,
    user_id: null,
    restock: rli.some((r) => r.restock_type !== 'no_restock'),
    duties: [],
    order_adjustments: [],
    transactions: [],
    refund_line_items: rli,
  };
}

/** inventory_levels/update payload: only `available`; admin_graphql_api_id is an InventoryLevel GID. */
export function inventoryLevelsUpdatePayload({ inventory_item_id, location_id, available, updated_at = new Date().toISOString() }) {
  return {
    inventory_item_id,
    location_id,
    available,
    updated_at,
    admin_graphql_api_id: gid.level(inventory_item_id, location_id),
  };
}
