// The catalogue end to end (issue 4): products and bundles, locations, channel connections and
// listings in D1, against the Worker under workerd (the harness applies migrations/ first).
// Every answer is also checked against openapi.json.
//
//   node --test --test-concurrency=1 tests/e2e/catalog.test.mjs

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { assertOk, assertProblem, fieldsOf, readJournal } from './lib/expect.mjs';
import { matchPath, validateResponse } from './lib/openapi.mjs';
import { api, start, unique } from './lib/worker.mjs';

const enc = encodeURIComponent;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** `api(url)` whose admin, storefront and anon answers are validated against openapi.json. */
function documented(base) {
  const wrap = (send) => async (method, p, body, headers) => {
    const r = await send(method, p, body, headers);
    validateResponse(method, matchPath(p), r.status, r.headers.get('content-type'), r.body, r.headers);
    return r;
  };
  return { ...base, admin: wrap(base.admin), storefront: wrap(base.storefront), anon: wrap(base.anon) };
}

describe('catalogue', () => {
  let w;
  let a;

  before(async () => {
    w = await start();
    a = documented(api(w.url));
  });

  after(async () => {
    await w?.discard();
  });

  const product = (sku) => `/v1/products/${enc(sku)}`;
  const channel = (id) => `/v1/channels/${enc(id)}`;
  const listing = (id, sku) => `${channel(id)}/listings/${enc(sku)}`;
  const location = (id) => `/v1/locations/${enc(id)}`;

  /** A unique lowercase location id. */
  const locId = () => unique('loc').toLowerCase().replace(/[^a-z0-9_-]/g, '-').slice(0, 32);

  async function makeChannel(kind, extra = {}) {
    const id = unique(kind);
    assertOk(await a.admin('PUT', channel(id), { kind, account: `${id}.example`, ...extra }), 201, `channel ${id}`);
    return id;
  }

  async function listAll(p) {
    const items = [];
    let after = '';
    for (let i = 0; i < 100; i++) {
      const r = assertOk(await a.admin('GET', `${p}?limit=1000&after=${enc(after)}`), 200, `list ${p}`);
      items.push(...r.items);
      if (r.next === undefined) return items;
      after = r.next;
    }
    throw new Error(`${p} did not end`);
  }

  // -------------------------------------------------------------------------------------------
  describe('products', () => {
    test('PUT creates (201), GET reads, same PUT is 200 and unchanged, new PUT updates, DELETE 204 then 404', async () => {
      const sku = unique('TEE');
      const created = assertOk(await a.admin('PUT', product(sku), { title: 'Tee', barcode: '0123456789012', low_stock_threshold: 3 }), 201, 'create');
      assert.equal(created.sku, sku);
      assert.equal(created.title, 'Tee');
      assert.equal(created.barcode, '0123456789012');
      assert.equal(created.tracked, true, 'tracked defaults to true');
      assert.equal(created.low_stock_threshold, 3);
      assert.equal(created.backorder_limit, undefined);
      assert.deepEqual(created.components, []);
      assert.match(created.created_at, RFC3339);
      assert.equal(created.updated_at, created.created_at);

      assert.deepEqual(assertOk(await a.admin('GET', product(sku)), 200, 'get'), created);
      const same = assertOk(await a.admin('PUT', product(sku), { title: 'Tee', barcode: '0123456789012', low_stock_threshold: 3 }), 200, 'same');
      assert.deepEqual(same, created, 'an identical PUT changes nothing');

      const updated = assertOk(await a.admin('PUT', product(sku), { title: 'Tee v2', tracked: false }), 200, 'update');
      assert.equal(updated.title, 'Tee v2');
      assert.equal(updated.tracked, false);
      assert.equal(updated.barcode, undefined, 'PUT replaces the whole record');
      assert.equal(updated.created_at, created.created_at);
      assert.ok(updated.updated_at >= created.updated_at);

      const del = await a.admin('DELETE', product(sku));
      assert.equal(del.status, 204, del.text);
      assert.equal(del.text, '');
      const gone = assertProblem(await a.admin('GET', product(sku)), 404, 'not-found', 'get deleted');
      assert.match(gone.detail, /product/);
      assertProblem(await a.admin('DELETE', product(sku)), 404, 'not-found', 'delete again');
    });

    test('a SKU with / is sent percent-encoded; HEAD answers like GET', async () => {
      const sku = `${unique('SHIRT')}/M_1.0`;
      assertOk(await a.admin('PUT', product(sku), {}), 201, 'create');
      assert.equal(assertOk(await a.admin('GET', product(sku)), 200, 'get').sku, sku);
      assert.equal((await a.admin('HEAD', product(sku))).status, 200);
    });

    test('GET /v1/products pages by sku with after/limit/next', async () => {
      const prefix = unique('PAGE');
      const skus = [`${prefix}-a`, `${prefix}-b`, `${prefix}-c`];
      for (const s of skus) assertOk(await a.admin('PUT', product(s), { title: s }), 201, s);
      const first = assertOk(await a.admin('GET', `/v1/products?after=${enc(`${prefix}-`)}&limit=2`), 200, 'page 1');
      assert.deepEqual(first.items.map((p) => p.sku), skus.slice(0, 2));
      assert.equal(first.next, skus[1]);
      const second = assertOk(await a.admin('GET', `/v1/products?after=${enc(first.next)}&limit=1`), 200, 'page 2');
      assert.deepEqual(second.items.map((p) => p.sku), [skus[2]]);
      const all = await listAll('/v1/products');
      for (const s of skus) assert.ok(all.some((p) => p.sku === s), s);
      const sorted = all.map((p) => p.sku);
      assert.deepEqual(sorted, [...sorted].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0)), 'sorted by sku');
      const bad = assertProblem(await a.admin('GET', '/v1/products?limit=0'), 422, 'validation-failed', 'limit 0');
      assert.deepEqual(fieldsOf(bad), ['limit']);
      assertProblem(await a.admin('GET', '/v1/products?limit=1001'), 422, 'validation-failed', 'limit 1001');
    });

    test('backorder_limit is applied to the SKU ledger (GET /v1/skus/{sku}, journal op policy)', async () => {
      const sku = unique('BACK');
      assertOk(await a.admin('PUT', product(sku), { title: 'Backorderable', backorder_limit: 5 }), 201, 'create');
      const state = assertOk(await a.admin('GET', `/v1/skus/${enc(sku)}`), 200, 'ledger');
      assert.equal(state.backorder_limit, 5);
      assertOk(await a.admin('PUT', product(sku), { backorder_limit: 2 }), 200, 'lower it');
      assert.equal(assertOk(await a.admin('GET', `/v1/skus/${enc(sku)}`), 200, 'ledger').backorder_limit, 2);
      const ops = (await readJournal(a, sku)).map((e) => e.op);
      assert.deepEqual(ops, ['policy', 'policy']);
      // Without backorder_limit the ledger is left alone.
      assertOk(await a.admin('PUT', product(sku), { title: 'no policy' }), 200, 'no limit');
      assert.equal(assertOk(await a.admin('GET', `/v1/skus/${enc(sku)}`), 200, 'ledger').backorder_limit, 2);
    });

    test('422 names every faulty field; 400 for a body that is not a JSON object', async () => {
      const sku = unique('BAD');
      const p = assertProblem(
        await a.admin('PUT', product(sku), {
          title: 7,
          barcode: 'has space',
          tracked: 'yes',
          backorder_limit: 1_000_001,
          low_stock_threshold: -1,
          components: [{ sku: 'bad sku', qty: 1 }, { sku: 'OK-1', qty: 0 }, { qty: 1 }],
        }),
        422,
        'validation-failed',
        'bad product',
      );
      assert.deepEqual(fieldsOf(p), [
        'title',
        'barcode',
        'tracked',
        'backorder_limit',
        'low_stock_threshold',
        'components[0].sku',
        'components[1].qty',
        'components[2].sku',
      ]);
      assertProblem(await a.admin('PUT', product(sku), '[1]'), 400, 'invalid-json', 'array body');
      assertProblem(await a.admin('PUT', product(sku), '{'), 400, 'invalid-json', 'broken JSON');
      assertProblem(await a.admin('GET', product(sku)), 404, 'not-found', 'nothing was written');
      const path = assertProblem(await a.admin('GET', '/v1/products/bad%20sku'), 422, 'validation-failed', 'bad sku in path');
      assert.deepEqual(fieldsOf(path), ['sku']);
    });

    test('bundles: components stored in order; no nesting either way; no self, no duplicates', async () => {
      const kit = unique('KIT');
      const c1 = unique('CUP');
      const c2 = unique('LID');
      const made = assertOk(await a.admin('PUT', product(kit), { title: 'Kit', components: [{ sku: c2, qty: 1 }, { sku: c1, qty: 2 }] }), 201, 'kit');
      assert.deepEqual(made.components, [{ sku: c2, qty: 1 }, { sku: c1, qty: 2 }]);
      assert.deepEqual(assertOk(await a.admin('GET', product(kit)), 200, 'get kit').components, made.components);

      // A bundle as a component of another bundle.
      const mega = unique('MEGA');
      const nested = assertProblem(
        await a.admin('PUT', product(mega), { components: [{ sku: c1, qty: 1 }, { sku: kit, qty: 1 }] }),
        422,
        'validation-failed',
        'bundle in a bundle',
      );
      assert.deepEqual(fieldsOf(nested), ['components[1].sku']);
      assert.match(nested.errors[0].message, /bundle/);
      // A component turned into a bundle.
      const other = unique('OTHER');
      const reverse = assertProblem(await a.admin('PUT', product(c1), { components: [{ sku: other, qty: 1 }] }), 422, 'validation-failed', 'component becomes a bundle');
      assert.deepEqual(fieldsOf(reverse), ['components']);
      // …but a component may be catalogued as a plain product.
      assertOk(await a.admin('PUT', product(c1), { title: 'Cup' }), 201, 'component as a plain product');

      const self = assertProblem(await a.admin('PUT', product(kit), { components: [{ sku: kit, qty: 1 }] }), 422, 'validation-failed', 'self');
      assert.deepEqual(fieldsOf(self), ['components[0].sku']);
      const dup = assertProblem(await a.admin('PUT', product(kit), { components: [{ sku: c1, qty: 1 }, { sku: c1, qty: 3 }] }), 422, 'validation-failed', 'dup');
      assert.deepEqual(fieldsOf(dup), ['components[1].sku']);

      // Emptying the components makes it a plain SKU; then the former components are free.
      assert.deepEqual(assertOk(await a.admin('PUT', product(kit), { components: [] }), 200, 'unbundle').components, []);
      assertOk(await a.admin('PUT', product(c2), { components: [{ sku: other, qty: 4 }] }), 201, 'now c2 may be a bundle');
      const listed = await listAll('/v1/products');
      assert.deepEqual(listed.find((p) => p.sku === c2).components, [{ sku: other, qty: 4 }]);
      // Deleting a bundle deletes its components.
      assert.equal((await a.admin('DELETE', product(c2))).status, 204);
      assertOk(await a.admin('PUT', product(other), { components: [{ sku: c1, qty: 1 }] }), 201, 'other is no longer a component');
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('locations', () => {
    test('CRUD, list, 404, 422', async () => {
      const id = locId();
      const made = assertOk(await a.admin('PUT', location(id), { name: 'East warehouse' }), 201, 'create');
      assert.equal(made.location, id);
      assert.equal(made.name, 'East warehouse');
      assert.match(made.updated_at, RFC3339);
      assert.deepEqual(assertOk(await a.admin('GET', location(id)), 200, 'get'), made);
      assert.equal(assertOk(await a.admin('PUT', location(id), { name: 'East' }), 200, 'rename').name, 'East');
      assert.ok((await listAll('/v1/locations')).some((l) => l.location === id && l.name === 'East'));
      assert.equal((await a.admin('DELETE', location(id))).status, 204);
      assertProblem(await a.admin('GET', location(id)), 404, 'not-found', 'deleted');
      assertProblem(await a.admin('DELETE', location(id)), 404, 'not-found', 'delete again');

      assert.deepEqual(fieldsOf(assertProblem(await a.admin('PUT', location(id), {}), 422, 'validation-failed', 'no name')), ['name']);
      assert.deepEqual(fieldsOf(assertProblem(await a.admin('PUT', location(id), { name: 'x'.repeat(201) }), 422, 'validation-failed', 'long')), ['name']);
      assert.deepEqual(fieldsOf(assertProblem(await a.admin('PUT', '/v1/locations/Main', { name: 'x' }), 422, 'validation-failed', 'upper case')), ['location']);
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('channels', () => {
    test('CRUD with defaults; list; credentials are a secret NAME', async () => {
      const id = unique('shop');
      const made = assertOk(
        await a.admin('PUT', channel(id), { kind: 'shopify', account: 'myshop.myshopify.com', credentials_secret: 'SHOPIFY_TOKEN_MYSHOP' }),
        201,
        'create',
      );
      assert.equal(made.channel, id);
      assert.equal(made.kind, 'shopify');
      assert.equal(made.account, 'myshop.myshopify.com');
      assert.equal(made.enabled, true, 'enabled by default');
      assert.equal(made.credentials_secret, 'SHOPIFY_TOKEN_MYSHOP');
      assert.deepEqual(made.settings, {});
      assert.deepEqual(assertOk(await a.admin('GET', channel(id)), 200, 'get'), made);
      const upd = assertOk(
        await a.admin('PUT', channel(id), { kind: 'shopify', account: 'myshop.myshopify.com', enabled: false, settings: { on_drift: 'flag' } }),
        200,
        'update',
      );
      assert.equal(upd.enabled, false);
      assert.deepEqual(upd.settings, { on_drift: 'flag' });
      assert.equal(upd.credentials_secret, undefined);
      assert.ok((await listAll('/v1/channels')).some((c) => c.channel === id && c.enabled === false));
      assert.equal((await a.admin('DELETE', channel(id))).status, 204);
      assertProblem(await a.admin('GET', channel(id)), 404, 'not-found', 'deleted');
      assertProblem(await a.admin('DELETE', channel(id)), 404, 'not-found', 'delete again');
    });

    test('every kind is accepted; 422 for an unknown kind and every other faulty field', async () => {
      for (const kind of ['shopify', 'woocommerce', 'amazon', 'ebay', 'wholesale']) await makeChannel(kind);
      const id = unique('bad');
      const p = assertProblem(
        await a.admin('PUT', channel(id), { kind: 'etsy', account: 'has space', enabled: 'yes', credentials_secret: 'shpat_0123456789abcdef', settings: { on_drift: 'ignore' } }),
        422,
        'validation-failed',
        'bad channel',
      );
      assert.deepEqual(fieldsOf(p), ['kind', 'account', 'enabled', 'credentials_secret', 'settings.on_drift']);
      assert.match(p.errors[0].message, /shopify, woocommerce, amazon, ebay, wholesale/);
      assert.deepEqual(fieldsOf(assertProblem(await a.admin('PUT', channel(id), {}), 422, 'validation-failed', 'empty')), ['kind', 'account']);
      assert.deepEqual(
        fieldsOf(assertProblem(await a.admin('PUT', channel(id), { kind: 'ebay', account: 'me', settings: 'adjust' }), 422, 'validation-failed', 'settings')),
        ['settings'],
      );
      assert.deepEqual(fieldsOf(assertProblem(await a.admin('PUT', channel('direct'), { kind: 'ebay', account: 'me' }), 422, 'validation-failed', 'direct')), ['channel']);
      assert.deepEqual(fieldsOf(assertProblem(await a.admin('GET', '/v1/channels/bad%20id'), 422, 'validation-failed', 'bad id')), ['channel']);
      assertProblem(await a.admin('GET', channel(id)), 404, 'not-found', 'nothing was written');
    });

    test("a channel's kind cannot change while it has listings", async () => {
      const id = await makeChannel('ebay');
      assertOk(await a.admin('PUT', listing(id, unique('E')), { external: { sku: unique('ebay-sku') } }), 201, 'listing');
      const p = assertProblem(await a.admin('PUT', channel(id), { kind: 'amazon', account: `${id}.example` }), 422, 'validation-failed', 'kind change');
      assert.deepEqual(fieldsOf(p), ['kind']);
      const empty = await makeChannel('ebay');
      assert.equal(assertOk(await a.admin('PUT', channel(empty), { kind: 'amazon', account: 'A1' }), 200, 'no listings').kind, 'amazon');
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('listings', () => {
    test('each kind: identity validated, stored, echoed with its mapping key', async () => {
      const cases = [
        ['shopify', { inventory_item_id: 'gid://shopify/InventoryItem/808950810', location_id: 905684977 }, { inventory_item_id: 808950810, location_id: 905684977 }, 'shopify:inventory_item:808950810'],
        ['woocommerce', { product_id: 93, variation_id: 101 }, { product_id: 93, variation_id: 101 }, 'woocommerce:product:93:variation:101'],
        ['amazon', { seller_id: 'A2EUQ1WTGCTBG2', seller_sku: 'TEE-BLK-M', marketplace_ids: ['ATVPDKIKX0DER', 'A2EUQ1WTGCTBG2'] }, null, 'amazon:A2EUQ1WTGCTBG2:TEE-BLK-M'],
        ['ebay', { sku: 'TEE-BLK-M', offer_id: '5005317010' }, null, 'ebay:sku:TEE-BLK-M'],
        ['wholesale', { partner_id: 'acme', item_code: 'AC-77' }, null, 'wholesale:acme|item:AC-77'],
      ];
      for (const [kind, external, stored, identity] of cases) {
        const id = await makeChannel(kind);
        const sku = unique('L');
        const made = assertOk(await a.admin('PUT', listing(id, sku), { external }), 201, kind);
        assert.equal(made.channel, id);
        assert.equal(made.sku, sku);
        assert.equal(made.kind, kind);
        assert.deepEqual(made.external, stored ?? external, kind);
        assert.equal(made.identity, identity, kind);
        assert.deepEqual(made.rule, { buffer: 0, percent: 100 }, 'the default rule lists everything');
        assert.deepEqual(assertOk(await a.admin('GET', listing(id, sku)), 200, `get ${kind}`), made);
        assert.deepEqual(assertOk(await a.admin('PUT', listing(id, sku), { external }), 200, `same ${kind}`), made);
      }
    });

    test('a bad identity for the channel kind → 422 naming each field', async () => {
      const bad = async (kind, external, want) => {
        const id = await makeChannel(kind);
        const p = assertProblem(await a.admin('PUT', listing(id, unique('B')), { external }), 422, 'validation-failed', kind);
        assert.deepEqual(fieldsOf(p), want, `${kind}: ${p.detail}`);
      };
      await bad('shopify', { inventory_item_id: 'gid://shopify/Location/1', location_id: -4 }, ['external.inventory_item_id', 'external.location_id']);
      await bad('shopify', { product_id: 1, location_id: 2 }, ['external.product_id', 'external.inventory_item_id']);
      await bad('woocommerce', { product_id: 0, variation_id: 'x' }, ['external.product_id', 'external.variation_id']);
      await bad('amazon', { seller_id: 'A-1', seller_sku: '', marketplace_ids: [] }, ['external.seller_id', 'external.seller_sku', 'external.marketplace_ids']);
      await bad('amazon', { seller_id: 'A1', seller_sku: 'S', marketplace_ids: ['bad id'] }, ['external.marketplace_ids[0]']);
      await bad('ebay', { offer_id: 'has space' }, ['external.sku', 'external.offer_id']);
      await bad('wholesale', { partner_id: 'has space' }, ['external.partner_id']);
      await bad('ebay', undefined, ['external']);
    });

    test('rules: stored and echoed; percent > 100 and other bounds → 422', async () => {
      const id = await makeChannel('ebay');
      const sku = unique('R');
      const rule = { buffer: 2, percent: 50, max_listed: 10, zero_at_or_below: 3 };
      assert.deepEqual(assertOk(await a.admin('PUT', listing(id, sku), { external: { sku }, rule }), 201, 'rule').rule, rule);
      const p = assertProblem(
        await a.admin('PUT', listing(id, sku), { external: { sku }, rule: { buffer: -1, percent: 101, max_listed: 'ten', zero_at_or_below: 2_000_000 } }),
        422,
        'validation-failed',
        'bad rule',
      );
      assert.deepEqual(fieldsOf(p), ['rule.buffer', 'rule.percent', 'rule.max_listed', 'rule.zero_at_or_below']);
      const pct = assertProblem(await a.admin('PUT', listing(id, sku), { external: { sku }, rule: { percent: 150 } }), 422, 'validation-failed', 'percent');
      assert.deepEqual(fieldsOf(pct), ['rule.percent']);
      assert.deepEqual(assertOk(await a.admin('GET', listing(id, sku)), 200, 'unchanged').rule, rule);
    });

    test('one channel identity maps to one SKU; another channel may reuse it', async () => {
      const id = await makeChannel('shopify');
      const [s1, s2] = [unique('U'), unique('U')];
      const external = { inventory_item_id: 4242, location_id: 1 };
      assertOk(await a.admin('PUT', listing(id, s1), { external }), 201, 'first');
      const p = assertProblem(await a.admin('PUT', listing(id, s2), { external: { ...external, location_id: 2 } }), 422, 'validation-failed', 'taken');
      assert.deepEqual(fieldsOf(p), ['external']);
      assert.equal(p.conflicting_sku, s1);
      assertProblem(await a.admin('GET', listing(id, s2)), 404, 'not-found', 'not written');
      // The same SKU may move to another location; another channel may list the same item.
      assertOk(await a.admin('PUT', listing(id, s1), { external: { ...external, location_id: 2 } }), 200, 'same sku');
      const other = await makeChannel('shopify');
      assertOk(await a.admin('PUT', listing(other, s2), { external }), 201, 'other channel');
      // Freed once the first listing is gone.
      assert.equal((await a.admin('DELETE', listing(id, s1))).status, 204);
      assertOk(await a.admin('PUT', listing(id, s2), { external }), 201, 'freed');
    });

    test('list, 404s for a missing channel or listing, DELETE; deleting a channel deletes its listings', async () => {
      const id = await makeChannel('wholesale');
      const skus = [unique('W'), unique('W'), unique('W')].sort();
      for (const s of skus) assertOk(await a.admin('PUT', listing(id, s), { external: { partner_id: 'acme' } }), 201, s);
      const page = assertOk(await a.admin('GET', `${channel(id)}/listings?limit=2`), 200, 'page');
      assert.deepEqual(page.items.map((l) => l.sku), skus.slice(0, 2));
      assert.equal(page.next, skus[1]);
      assert.deepEqual((await listAll(`${channel(id)}/listings`)).map((l) => l.identity), skus.map((s) => `wholesale:acme|sku:${s}`));

      const missing = unique('nochannel');
      const m = assertProblem(await a.admin('PUT', listing(missing, skus[0]), { external: { partner_id: 'acme' } }), 404, 'not-found', 'PUT, no channel');
      assert.match(m.detail, /channel/);
      assertProblem(await a.admin('GET', listing(missing, skus[0])), 404, 'not-found', 'GET, no channel');
      assertProblem(await a.admin('GET', `${channel(missing)}/listings`), 404, 'not-found', 'list, no channel');
      assertProblem(await a.admin('DELETE', listing(missing, skus[0])), 404, 'not-found', 'DELETE, no channel');
      const nl = assertProblem(await a.admin('GET', listing(id, unique('none'))), 404, 'not-found', 'no listing');
      assert.match(nl.detail, /listing/);

      assert.equal((await a.admin('DELETE', listing(id, skus[0]))).status, 204);
      assertProblem(await a.admin('DELETE', listing(id, skus[0])), 404, 'not-found', 'delete again');
      assert.equal((await a.admin('DELETE', channel(id))).status, 204);
      await makeChannel('wholesale'); // unrelated
      assertOk(await a.admin('PUT', channel(id), { kind: 'wholesale', account: 'again' }), 201, 'recreated');
      assert.deepEqual(assertOk(await a.admin('GET', `${channel(id)}/listings`), 200, 'no listings left').items, []);
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('protocol', () => {
    const routes = [
      ['GET', '/v1/products'],
      ['GET', '/v1/products/A'],
      ['PUT', '/v1/products/A', {}],
      ['DELETE', '/v1/products/A'],
      ['GET', '/v1/locations'],
      ['GET', '/v1/locations/main'],
      ['PUT', '/v1/locations/main', { name: 'Main' }],
      ['DELETE', '/v1/locations/main'],
      ['GET', '/v1/channels'],
      ['GET', '/v1/channels/c'],
      ['PUT', '/v1/channels/c', { kind: 'ebay', account: 'me' }],
      ['DELETE', '/v1/channels/c'],
      ['GET', '/v1/channels/c/listings'],
      ['GET', '/v1/channels/c/listings/A'],
      ['PUT', '/v1/channels/c/listings/A', { external: { sku: 'A' } }],
      ['DELETE', '/v1/channels/c/listings/A'],
    ];

    test('401 without or with a wrong token; 403 with the storefront token', async () => {
      for (const [method, p, body] of routes) {
        const none = assertProblem(await a.anon(method, p, body), 401, 'unauthorized', `${method} ${p} anon`);
        assert.ok(none);
        assertProblem(await a.raw(method, p, { token: 'nope', body }), 401, 'unauthorized', `${method} ${p} wrong`);
        assertProblem(await a.storefront(method, p, body), 403, 'forbidden', `${method} ${p} storefront`);
      }
    });

    test('405 with Allow on a known path; 404 on an unknown one', async () => {
      const r = await a.admin('POST', '/v1/products/A', {});
      assertProblem(r, 405, 'method-not-allowed', 'POST product');
      assert.equal(r.headers.get('allow'), 'GET, PUT, DELETE');
      const l = await a.admin('POST', '/v1/channels', {});
      assertProblem(l, 405, 'method-not-allowed', 'POST channels');
      assert.equal(l.headers.get('allow'), 'GET');
      assertProblem(await a.admin('GET', '/v1/channels/c/listings/A/extra'), 404, 'not-found', 'too deep');
      assertProblem(await a.admin('GET', '/v1/channels/c/other'), 404, 'not-found', 'unknown');
      assertProblem(await a.raw('GET', '/v1/channels/c/other'), 401, 'unauthorized', 'unknown path, no token');
    });

    test('Idempotency-Key: the first answer is replayed (201 again); another body → 422 reused; malformed key named', async () => {
      const sku = unique('IDEM');
      const key = { 'Idempotency-Key': unique('key') };
      const first = assertOk(await a.admin('PUT', product(sku), { title: 'once' }, key), 201, 'first');
      const replay = assertOk(await a.admin('PUT', product(sku), { title: 'once' }, key), 201, 'replay');
      assert.deepEqual(replay, first);
      assertProblem(await a.admin('PUT', product(sku), { title: 'twice' }, key), 422, 'idempotency-key-reused', 'reused');
      const long = { 'Idempotency-Key': 'k'.repeat(256) };
      const p = assertProblem(await a.admin('PUT', product(sku), { title: 5 }, long), 422, 'validation-failed', 'bad key and body');
      assert.deepEqual(fieldsOf(p), ['Idempotency-Key', 'title']);
      assert.deepEqual(fieldsOf(assertProblem(await a.admin('PUT', location(locId()), { name: 'x' }, long), 422, 'validation-failed', 'bad key')), ['Idempotency-Key']);
      // Listings and channels replay too.
      const id = await makeChannel('ebay');
      const lk = { 'Idempotency-Key': unique('key') };
      const l1 = assertOk(await a.admin('PUT', listing(id, sku), { external: { sku } }, lk), 201, 'listing');
      assert.deepEqual(assertOk(await a.admin('PUT', listing(id, sku), { external: { sku } }, lk), 201, 'listing replay'), l1);
    });
  });
});

// A Worker started on state without the D1 migrations: every request that needs the catalogue
// answers `503 schema-missing` naming the missing table (not `500 internal`), writes nothing to
// any ledger first, and what needs no D1 keeps working.
describe('catalogue without its schema', () => {
  let w;
  let a;

  before(async () => {
    w = await start({ migrations: false });
    a = documented(api(w.url));
  });

  after(async () => {
    await w?.discard();
  });

  const missing = (r, what) => {
    const p = assertProblem(r, 503, 'schema-missing', what);
    assert.equal(typeof p.missing_table, 'string', what);
    assert.ok(p.missing_table.length > 0, what);
    return p;
  };

  test('catalogue routes, channel availability, sales and imports say the schema is missing', async () => {
    const sku = unique('NOSCHEMA');
    // A plain stock write and read need no D1.
    assertOk(await a.admin('PUT', `/v1/skus/${enc(sku)}/stock`, { on_hand: 5 }), 200, 'stock without D1');

    assert.equal(missing(await a.admin('GET', '/v1/products'), 'product list').missing_table, 'products');
    missing(await a.admin('PUT', `/v1/products/${enc(sku)}`, { title: 'x' }), 'product write');
    missing(await a.admin('GET', '/v1/channels/shop'), 'channel read');
    missing(await a.storefront('GET', `/v1/availability?sku=${enc(sku)}&channel=shop`), 'availability with channel=');
    missing(
      await a.admin('POST', '/v1/sales', { channel: 'shop', order_id: 'NS-1', lines: [{ sku, qty: 1 }] }),
      'sale',
    );
    const imported = await a.raw('POST', '/v1/imports?format=csv&mode=set', {
      token: 'dev-admin',
      body: `sku,quantity,location\n${sku},9,main\n`,
      headers: { 'content-type': 'text/csv' },
    });
    missing(imported, 'import');

    // Nothing reached the ledger: the sale sold nothing and the import set nothing.
    const state = assertOk(await a.admin('GET', `/v1/skus/${enc(sku)}`), 200, 'stock read');
    assert.equal(state.on_hand, 5);
    assert.equal(state.available, 5);
  });
});
