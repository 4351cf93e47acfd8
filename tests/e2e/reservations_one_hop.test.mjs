// Single-SKU reservations kept by the SKU's own ledger object (docs/api.md: "Where a
// reservation lives"): the same contract as the cart coordinator's — byte-identical answers,
// idempotency under concurrent duplicates, TTL and expiry by alarm, commit and the order desk
// (fulfilments, cancellations), journal causes — plus bundles still going through a
// coordinator (and a removed bundle no longer expanded once its DELETE answered), and forged ids.
//
// Zero D1 queries on these paths is asserted by the D1 query counter (added separately); here
// the behaviour is asserted.
//
//   STOCKEDGE_SKIP_BUILD=1 node --test --test-concurrency=1 tests/e2e/reservations_one_hop.test.mjs

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { assertOk, assertProblem, fieldsOf, journalSums, readJournal } from './lib/expect.mjs';
import { sleep, unique, useRuntime } from './lib/worker.mjs';

const enc = encodeURIComponent;
const ONE_HOP = /^rsk_[0-9a-f]{20}_/;

describe('single-SKU reservations in one hop', () => {
  const a = useRuntime();

  const put = (sku, body) => a.admin('PUT', `/v1/skus/${enc(sku)}/stock`, body);
  const levels = async (sku) => assertOk(await a.admin('GET', `/v1/skus/${enc(sku)}`), 200, `GET ${sku}`);
  const reserve = (body, headers) => a.storefront('POST', '/v1/reservations', body, headers);
  const getRes = (id) => a.storefront('GET', `/v1/reservations/${enc(id)}`);
  const step = (id, action, body, headers) => a.storefront('POST', `/v1/reservations/${enc(id)}/${action}`, body, headers);
  const availability = async (...skus) => {
    const r = await a.storefront('GET', `/v1/availability?${skus.map((s) => `sku=${enc(s)}`).join('&')}`);
    return Object.fromEntries(assertOk(r, 200, 'availability').items.map((i) => [i.sku, i]));
  };

  async function stocked(prefix, onHand) {
    const sku = unique(prefix);
    assertOk(await put(sku, { on_hand: onHand }), 200, `stock ${sku}`);
    return sku;
  }

  test('a single-SKU hold is kept by the ledger: rsk_ id naming the SKU, documented shape, journal cause', async () => {
    const sku = await stocked('ONE/HOP', 10);
    const r = await reserve({ lines: [{ sku, qty: 1 }, { sku, qty: 2 }], ttl_seconds: 120, channel: 'web', reference: 'cart-7' });
    const b = assertOk(r, 201, 'create');
    assert.match(b.id, ONE_HOP);
    assert.ok(b.id.endsWith(`_${sku.replaceAll('/', ':')}`), b.id);
    assert.equal(r.headers.get('idempotent-replayed'), null);
    assert.deepEqual(Object.keys(b).sort(), ['channel', 'expires_at', 'id', 'lines', 'reference', 'status']);
    assert.deepEqual(b.lines, [{ sku, qty: 3, location: 'main' }]);
    const g = assertOk(await getRes(b.id), 200, 'GET');
    assert.deepEqual(g, b);
    const s = await levels(sku);
    assert.deepEqual([s.reserved, s.available], [3, 7]);
    const last = (await readJournal(a, sku)).at(-1);
    assert.equal(last.op, 'reserve');
    assert.deepEqual(
      [last.cause.reservation_id, last.cause.channel, last.cause.reference],
      [b.id, 'web', 'cart-7'],
    );
  });

  test('both paths answer byte for byte alike: held, short, committed, released', async () => {
    const one = await stocked('CMP1', 4);
    const cart = await stocked('CMP2', 4);
    const clientId = unique('res');
    // The coordinator keeps reservations with a client id; the ledger keeps the other.
    const viaLedger = await reserve({ lines: [{ sku: one, qty: 3 }], ttl_seconds: 300 });
    const viaCart = await reserve({ id: clientId, lines: [{ sku: cart, qty: 3 }], ttl_seconds: 300 });
    const strip = (r) => r.text.replaceAll(r.body.id, 'ID').replaceAll(one, 'SKU').replaceAll(cart, 'SKU').replace(/"expires_at":"[^"]*"/, '');
    assert.equal(viaLedger.status, 201);
    assert.equal(viaCart.status, 201);
    assert.equal(strip(viaLedger), strip(viaCart));
    const shortL = await reserve({ lines: [{ sku: one, qty: 2 }] });
    const shortC = await reserve({ id: unique('res'), lines: [{ sku: cart, qty: 2 }] });
    assertProblem(shortL, 409, 'insufficient-stock', 'short via ledger');
    assertProblem(shortC, 409, 'insufficient-stock', 'short via cart');
    assert.equal(shortL.text.replaceAll(one, 'SKU'), shortC.text.replaceAll(cart, 'SKU'));
    const orderId = unique('o');
    const commitL = await step(viaLedger.body.id, 'commit', { order_id: orderId });
    const commitC = await step(clientId, 'commit', { order_id: orderId });
    assert.equal(strip({ text: commitL.text, body: viaLedger.body }), strip({ text: commitC.text, body: viaCart.body }));
    const refusedL = await step(viaLedger.body.id, 'release', {});
    const refusedC = await step(clientId, 'release', {});
    assertProblem(refusedL, 409, 'reservation-not-held', 'release committed via ledger');
    assert.equal(refusedL.text.replaceAll(viaLedger.body.id, 'ID'), refusedC.text.replaceAll(clientId, 'ID'));
  });

  test('100 concurrent identical keyed creates: one hold, every answer the first byte for byte', async () => {
    const sku = await stocked('CONC', 10);
    const key = unique('key');
    const body = { lines: [{ sku, qty: 4 }], ttl_seconds: 300 };
    const answers = await Promise.all(Array.from({ length: 100 }, () => reserve(body, { 'idempotency-key': key })));
    assert.deepEqual([...new Set(answers.map((r) => r.status))], [201], answers.find((r) => r.status !== 201)?.text);
    assert.equal(new Set(answers.map((r) => r.text)).size, 1, 'byte-identical answers');
    assert.match(answers[0].body.id, ONE_HOP);
    assert.equal(answers.filter((r) => r.headers.get('idempotent-replayed') !== 'true').length, 1, 'one first answer');
    const s = await levels(sku);
    assert.deepEqual([s.reserved, s.version], [4, 2]);
    assert.equal((await readJournal(a, sku)).filter((e) => e.op === 'reserve').length, 1);
    // Same key, other body → 422; nothing more held.
    assertProblem(await reserve({ lines: [{ sku, qty: 5 }] }, { 'idempotency-key': key }), 422, 'idempotency-key-reused');
    assert.equal((await levels(sku)).reserved, 4);
  });

  test('200 concurrent holds of one unit on stock 50: exactly 50 held, the rest 409', async () => {
    const sku = await stocked('RUSH', 50);
    const answers = await Promise.all(Array.from({ length: 200 }, () => reserve({ lines: [{ sku, qty: 1 }] })));
    const held = answers.filter((r) => r.status === 201);
    const short = answers.filter((r) => r.status === 409);
    assert.equal(held.length, 50, answers.find((r) => ![201, 409].includes(r.status))?.text);
    assert.equal(short.length, 150);
    assert.equal(new Set(held.map((r) => r.body.id)).size, 50);
    const s = await levels(sku);
    assert.deepEqual([s.reserved, s.available], [50, 0]);
  });

  test('expiry by the ledger alarm with no traffic; then commit/extend 409 expired, release 200 expired', async () => {
    const sku = await stocked('EXP', 5);
    const r = assertOk(await reserve({ lines: [{ sku, qty: 3 }], ttl_seconds: 1 }), 201, 'create');
    const deadline = Date.parse(r.expires_at);
    await sleep(Math.max(0, deadline + 1_500 - Date.now()));
    const exp = (await readJournal(a, sku)).filter((e) => e.op === 'expire');
    assert.equal(exp.length, 1, 'expired by the alarm');
    assert.equal(exp[0].cause.reservation_id, r.id);
    assert.equal(assertOk(await getRes(r.id), 200, 'GET').status, 'expired');
    const c = assertProblem(await step(r.id, 'commit', {}), 409, 'reservation-not-held', 'commit expired');
    assert.equal(c.reservation_status, 'expired');
    const e = assertProblem(await step(r.id, 'extend', { ttl_seconds: 60 }), 409, 'reservation-not-held', 'extend expired');
    assert.equal(e.reservation_status, 'expired');
    assert.equal(assertOk(await step(r.id, 'release', {}), 200, 'release expired').status, 'expired');
    const s = await levels(sku);
    assert.deepEqual([s.reserved, s.committed, s.available], [0, 0, 5]);
  });

  test('extend and release: keyed repeats replay; release returns the units; repeat 200', async () => {
    const sku = await stocked('XR', 5);
    const id = assertOk(await reserve({ lines: [{ sku, qty: 2 }], ttl_seconds: 60 }), 201, 'hold').id;
    const key = unique('key');
    const x1 = await step(id, 'extend', { ttl_seconds: 600 }, { 'idempotency-key': key });
    const x2 = await step(id, 'extend', { ttl_seconds: 600 }, { 'idempotency-key': key });
    assertOk(x1, 200, 'extend');
    assert.equal(x2.text, x1.text);
    assert.equal(x2.headers.get('idempotent-replayed'), 'true');
    assert.equal((await readJournal(a, sku)).filter((e) => e.op === 'extend').length, 1);
    assert.equal(assertOk(await getRes(id), 200, 'GET').expires_at, x1.body.expires_at);
    assert.equal(assertOk(await step(id, 'release', {}), 200, 'release').status, 'released');
    assert.equal(assertOk(await step(id, 'release', {}), 200, 'release again').status, 'released');
    const c = assertProblem(await step(id, 'commit', {}), 409, 'reservation-not-held', 'commit released');
    assert.equal(c.reservation_status, 'released');
    assert.deepEqual(journalSums(await readJournal(a, sku)), { on_hand: 5, reserved: 0, committed: 0 });
  });

  test('commit registers the order: repeat 200 identical; fulfil and cancel through /v1/fulfilments and /v1/sales', async () => {
    const sku = await stocked('ORD', 6);
    const web = assertOk(await reserve({ lines: [{ sku, qty: 3 }], channel: 'web' }), 201, 'hold web');
    const orderId = unique('ord');
    const c1 = await step(web.id, 'commit', { order_id: orderId });
    assert.equal(assertOk(c1, 200, 'commit').status, 'committed');
    assert.equal(c1.body.order_id, orderId);
    const c2 = await step(web.id, 'commit', { order_id: orderId });
    assert.equal(c2.text, c1.text, 'a repeated commit answers 200 alike');
    const commitEntry = (await readJournal(a, sku)).find((e) => e.op === 'commit');
    assert.deepEqual([commitEntry.cause.reservation_id, commitEntry.cause.order_id, commitEntry.cause.channel], [web.id, orderId, 'web']);
    assertOk(
      await a.admin('POST', '/v1/fulfilments', { channel: 'web', order_id: orderId, lines: [{ sku, qty: 1 }] }),
      200,
      'ship one',
    );
    let s = await levels(sku);
    assert.deepEqual([s.on_hand, s.committed], [5, 2]);
    assertOk(await a.admin('POST', `/v1/sales/web/${enc(orderId)}/cancel`, { reason: 'changed mind' }), 200, 'cancel');
    s = await levels(sku);
    assert.deepEqual([s.on_hand, s.committed, s.available], [5, 0, 5]);

    // Without order_id and channel: the order is (direct, reservation id).
    const direct = assertOk(await reserve({ lines: [{ sku, qty: 1 }] }), 201, 'hold direct');
    assertOk(await step(direct.id, 'commit', {}), 200, 'commit direct');
    assertOk(await a.admin('POST', '/v1/fulfilments', { order_id: direct.id, lines: [{ sku, qty: 1 }] }), 200, 'ship direct');
    s = await levels(sku);
    assert.deepEqual([s.on_hand, s.committed], [4, 0]);
  });

  test('a bundle hold goes through a coordinator; once its DELETE answered it is no longer expanded', async () => {
    const cup = await stocked('CUP', 10);
    const kit = unique('KIT');
    assertOk(await a.admin('PUT', `/v1/products/${enc(kit)}`, { title: 'Kit', components: [{ sku: cup, qty: 2 }] }), 201, 'bundle');
    let got = await availability(kit, cup);
    assert.deepEqual([got[kit].available, got[kit].bundle], [5, true]);
    const hold = assertOk(await reserve({ lines: [{ sku: kit, qty: 2 }] }, { 'idempotency-key': unique('key') }), 201, 'bundle hold');
    assert.match(hold.id, /^res_/, 'a coordinator keeps bundle holds');
    assert.deepEqual(hold.lines, [{ sku: cup, qty: 4, location: 'main' }]);
    assert.equal((await levels(cup)).reserved, 4);
    got = await availability(kit);
    assert.equal(got[kit].available, 3);

    const del = await a.admin('DELETE', `/v1/products/${enc(kit)}`);
    assert.equal(del.status, 204, del.text);
    // No longer a bundle: its own (empty) ledger answers.
    const plain = await reserve({ lines: [{ sku: kit, qty: 1 }] });
    const p = assertProblem(plain, 409, 'insufficient-stock', 'the removed bundle is a plain SKU');
    assert.deepEqual(p.lines.map((l) => l.sku), [kit]);
    got = await availability(kit);
    assert.deepEqual([got[kit].available, got[kit].bundle], [0, undefined]);
    assert.equal((await levels(cup)).reserved, 4, 'the earlier bundle hold stands');

    // Defined again: expanded again.
    assertOk(await a.admin('PUT', `/v1/products/${enc(kit)}`, { components: [{ sku: cup, qty: 3 }] }), 201, 'bundle again (created anew)');
    const again = assertOk(await reserve({ lines: [{ sku: kit, qty: 1 }] }), 201, 'bundle hold again');
    assert.deepEqual(again.lines, [{ sku: cup, qty: 3, location: 'main' }]);
    // A product that is not a bundle any more (components removed by a PUT).
    assertOk(await a.admin('PUT', `/v1/products/${enc(kit)}`, { title: 'Kit' }), 200, 'not a bundle');
    assertProblem(await reserve({ lines: [{ sku: kit, qty: 1 }] }), 409, 'insufficient-stock', 'plain again');
  });

  test('forged or malformed ids → 404 reservation-not-found; a client id may not take the rsk_ prefix', async () => {
    const sku = await stocked('FORGE', 5);
    const real = assertOk(await reserve({ lines: [{ sku, qty: 1 }] }), 201, 'hold').id;
    const forged = [
      `rsk_${'0'.repeat(20)}_${sku}`,
      real.replace(/^rsk_./, (m) => (m.endsWith('0') ? 'rsk_1' : 'rsk_0')),
      'rsk_zz',
      `rsk_${'0'.repeat(20)}_a@b`,
      `rsk_${'0'.repeat(20)}_${unique('NEVER')}`,
      'rsk_',
    ];
    for (const id of forged) {
      assertProblem(await getRes(id), 404, 'reservation-not-found', `GET ${id}`);
      assertProblem(await step(id, 'commit', {}), 404, 'reservation-not-found', `commit ${id}`);
      assertProblem(await step(id, 'release', {}), 404, 'reservation-not-found', `release ${id}`);
      assertProblem(await step(id, 'extend', { ttl_seconds: 60 }), 404, 'reservation-not-found', `extend ${id}`);
    }
    assert.equal(assertOk(await getRes(real), 200, 'the real one').status, 'held');
    const p = assertProblem(await reserve({ id: `rsk_${'0'.repeat(20)}_${sku}`, lines: [{ sku, qty: 1 }] }), 422, 'validation-failed');
    assert.deepEqual(fieldsOf(p), ['id']);
  });
});
