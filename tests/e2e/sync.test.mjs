// Outbound channel sync against the Shopify simulator (tests/sim/): every committed change
// reaches the listing through the outbox and the queue, faults are retried, permanent failures
// are listed, and the listing ends equal to its rule applied to StockEdge's availability.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';

import { failuresOf } from './lib/reads.mjs';
import { api, percentile, start, unique, until } from './lib/worker.mjs';
import { startShopifySim } from '../sim/shopify.mjs';

let rt;
let A;
let shop;

before(async () => {
  shop = await startShopifySim();
  rt = await start();
  A = api(rt.url);
});
after(async () => {
  await rt?.discard();
  await shop?.close();
});

const enc = encodeURIComponent;

/** `again` is `first` replayed: the same status and bytes, flagged `Idempotent-Replayed`. */
function assertReplay(first, again) {
  assert.equal(again.status, first.status, again.text);
  assert.equal(again.text, first.text);
  assert.equal(again.headers.get('idempotent-replayed'), 'true');
}

function assertKeyReused(r) {
  assert.equal(r.status, 422, r.text);
  assert.equal(r.body.type, '/problems/idempotency-key-reused');
}

async function ok(r, status = 200) {
  assert.equal(r.status, status, `${r.status} ${r.text}`);
  return r.body;
}

async function connect(channel) {
  await ok(
    await A.admin('PUT', `/v1/channels/${enc(channel)}`, {
      kind: 'shopify',
      account: shop.shopDomain,
      credentials_secret: 'SIM_SHOPIFY_TOKEN',
      settings: { base_url: shop.url },
    }),
    201,
  );
}

async function list(channel, sku, itemId, rule) {
  await ok(await A.admin('PUT', `/v1/channels/${enc(channel)}/listings/${enc(sku)}`, { external: { inventory_item_id: itemId, location_id: 1 }, ...(rule ? { rule } : {}) }), 201);
}

test('changes reach the Shopify listing through the queue, with the listing rule applied', async () => {
  const channel = unique('shop');
  await connect(channel);
  const [a, b] = [unique('SYNC-A'), unique('SYNC-B')];
  shop.addLocation({ id: 1 });
  shop.addItem({ id: 5001, sku: a, levels: { 1: { available: 0 } } });
  shop.addItem({ id: 5002, sku: b, levels: { 1: { available: 0 } } });
  await list(channel, a, 5001);
  await list(channel, b, 5002, { buffer: 2 });

  const delays = [];
  for (const n of [10, 7, 12]) {
    const t0 = Date.now();
    await ok(await A.admin('PUT', `/v1/skus/${enc(a)}/stock`, { on_hand: n }));
    await ok(await A.admin('PUT', `/v1/skus/${enc(b)}/stock`, { on_hand: n }));
    const seen = await until(() => shop.quantity(5001, 1) === n && shop.quantity(5002, 1) === n - 2, { timeoutMs: 15_000, everyMs: 20 });
    assert.ok(seen, `expected ${n}/${n - 2}, simulator shows ${shop.quantity(5001, 1)}/${shop.quantity(5002, 1)}`);
    delays.push(Date.now() - t0);
  }
  // The propagation benchmark: one change at a time, commit → simulator received.
  for (let i = 0; i < 40; i++) {
    const n = 20 + (i % 7);
    const t0 = Date.now();
    await ok(await A.admin('PUT', `/v1/skus/${enc(a)}/stock`, { on_hand: n }));
    assert.ok(await until(() => shop.quantity(5001, 1) === n, { timeoutMs: 15_000, everyMs: 5 }), `change ${i} never arrived`);
    delays.push(Date.now() - t0);
  }
  await ok(await A.admin('PUT', `/v1/skus/${enc(a)}/stock`, { on_hand: 12 }));
  assert.ok(await until(() => shop.quantity(5001, 1) === 12, { timeoutMs: 15_000, everyMs: 20 }));
  console.log(`propagation commit→simulator p50=${percentile(delays, 50)}ms p99=${percentile(delays, 99)}ms max=${Math.max(...delays)}ms (n=${delays.length})`);

  // A hold lowers what the channel lists; releasing it restores it.
  const hold = await ok(await A.storefront('POST', '/v1/reservations', { lines: [{ sku: a, qty: 5 }] }), 201);
  assert.ok(await until(() => shop.quantity(5001, 1) === 7, { timeoutMs: 15_000, everyMs: 20 }), `after the hold: ${shop.quantity(5001, 1)}`);
  await ok(await A.storefront('POST', `/v1/reservations/${hold.id}/release`));
  assert.ok(await until(() => shop.quantity(5001, 1) === 12, { timeoutMs: 15_000, everyMs: 20 }));

  // The consumer records a push once the platform answered it: the status follows shortly after
  // the simulator shows the quantity.
  const mine = await until(async () => {
    const status = await ok(await A.admin('GET', '/v1/sync/status'));
    const item = status.items.find((i) => i.channel === channel && i.sku === a);
    return item?.last_quantity === 12 ? item : null;
  }, { timeoutMs: 15_000, everyMs: 50 });
  assert.ok(mine, 'the sync status records the last push (12)');
  assert.equal(mine.last_error, null);
});

test('a listing gets the SKU\'s quantity when it is created, and again when its rule changes', async () => {
  const channel = unique('shop');
  await connect(channel);
  const sku = unique('SYNC-NEW');
  shop.addLocation({ id: 1 });
  shop.addItem({ id: 5101, sku, levels: { 1: { available: 0 } } });
  // Stocked before it is listed: nothing to push to yet.
  await ok(await A.admin('PUT', `/v1/skus/${enc(sku)}/stock`, { on_hand: 9 }));
  await list(channel, sku, 5101);
  assert.ok(await until(() => shop.quantity(5101, 1) === 9, { timeoutMs: 15_000, everyMs: 20 }), `after listing: ${shop.quantity(5101, 1)}`);
  // Only the rule changes (no stock change): the new quantity is pushed.
  await ok(await A.admin('PUT', `/v1/channels/${enc(channel)}/listings/${enc(sku)}`, { external: { inventory_item_id: 5101, location_id: 1 }, rule: { buffer: 3 } }));
  assert.ok(await until(() => shop.quantity(5101, 1) === 6, { timeoutMs: 15_000, everyMs: 20 }), `after the rule change: ${shop.quantity(5101, 1)}`);
  // Stock changes still flow, through the new rule.
  await ok(await A.admin('POST', `/v1/skus/${enc(sku)}/adjustments`, { delta: 1, reason: 'received' }));
  assert.ok(await until(() => shop.quantity(5101, 1) === 7, { timeoutMs: 15_000, everyMs: 20 }), `after the change: ${shop.quantity(5101, 1)}`);
});

test('a bundle\'s listing follows its components: listed when created, moved by any component\'s change', async () => {
  const channel = unique('shop');
  await connect(channel);
  const [kit, cup, lid] = [unique('SYNC-KIT'), unique('SYNC-CUP'), unique('SYNC-LID')];
  await ok(await A.admin('PUT', `/v1/skus/${enc(cup)}/stock`, { on_hand: 10 }));
  await ok(await A.admin('PUT', `/v1/skus/${enc(lid)}/stock`, { on_hand: 3 }));
  await ok(await A.admin('PUT', `/v1/products/${enc(kit)}`, { title: 'Cup kit', components: [{ sku: cup, qty: 2 }, { sku: lid, qty: 1 }] }), 201);
  shop.addLocation({ id: 1 });
  shop.addItem({ id: 5201, sku: kit, levels: { 1: { available: 0 } } });
  await list(channel, kit, 5201);
  // min(⌊10/2⌋, ⌊3/1⌋) = 3, pushed when the listing is created.
  assert.ok(await until(() => shop.quantity(5201, 1) === 3, { timeoutMs: 15_000, everyMs: 20 }), `after listing: ${shop.quantity(5201, 1)}`);
  // Cups run low: ⌊5/2⌋ = 2.
  await ok(await A.admin('PUT', `/v1/skus/${enc(cup)}/stock`, { on_hand: 5 }));
  assert.ok(await until(() => shop.quantity(5201, 1) === 2, { timeoutMs: 15_000, everyMs: 20 }), `after the cup change: ${shop.quantity(5201, 1)}`);
  // A storefront holds the last lid: no kit can be sold.
  const hold = await ok(await A.storefront('POST', '/v1/reservations', { lines: [{ sku: lid, qty: 3 }] }), 201);
  assert.ok(await until(() => shop.quantity(5201, 1) === 0, { timeoutMs: 15_000, everyMs: 20 }), `after the lid hold: ${shop.quantity(5201, 1)}`);
  await ok(await A.storefront('POST', `/v1/reservations/${hold.id}/release`));
  assert.ok(await until(() => shop.quantity(5201, 1) === 2, { timeoutMs: 15_000, everyMs: 20 }), `after the release: ${shop.quantity(5201, 1)}`);
  // The bundle's versions only grow, so no older state ever overwrote a newer one.
  const versions = shop.log.versions('5201:1').map(Number);
  assert.ok(versions.length >= 4, JSON.stringify(versions));
  assert.ok(versions.every((v, i) => i === 0 || v > versions[i - 1]), JSON.stringify(versions));
});

test('faults are retried until the listing matches; an unknown listing is a listed failure', async () => {
  const channel = unique('shop');
  await connect(channel);
  const s = unique('SYNC-F');
  shop.addItem({ id: 6001, sku: s, levels: { 1: { available: 0 } } });
  await list(channel, s, 6001);
  shop.faults.set({ rate: 0.5, kinds: ['500', '503'], seed: 7 });
  let last = 0;
  for (let i = 0; i < 8; i++) {
    last = 20 + ((i * 37) % 50);
    await ok(await A.admin('PUT', `/v1/skus/${enc(s)}/stock`, { on_hand: last }));
  }
  const converged = await until(() => shop.quantity(6001, 1) === last, { timeoutMs: 60_000, everyMs: 100 });
  shop.faults.set({ rate: 0 });
  assert.ok(converged, `simulator shows ${shop.quantity(6001, 1)}, StockEdge has ${last}`);
  const writes = shop.log.entries ? shop.log.entries() : [];
  let highest = 0;
  for (const w of writes.filter((w) => String(w.listing ?? '').startsWith('6001'))) {
    if (w.version !== undefined && w.version !== null) {
      assert.ok(w.version >= highest, `a lower version ${w.version} after ${highest}`);
      highest = w.version;
    }
  }

  // A listing whose item the shop does not have fails permanently and is listed.
  const ghost = unique('SYNC-G');
  await list(channel, ghost, 999_999_001);
  await ok(await A.admin('PUT', `/v1/skus/${enc(ghost)}/stock`, { on_hand: 3 }));
  const failure = await until(async () => {
    const f = await ok(await A.admin('GET', '/v1/sync/failures'));
    return f.items.find((x) => x.sku === ghost);
  }, { timeoutMs: 15_000, everyMs: 200 });
  assert.ok(failure, 'the unknown listing shows in /v1/sync/failures');
  const key = { 'idempotency-key': `retry-${ghost}` };
  const retried = await A.admin('POST', `/v1/sync/failures/${failure.id}/retry`, undefined, key);
  assert.equal(retried.status, 200, retried.text);
  assert.equal(retried.headers.get('idempotent-replayed'), null);
  // A repeat with the key answers the first answer, flagged, and sends nothing again; the key
  // with another failure is refused.
  assertReplay(retried, await A.admin('POST', `/v1/sync/failures/${failure.id}/retry`, undefined, key));
  assertKeyReused(await A.admin('POST', '/v1/sync/failures/999999999/retry', undefined, key));
  // The retried push fails again and is listed anew, once: a replay that queued the change
  // again would list it twice.
  const openFailures = () => failuresOf(A, (x) => x.sku === ghost);
  assert.ok(await until(async () => (await openFailures()).length >= 1, { timeoutMs: 15_000, everyMs: 200 }), 'the retry failed again');
  await new Promise((r) => setTimeout(r, 2_000));
  const open = await openFailures();
  assert.equal(open.length, 1, `the failure was sent again once: ${JSON.stringify(open)}`);
  assert.notEqual(open[0].id, failure.id, 'the retried failure is closed');
});

test('a retried failure clears once its listing takes the value; retrying it again is 404', async () => {
  const channel = unique('shop');
  await connect(channel);
  const ghost = unique('SYNC-R');
  const item = 999_999_002;
  await list(channel, ghost, item);
  await ok(await A.admin('PUT', `/v1/skus/${enc(ghost)}/stock`, { on_hand: 4 }));
  const openFailures = () => failuresOf(A, (x) => x.sku === ghost);
  const failure = await until(async () => (await openFailures())[0], { timeoutMs: 15_000, everyMs: 200 });
  assert.ok(failure, 'the push to an item the shop does not have is a listed failure');
  // The merchant fixes the cause (the item now exists), then retries.
  shop.addItem({ id: item, sku: ghost, levels: { 1: { available: 0 } } });
  const retried = await ok(await A.admin('POST', `/v1/sync/failures/${failure.id}/retry`));
  assert.deepEqual([retried.id, retried.retried, retried.sku], [failure.id, true, ghost]);
  assert.ok(await until(() => shop.quantity(item, 1) === 4, { timeoutMs: 15_000, everyMs: 100 }), `the listing shows ${shop.quantity(item, 1)}`);
  assert.deepEqual(await openFailures(), [], 'the failure is cleared and not recorded again');
  const again = await A.admin('POST', `/v1/sync/failures/${failure.id}/retry`);
  assert.equal(again.status, 404, again.text);
  assert.equal(again.body.type, '/problems/not-found');
});

test('a lost compare-and-set whose re-read fails is pushed later with the compare, never blind', async () => {
  // A shop of its own, so that no other test's retries consume the injected faults.
  const own = await startShopifySim();
  try {
    const channel = unique('shop-cas');
    await ok(await A.admin('PUT', `/v1/channels/${enc(channel)}`, {
      kind: 'shopify', account: own.shopDomain, credentials_secret: 'SIM_SHOPIFY_TOKEN', settings: { base_url: own.url },
    }), 201);
    const s = unique('SYNC-CAS');
    own.addLocation({ id: 1 });
    own.addItem({ id: 7001, sku: s, levels: { 1: { available: 0 } } });
    await ok(await A.admin('PUT', `/v1/skus/${enc(s)}/stock`, { on_hand: 10 }));
    await list(channel, s, 7001);
    assert.ok(await until(() => own.quantity(7001, 1) === 10, { timeoutMs: 15_000, everyMs: 20 }), `listed: ${own.quantity(7001, 1)}`);
    const before = own.log.entries().length;

    // An edit in the Shopify admin, then a change in StockEdge whose push loses the
    // compare-and-set; every re-read of the current quantity fails (503) within that delivery.
    own.setQuantities(7001, 1, { available: 99 });
    own.faults.set({ sequence: [null, '503', '503', '503'] });
    await ok(await A.admin('PUT', `/v1/skus/${enc(s)}/stock`, { on_hand: 30 }));
    assert.ok(await until(() => own.quantity(7001, 1) === 30, { timeoutMs: 30_000, everyMs: 50 }), `after the retry: ${own.quantity(7001, 1)}`);

    assert.equal(own.faults.history.length, 3, 'the three re-reads were refused');
    const writes = own.log.entries().slice(before).filter((w) => w.listing === '7001:1');
    assert.ok(writes.length >= 1, JSON.stringify(writes));
    assert.ok(writes.every((w) => w.changeFromQuantity !== null && w.changeFromQuantity !== undefined), `a blind write: ${JSON.stringify(writes)}`);
    assert.equal(writes[0].changeFromQuantity, 99, 'the write compares with what the admin set');
  } finally {
    await own.close();
  }
});

test('a keyed poll run answers its first answer again, flagged; the key with another run is refused', async () => {
  const key = { 'idempotency-key': unique('poll-run') };
  const first = await A.admin('POST', '/v1/inbound/polls/run?channel=nothing-here', undefined, key);
  assert.equal(first.status, 200, first.text);
  assert.equal(first.headers.get('idempotent-replayed'), null);
  assertReplay(first, await A.admin('POST', '/v1/inbound/polls/run?channel=nothing-here', undefined, key));
  assertKeyReused(await A.admin('POST', '/v1/inbound/polls/run?channel=something-else', undefined, key));
});
