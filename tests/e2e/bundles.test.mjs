// Bundles and channel listings change what availability reports and what a reservation holds.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';

import { api, start, unique } from './lib/worker.mjs';

let rt;
let A;

before(async () => {
  rt = await start();
  A = api(rt.url);
});
after(async () => {
  await rt?.discard();
});

const enc = encodeURIComponent;

async function ok(r, status = 200) {
  assert.equal(r.status, status, `${r.status} ${r.text}`);
  return r.body;
}

async function stock(sku, on_hand) {
  await ok(await A.admin('PUT', `/v1/skus/${enc(sku)}/stock`, { on_hand }));
}

async function availability(skus, channel) {
  const q = skus.map((s) => `sku=${enc(s)}`).join('&') + (channel ? `&channel=${enc(channel)}` : '');
  const body = await ok(await A.storefront('GET', `/v1/availability?${q}`));
  return Object.fromEntries(body.items.map((i) => [i.sku, i]));
}

test('a bundle of two components reserves both and reports min-availability', async () => {
  const [kit, cup, lid] = [unique('KIT'), unique('CUP'), unique('LID')];
  await stock(cup, 7);
  await stock(lid, 10);
  await ok(await A.admin('PUT', `/v1/products/${enc(kit)}`, { title: 'Cup kit', components: [{ sku: cup, qty: 2 }, { sku: lid, qty: 1 }] }), 201);

  let got = await availability([kit, cup]);
  assert.equal(got[kit].available, 3, 'floor(7/2)=3, floor(10/1)=10 → 3');
  assert.equal(got[kit].bundle, true);

  const hold = await ok(await A.storefront('POST', '/v1/reservations', { lines: [{ sku: kit, qty: 2 }] }), 201);
  const held = Object.fromEntries(hold.lines.map((l) => [l.sku, l.qty]));
  assert.deepEqual(held, { [cup]: 4, [lid]: 2 }, 'the reservation holds the components');
  assert.equal((await ok(await A.admin('GET', `/v1/skus/${enc(cup)}`))).reserved, 4);
  assert.equal((await ok(await A.admin('GET', `/v1/skus/${enc(lid)}`))).reserved, 2);

  got = await availability([kit]);
  assert.equal(got[kit].available, 1, 'cup 3 left → 1 kit');

  // A change to a component changes the bundle.
  await stock(cup, 20);
  got = await availability([kit]);
  assert.equal(got[kit].available, 8, 'cup 16 free → 8; lid 8 free → 8');

  // Too many kits: all or nothing across the components.
  const short = await A.storefront('POST', '/v1/reservations', { lines: [{ sku: kit, qty: 9 }] });
  assert.equal(short.status, 409, short.text);
  assert.equal(short.body.type, '/problems/insufficient-stock');
  assert.equal((await ok(await A.admin('GET', `/v1/skus/${enc(cup)}`))).reserved, 4, 'nothing more held');

  // A marketplace sale of a bundle commits its components.
  const order = unique('ORD');
  await ok(await A.admin('POST', '/v1/sales', { channel: 'ebay', order_id: order, lines: [{ sku: kit, qty: 1 }] }));
  assert.equal((await ok(await A.admin('GET', `/v1/skus/${enc(lid)}`))).committed, 1);
  await ok(await A.admin('POST', `/v1/sales/ebay/${enc(order)}/cancel`));
  assert.equal((await ok(await A.admin('GET', `/v1/skus/${enc(lid)}`))).committed, 0);
});

test('listing rules change availability per channel', async () => {
  const [sku, unlisted, channel] = [unique('LST'), unique('UNL'), unique('shop')];
  await stock(sku, 20);
  await stock(unlisted, 5);
  await ok(await A.admin('PUT', `/v1/channels/${enc(channel)}`, { kind: 'shopify', account: `${channel}.myshopify.com` }), 201);
  await ok(
    await A.admin('PUT', `/v1/channels/${enc(channel)}/listings/${enc(sku)}`, {
      external: { inventory_item_id: 4242, location_id: 77 },
      rule: { buffer: 2, percent: 50, max_listed: 100 },
    }),
    201,
  );

  const plain = await availability([sku, unlisted]);
  assert.equal(plain[sku].available, 20);
  assert.equal(plain[sku].listed, undefined);

  const onChannel = await availability([sku, unlisted], channel);
  assert.equal(onChannel[sku].available, 9, '(20 − 2) × 50 %');
  assert.equal(onChannel[sku].listed, true);
  assert.equal(onChannel[unlisted].available, 0);
  assert.equal(onChannel[unlisted].listed, false);

  await ok(
    await A.admin('PUT', `/v1/channels/${enc(channel)}/listings/${enc(sku)}`, {
      external: { inventory_item_id: 4242, location_id: 77 },
      rule: { zero_at_or_below: 25 },
    }),
  );
  assert.equal((await availability([sku], channel))[sku].available, 0, 'list 0 while available ≤ 25');
});

test('a bundle read with channel= applies the bundle\'s listing rule to its components\' minimum', async () => {
  const [kit, cup, lid, channel] = [unique('CKIT'), unique('CCUP'), unique('CLID'), unique('shop')];
  await stock(cup, 21);
  await stock(lid, 8);
  await ok(await A.admin('PUT', `/v1/products/${enc(kit)}`, { title: 'Cup kit', components: [{ sku: cup, qty: 2 }, { sku: lid, qty: 1 }] }), 201);
  await ok(await A.admin('PUT', `/v1/channels/${enc(channel)}`, { kind: 'shopify', account: `${channel}.myshopify.com` }), 201);
  await ok(
    await A.admin('PUT', `/v1/channels/${enc(channel)}/listings/${enc(kit)}`, {
      external: { inventory_item_id: 4343, location_id: 77 },
      rule: { buffer: 1, percent: 50 },
    }),
    201,
  );
  const plain = await availability([kit]);
  assert.equal(plain[kit].available, 8, 'min(21 / 2, 8 / 1)');
  const onChannel = await availability([kit, cup], channel);
  assert.equal(onChannel[kit].available, 3, '⌊(8 − 1) × 50 %⌋');
  assert.equal(onChannel[kit].listed, true);
  assert.equal(onChannel[cup].available, 0, 'the component itself is not listed on the channel');
  assert.equal(onChannel[cup].listed, false);
  // A component's change moves the bundle's listed figure on the next read.
  await stock(lid, 4);
  assert.equal((await availability([kit], channel))[kit].available, 1, '⌊(4 − 1) × 50 %⌋');
});
