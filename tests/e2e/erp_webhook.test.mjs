// The webhook ERP end to end (docs/erp.md "Webhook ERP", docs/api.md "ERP connections"): every
// storefront checkout and marketplace sale at a location a webhook connection masters reaches the
// loopback receiver (tests/sim/erp_webhook.mjs, which checks the signature and answers 409 to a
// repeated Idempotency-Key) exactly once — one signed `order.created` per order and SKU — despite
// ~10 % injected failures (500, 429 with Retry-After, answers lost after the document arrived);
// a cancellation and a shipment follow as `order.cancelled` / `order.fulfilled`; a local adjustment
// forwarded to the ERP (`local_adjustments: forward`) reaches it once as `adjustment.requested`,
// through lost answers, and its request row reads `sent`. Snapshots in: a snapshot the simulator
// signs with the connection's secret (`POST /v1/erp/connections/{id}/snapshots`, no admin token)
// applies; a forged one is 401 and changes nothing; a replay is ignored as not newer (`stale`);
// a line at a location the connection does not master refuses the whole snapshot (422).
//
//   STOCKEDGE_SKIP_BUILD=1 node --test --test-concurrency=1 tests/e2e/erp_webhook.test.mjs

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { assertOk } from './lib/expect.mjs';
import { erpClient } from './lib/erp.mjs';
import { atLocation, failuresOf, runCron } from './lib/reads.mjs';
import { unique, until, useRuntime } from './lib/worker.mjs';
import { startErpWebhookSim } from '../sim/erp_webhook.mjs';

const enc = encodeURIComponent;
const SECRET = 'erp-webhook-e2e-secret';
const STOCK = 100;
const LOC = 'hook';

describe('orders and adjustment requests to a webhook ERP', () => {
  const a = useRuntime({ vars: { SIM_ERP_HOOK: SECRET } });
  let sim;
  const conn = unique('hook');
  const sku = (i) => `HOOK-${conn}-${i}`;
  const ref = (channel, order, s) => `${channel}/${order}|${s}`;
  const { call } = erpClient(a);
  const atHook = (s) => atLocation(a, s, LOC);
  const failures = () => failuresOf(a, (x) => x.channel === `erp:${conn}`);

  before(async () => { sim = await startErpWebhookSim({ secret: SECRET }); });
  after(() => sim?.close());

  test('a webhook connection is validated and masters its location', async () => {
    const bad = await call('PUT', `/v1/erp/connections/${enc(conn)}`, { kind: 'webhook', base_url: 'http://erp.example.com/hook' });
    assert.equal(bad.status, 422);
    assert.deepEqual(JSON.parse(bad.text).errors.map((e) => e.field), ['base_url', 'credentials_secret']);
    // Stock first: once the warehouse maps to the location, local changes go to the ERP.
    for (const i of [0, 1]) {
      assertOk(await a.admin('PUT', `/v1/skus/${enc(sku(i))}/stock`, { on_hand: STOCK, location: LOC }), 200, 'stock');
    }
    assertOk(await call('PUT', `/v1/erp/connections/${enc(conn)}`, {
      kind: 'webhook', base_url: sim.endpoint, credentials_secret: 'SIM_ERP_HOOK', local_adjustments: 'forward',
    }), 200, 'put connection');
    assertOk(await call('PUT', `/v1/erp/connections/${enc(conn)}/mappings`, {
      items: { W0: sku(0), W1: sku(1) }, warehouses: { WH1: LOC },
    }), 200, 'mappings');
  });

  test('checkouts and marketplace sales reach the webhook ERP exactly once despite failures', async () => {
    const expected = new Map(); // reference → {item, qty}
    sim.faults.set({ rate: 0.1, kinds: ['500', '429', 'lost'], retryAfterSeconds: 1, seed: 7, paths: ['/erp'] });
    for (let i = 0; i < 6; i++) {
      const r = assertOk(await a.storefront('POST', '/v1/reservations', { lines: [{ sku: sku(0), qty: 1, location: LOC }] }), 201, 'hold');
      const web = unique('web');
      assertOk(await a.storefront('POST', `/v1/reservations/${enc(r.id)}/commit`, { order_id: web }), 200, 'commit');
      expected.set(ref('direct', web, sku(0)), { item: 'W0', qty: 1 });
      const amz = unique('amz');
      assertOk(await a.admin('POST', '/v1/sales', { channel: 'amazon', order_id: amz, lines: [{ sku: sku(1), qty: 2, location: LOC, line_id: 'l1' }] }), 200, 'sale');
      expected.set(ref('amazon', amz, sku(1)), { item: 'W1', qty: 2 });
    }
    const created = (r) => sim.ofReference(r).filter((d) => d.type === 'order.created');
    const done = await until(() => [...expected.keys()].every((r) => created(r).length > 0), { timeoutMs: 60_000, everyMs: 250 });
    const injected = sim.faults.history.length;
    sim.faults.clear();
    assert.ok(done, `missing: ${[...expected.keys()].filter((r) => created(r).length === 0).join(', ')}`);
    assert.ok(injected > 0, 'faults were injected');
    await new Promise((r) => setTimeout(r, 1500)); // a redelivery must not add a second document
    for (const [r, { item, qty }] of expected) {
      const docs = created(r);
      assert.equal(docs.length, 1, `${r}: ${docs.length} documents`);
      assert.equal(docs[0].key, `${r}:order.created`);
      assert.deepEqual(docs[0].body.lines, [{ sku: r.split('|')[1], item_code: item, location: LOC, warehouse: 'WH1', quantity: qty }], r);
    }
    assert.deepEqual(sim.refused, [], 'every document was signed');
    assert.deepEqual(await failures(), [], 'no dead letter');
    assert.deepEqual([(await atHook(sku(0))).available, (await atHook(sku(1))).available], [STOCK - 6, STOCK - 12]);
  });

  test('a cancellation and a shipment follow, each once', async () => {
    const cancelled = unique('amzc');
    assertOk(await a.admin('POST', '/v1/sales', { channel: 'amazon', order_id: cancelled, lines: [{ sku: sku(1), qty: 1, location: LOC, line_id: 'l1' }] }), 200, 'sale');
    const shipped = unique('amzf');
    assertOk(await a.admin('POST', '/v1/sales', { channel: 'amazon', order_id: shipped, lines: [{ sku: sku(1), qty: 3, location: LOC, line_id: 'l1' }] }), 200, 'sale');
    const rc = ref('amazon', cancelled, sku(1));
    const rf = ref('amazon', shipped, sku(1));
    assert.ok(await until(() => sim.ofReference(rc).length === 1 && sim.ofReference(rf).length === 1, { timeoutMs: 20_000 }), 'sales delivered');
    assertOk(await a.admin('POST', `/v1/sales/amazon/${enc(cancelled)}/cancel`, {}), 200, 'cancel');
    assertOk(await a.admin('POST', '/v1/fulfilments', { order_id: shipped, channel: 'amazon', lines: [{ sku: sku(1), qty: 2, location: LOC }] }), 200, 'fulfil');
    assert.ok(await until(() => sim.ofReference(rc).length === 2 && sim.ofReference(rf).length === 2, { timeoutMs: 20_000 }), 'cancel and shipment delivered');
    await new Promise((r) => setTimeout(r, 1000));
    assert.deepEqual(sim.ofReference(rc).map((d) => d.type), ['order.created', 'order.cancelled']);
    assert.deepEqual(sim.ofReference(rf).map((d) => d.type), ['order.created', 'order.fulfilled']);
    const ship = sim.ofReference(rf)[1];
    assert.match(ship.key, new RegExp(`^${rf.replace(/[|/]/g, '\\$&')}:order\\.fulfilled:\\d+$`));
    assert.deepEqual(ship.body.lines.map((l) => [l.item_code, l.warehouse, l.quantity]), [['W1', 'WH1', 2]]);
  });

  test('units a later sale adds to an order reach the ERP once, as an addition; the cancellation cancels both', async () => {
    const order = unique('amza');
    const sale = (line, qty) => a.admin('POST', '/v1/sales', { channel: 'amazon', order_id: order, lines: [{ sku: sku(1), qty, location: LOC, line_id: line }] });
    assertOk(await sale('l1', 2), 200, 'sale');
    const r = ref('amazon', order, sku(1));
    assert.ok(await until(() => sim.ofReference(r).length === 1, { timeoutMs: 20_000 }), 'the order delivered');
    // A second line of the same SKU in the same order, recorded by another change; some answers
    // are lost after the ERP recorded the document (StockEdge repeats under the same key).
    sim.faults.set({ rate: 0.3, kinds: ['500', 'lost'], seed: 13, paths: ['/erp'] });
    assertOk(await sale('l2', 1), 200, 'a later sale of the same order');
    const added = () => sim.documents.filter((d) => d.body.reference.startsWith(`${r}+`));
    assert.ok(await until(() => added().length > 0, { timeoutMs: 30_000, everyMs: 250 }), 'the addition delivered');
    await new Promise((res) => setTimeout(res, 1500)); // a redelivery must not add a second document
    sim.faults.clear();
    assert.deepEqual(sim.ofReference(r).map((d) => [d.type, d.body.lines.map((l) => l.quantity)]), [['order.created', [2]]], 'the order keeps its first document');
    const docs = added();
    assert.equal(docs.length, 1, `one addition: ${docs.map((d) => d.key).join(', ')}`);
    const [add] = docs;
    assert.match(add.body.reference, new RegExp(`^${r.replace(/[|/]/g, '\\$&')}\\+\\d+$`));
    assert.deepEqual([add.type, add.body.lines.map((l) => [l.item_code, l.quantity])], ['order.created', [['W1', 1]]]);
    assert.deepEqual(await failures(), [], 'no dead letter');
    assertOk(await a.admin('POST', `/v1/sales/amazon/${enc(order)}/cancel`, {}), 200, 'cancel');
    const both = () => sim.ofReference(r).length === 2 && sim.ofReference(add.body.reference).length === 2;
    assert.ok(await until(both, { timeoutMs: 20_000 }), 'both documents cancelled');
    assert.deepEqual(sim.ofReference(add.body.reference).map((d) => d.type), ['order.created', 'order.cancelled']);
    assert.deepEqual(sim.ofReference(r).map((d) => d.type), ['order.created', 'order.cancelled']);
  });

  test('a forwarded adjustment reaches the ERP once, through lost answers, and its request reads sent', async () => {
    const fwd = await a.admin('POST', `/v1/skus/${enc(sku(0))}/adjustments`, { delta: -2, reason: 'damaged', location: LOC });
    assert.equal(fwd.status, 202, fwd.text);
    const id = JSON.parse(fwd.text).forwarded.id;
    const listed = async () => {
      const r = assertOk(await call('GET', `/v1/erp/adjustment-requests?connection=${enc(conn)}`), 200, 'list');
      return r.items.find((x) => x.id === id);
    };
    assert.equal((await listed()).status, 'pending');
    const cron = () => runCron(a.url);
    // Every answer of one run's tries (4) lost: the document arrived, StockEdge does not know it.
    sim.faults.set({ sequence: ['lost', 'lost', 'lost', 'lost'], paths: ['/erp'] });
    await cron();
    const docs = () => sim.ofType('adjustment.requested').filter((d) => d.body.id === id);
    assert.equal(docs().length, 1, 'the document arrived; its answers were lost');
    const pending = await listed();
    assert.deepEqual([pending.status, pending.attempts, pending.sent_at], ['pending', 1, null], 'retried later');
    assert.ok(pending.last_error);
    // The back-off (2 s), then the next cron run: the ERP answers 409, which counts as received.
    const sent = await until(async () => { await cron(); return (await listed()).status === 'sent'; }, { timeoutMs: 20_000, everyMs: 1000 });
    assert.ok(sent, JSON.stringify(await listed()));
    await cron();
    assert.equal(docs().length, 1, 'received once');
    const doc = docs()[0];
    assert.equal(doc.key, String(id));
    assert.deepEqual(
      { op: doc.body.op, delta: doc.body.delta, sku: doc.body.sku, item_code: doc.body.item_code, location: doc.body.location, warehouse: doc.body.warehouse, reason: doc.body.reason },
      { op: 'adjust', delta: -2, sku: sku(0), item_code: 'W0', location: LOC, warehouse: 'WH1', reason: 'damaged' },
    );
    assert.equal((await atHook(sku(0))).on_hand, STOCK, 'on hand changes only with the ERP\'s next figure');
  });

  test('signed snapshots in: applied, a forgery 401 and a replay stale, both changing nothing', async () => {
    const s = sku(2);
    const levels = async () => { const l = await atHook(s); return l && [l.on_hand, l.available]; };
    const snapshot = { snapshot: `${conn}-s1`, basis: 'available', as_of: { sequence: 10 }, lines: [{ sku: s, location: LOC, quantity: 40 }] };
    const first = await sim.sendSnapshot(a.url, conn, snapshot);
    assert.equal(first.status, 200, first.text);
    assert.deepEqual(first.json.items.map((i) => [i.sku, i.location, i.effect, i.available]), [[s, LOC, 'applied', 40]]);
    assert.deepEqual(await levels(), [40, 40]);
    // Forged (another key), stale (signed an hour ago), unsigned: 401 and nothing changes.
    const newer = { ...snapshot, snapshot: `${conn}-s2`, as_of: { sequence: 11 }, lines: [{ sku: s, location: LOC, quantity: 5 }] };
    const forged = await sim.sendSnapshot(a.url, conn, newer, { secret: 'not-the-connection-secret' });
    assert.equal(forged.status, 401, forged.text);
    assert.equal(forged.json.type, '/problems/unauthorized');
    const old = await sim.sendSnapshot(a.url, conn, newer, { timestampSecs: Math.floor(Date.now() / 1000) - 3600 });
    assert.equal(old.status, 401, old.text);
    const unsigned = await fetch(`${a.url}/v1/erp/connections/${enc(conn)}/snapshots`, { method: 'POST', body: JSON.stringify(newer) });
    assert.equal(unsigned.status, 401, await unsigned.text());
    assert.deepEqual(await levels(), [40, 40], 'a refused snapshot changes nothing');
    // A replay of the applied snapshot (signed afresh) is not newer: stale, nothing changes.
    const replay = await sim.sendSnapshot(a.url, conn, snapshot);
    assert.equal(replay.status, 200, replay.text);
    assert.deepEqual(replay.json.items.map((i) => i.effect), ['stale']);
    assert.deepEqual(await levels(), [40, 40]);
    // Not this connection's location: the whole snapshot is refused, naming the line.
    const elsewhere = { ...newer, lines: [{ sku: s, location: LOC, quantity: 5 }, { sku: s, location: 'main', quantity: 9 }] };
    const refused = await sim.sendSnapshot(a.url, conn, elsewhere);
    assert.equal(refused.status, 422, refused.text);
    assert.deepEqual(refused.json.errors.map((e) => e.field), ['lines[1].location']);
    assert.deepEqual(await levels(), [40, 40]);
    // Unknown connection: the same 401 as a forgery, byte for byte (ids cannot be probed), whether
    // signed with the right key or not. A newer signed snapshot, as CSV, applies.
    for (const opts of [{}, { secret: 'not-the-connection-secret' }]) {
      const unknown = await sim.sendSnapshot(a.url, `${conn}-none`, newer, opts);
      assert.deepEqual([unknown.status, unknown.text], [401, forged.text]);
    }
    const csv = await sim.sendSnapshot(a.url, conn, `sku,quantity,location\n${s},5,${LOC}\n`, {
      query: `format=csv&snapshot=${enc(`${conn}-s3`)}&basis=available&as_of.sequence=12`,
    });
    assert.equal(csv.status, 200, csv.text);
    assert.deepEqual(csv.json.items.map((i) => [i.effect, i.available]), [['applied', 5]]);
    assert.deepEqual(await levels(), [5, 5]);
  });

  test("signed snapshots in the ERP's own codes: mapped through the connection's mappings; an unmapped code 422, nothing applied", async () => {
    const s = sku(0);
    const levels = async () => { const l = await atHook(s); return l && [l.on_hand, l.available]; };
    const snap = { snapshot: `${conn}-codes-1`, basis: 'available', as_of: { sequence: 100 }, lines: [{ item: 'W0', warehouse: 'WH1', quantity: 33 }] };
    const first = await sim.sendSnapshot(a.url, conn, snap);
    assert.equal(first.status, 200, first.text);
    assert.deepEqual(first.json.items.map((i) => [i.sku, i.location, i.effect]), [[s, LOC, 'applied']]);
    const after = await levels();
    assert.deepEqual(after, [first.json.items[0].on_hand, first.json.items[0].available]);
    // One code the connection does not map: the whole snapshot is refused, naming it.
    const unmapped = { ...snap, snapshot: `${conn}-codes-2`, as_of: { sequence: 101 }, lines: [{ item: 'W0', warehouse: 'WH1', quantity: 1 }, { item: 'NOPE', warehouse: 'WH1', quantity: 2 }] };
    const refused = await sim.sendSnapshot(a.url, conn, unmapped);
    assert.equal(refused.status, 422, refused.text);
    assert.deepEqual(refused.json.errors.map((e) => e.field), ['lines[1].item']);
    assert.deepEqual(await levels(), after, 'nothing applied');
    // CSV with the ERP's columns: applied as the same line in StockEdge's terms.
    const csv = await sim.sendSnapshot(a.url, conn, 'Item;Warehouse;Quantity\nW0;WH1;40\n', {
      query: `format=csv&snapshot=${enc(`${conn}-codes-3`)}&basis=available&as_of.sequence=102`,
    });
    assert.equal(csv.status, 200, csv.text);
    assert.deepEqual(csv.json.items.map((i) => [i.sku, i.location, i.effect]), [[s, LOC, 'applied']]);
    assert.equal(csv.json.items[0].on_hand - after[0], 7, 'on hand moved by the ERP figure\'s change (33 → 40)');
  });
});
