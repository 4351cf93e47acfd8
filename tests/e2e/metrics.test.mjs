// The counters at GET /v1/metrics against the real runtime (workerd): who may read them, that a
// catalogue request's D1 queries are counted as the request's, and that each stock change is put
// on the queue once — N changes, N deliveries, including under 64 concurrent holds on one SKU
// (before the outbox's single flight, 5.5–6.1 deliveries per change at 16–64 clients). And the
// durable counters (D1, true across isolates): known activity — holds placed, committed,
// released, a sale and its cancel on one channel, a refused webhook — scraped, parsed and
// counted exactly; refused holds by reason (written by the isolate after the answer, at most
// every 5 s) and order-feed poll runs by channel and result.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';

import { api, parseMetrics, pool, start, unique, until } from './lib/worker.mjs';

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

/** The counters as `{ 'name{labels}': value }`. */
async function metrics() {
  const r = await A.admin('GET', '/v1/metrics');
  assert.equal(r.status, 200, r.text);
  assert.match(r.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return parseMetrics(r.text);
}

const D1_REQUEST = 'stockedge_d1_queries_total{origin="request"}';
const DELIVERIES = 'stockedge_queue_deliveries_total';
const CHANGES = 'stockedge_queue_changes_total';
const SENT = 'stockedge_outbox_events_sent_total';

/** Waits until the consumer has received `changes` more changes than `base` and stays quiet. */
async function settled(base, changes) {
  let last = null;
  const done = await until(
    async () => {
      const m = await metrics();
      const quiet = last && m[DELIVERIES] === last[DELIVERIES] && m[SENT] === last[SENT];
      last = m;
      return m[CHANGES] - base[CHANGES] >= changes && quiet ? m : null;
    },
    { timeoutMs: 30_000, everyMs: 300 },
  );
  assert.ok(done, `the consumer did not receive ${changes} changes: ${JSON.stringify(last)}`);
  return done;
}

test('the counters are for admins only', async () => {
  assert.equal((await A.anon('GET', '/v1/metrics')).status, 401);
  const r = await A.storefront('GET', '/v1/metrics');
  assert.equal(r.status, 403);
  assert.equal(r.body.type, '/problems/forbidden');
  assert.equal((await A.admin('POST', '/v1/metrics')).status, 405);
});

test("a catalogue request's D1 queries are counted as the request's", async () => {
  const sku = unique('MET-P');
  const before = await metrics();
  const put = await A.admin('PUT', `/v1/products/${enc(sku)}`, { title: 'counted' });
  assert.equal(put.status, 201, put.text);
  const get = await A.admin('GET', `/v1/products/${enc(sku)}`);
  assert.equal(get.status, 200, get.text);
  const now = await metrics();
  assert.ok(now[D1_REQUEST] - before[D1_REQUEST] >= 2, `D1 queries: ${before[D1_REQUEST]} → ${now[D1_REQUEST]}`);
});

test('N stock changes are N queue deliveries', async () => {
  const sku = unique('MET-N');
  const base = await metrics();
  const N = 20;
  for (let i = 1; i <= N; i++) {
    const r = await A.admin('PUT', `/v1/skus/${enc(sku)}/stock`, { on_hand: i });
    assert.equal(r.status, 200, r.text);
  }
  const m = await settled(base, N);
  assert.equal(m[CHANGES] - base[CHANGES], N, 'one change per PUT');
  assert.equal(m[DELIVERIES] - base[DELIVERIES], N, 'one delivery per change');
  assert.equal(m[SENT] - base[SENT], N, 'one outbox event sent per change');
});

test('64 concurrent holds on one SKU: one delivery per change', { timeout: 120_000 }, async () => {
  const sku = unique('MET-HOT');
  const put = await A.admin('PUT', `/v1/skus/${enc(sku)}/stock`, { on_hand: 1_000 });
  assert.equal(put.status, 200, put.text);
  const base = await settled(await metrics(), 0);
  const holds = await pool(
    Array.from({ length: 64 }, () => () => A.storefront('POST', '/v1/reservations', { lines: [{ sku, qty: 1 }] })),
    64,
  );
  const statuses = holds.map((r) => r.status);
  assert.deepEqual(statuses.filter((s) => s !== 201), [], `every hold answered 201: ${holds.find((r) => r.status !== 201)?.text}`);
  const m = await settled(base, 64);
  const changes = m[CHANGES] - base[CHANGES];
  const deliveries = m[DELIVERIES] - base[DELIVERIES];
  assert.ok(changes >= 64, `at least one change per hold (${changes})`);
  assert.equal(deliveries, changes, `deliveries per change ${(deliveries / changes).toFixed(2)}`);
  assert.equal(m[SENT] - base[SENT], changes, 'each change sent once by the outbox');
});

test('the hot path makes no D1 query: availability and a single-SKU hold, commit and release', async () => {
  const sku = unique('HOT');
  const cup = unique('CUP');
  const kit = unique('KIT');
  for (const s of [sku, cup]) {
    assert.equal((await A.admin('PUT', `/v1/skus/${enc(s)}/stock`, { on_hand: 20 })).status, 200);
  }
  assert.equal((await A.admin('PUT', `/v1/products/${enc(kit)}`, { title: 'Kit', components: [{ sku: cup, qty: 2 }] })).status, 201);
  const d1 = async () => (await metrics())[D1_REQUEST] ?? 0;

  let base = await d1();
  const read = await A.storefront('GET', `/v1/availability?sku=${enc(sku)}&consistency=strong`);
  assert.equal(read.status, 200, read.text);
  assert.equal((await A.storefront('GET', `/v1/availability?sku=${enc(sku)}`)).status, 200);
  const held = await A.storefront('POST', '/v1/reservations', { lines: [{ sku, qty: 2 }] });
  assert.equal(held.status, 201, held.text);
  const id = held.body.id;
  assert.equal((await A.storefront('GET', `/v1/reservations/${enc(id)}`)).status, 200);
  assert.equal((await A.storefront('POST', `/v1/reservations/${enc(id)}/commit`, {})).status, 200);
  const other = await A.storefront('POST', '/v1/reservations', { lines: [{ sku, qty: 1 }] });
  assert.equal(other.status, 201, other.text);
  assert.equal((await A.storefront('POST', `/v1/reservations/${enc(other.body.id)}/release`, {})).status, 200);
  // A bundle is known by its own SKU's object: read and held without the catalogue too.
  const kitRead = await A.storefront('GET', `/v1/availability?sku=${enc(kit)}&consistency=strong`);
  assert.equal(kitRead.body.items[0].available, 10, kitRead.text);
  assert.equal((await A.storefront('POST', '/v1/reservations', { lines: [{ sku: kit, qty: 1 }] })).status, 201);
  assert.equal(await d1(), base, 'D1 queries made by the hot path');

  // The counter does count: a sale of a bundle expands it from the catalogue.
  base = await d1();
  const sale = await A.admin('POST', '/v1/sales', { channel: 'amazon', order_id: unique('o'), lines: [{ sku: kit, qty: 1 }] });
  assert.equal(sale.status, 200, sale.text);
  assert.ok((await d1()) > base, 'a bundle sale reads the catalogue');
});

const HOLDS = (outcome) => `stockedge_holds_total{outcome="${outcome}"}`;

test('the durable counters count known activity exactly, each change once', { timeout: 90_000 }, async () => {
  const sku = unique('MET-D');
  const channel = unique('mx').toLowerCase();
  assert.equal((await A.admin('PUT', `/v1/skus/${enc(sku)}/stock`, { on_hand: 50 })).status, 200);
  // Start from a quiet consumer: earlier tests' changes are all counted.
  const quiet = async () => {
    let last = null;
    return until(
      async () => {
        const m = await metrics();
        const same = last && m[CHANGES] === last[CHANGES] && m[HOLDS('placed')] === last[HOLDS('placed')];
        last = m;
        return same ? m : null;
      },
      { timeoutMs: 30_000, everyMs: 500 },
    );
  };
  const base = await quiet();
  assert.ok(base, 'the consumer went quiet');
  const d = (m, k) => (m[k] ?? 0) - (base[k] ?? 0);

  const hold = async () => {
    const r = await A.storefront('POST', '/v1/reservations', { lines: [{ sku, qty: 1 }] });
    assert.equal(r.status, 201, r.text);
    return r.body.id;
  };
  const committed = await hold();
  assert.equal((await A.storefront('POST', `/v1/reservations/${enc(committed)}/commit`, {})).status, 200);
  const released = await hold();
  assert.equal((await A.storefront('POST', `/v1/reservations/${enc(released)}/release`, {})).status, 200);
  await hold(); // left held
  const order = unique('o');
  const sale = await A.admin('POST', '/v1/sales', { channel, order_id: order, lines: [{ sku, qty: 2, line_id: 'l1' }] });
  assert.equal(sale.status, 200, sale.text);
  // A repeated sale changes nothing and counts nothing.
  assert.equal((await A.admin('POST', '/v1/sales', { channel, order_id: order, lines: [{ sku, qty: 2, line_id: 'l1' }] })).status, 200);
  const cancel = await A.admin('POST', `/v1/sales/${enc(channel)}/${enc(order)}/cancel`, {});
  assert.equal(cancel.status, 200, cancel.text);
  // A delivery no channel's key verifies: a rejection, counted before it is answered.
  const forged = await A.anon('POST', '/v1/webhooks/shopify', { id: 1 });
  assert.equal(forged.status, 401, forged.text);

  const SALES = `stockedge_sales_total{channel="${channel}"}`;
  const CANCELS = `stockedge_cancels_total{channel="${channel}"}`;
  const m = await until(
    async () => {
      const m = await metrics();
      return d(m, HOLDS('placed')) >= 3 && d(m, CANCELS) >= 1 && d(m, HOLDS('released')) >= 1 ? m : null;
    },
    { timeoutMs: 30_000, everyMs: 300 },
  );
  assert.ok(m, 'the consumer counted the activity');
  const after = (await quiet()) ?? m;
  assert.equal(d(after, HOLDS('placed')), 3, 'holds placed');
  assert.equal(d(after, HOLDS('committed')), 1, 'holds committed');
  assert.equal(d(after, HOLDS('released')), 1, 'holds released');
  assert.equal(d(after, HOLDS('expired')), 0, 'holds expired');
  assert.equal(after[SALES], 1, 'sales on the channel');
  assert.equal(after[CANCELS], 1, 'cancels on the channel');
  assert.equal(d(after, 'stockedge_webhook_deliveries_total{platform="shopify",outcome="unauthorized"}'), 1);
  assert.ok(after.stockedge_queue_lag_ms >= 0, 'the queue lag gauge is set');

  // The text is well-formed: every sample's family is typed, histograms included.
  const text = (await A.admin('GET', '/v1/metrics')).text;
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const name = line.split(/[{ ]/)[0];
    const family = name.replace(/_(bucket|sum|count)$/, '');
    assert.ok(text.includes(`# TYPE ${name} `) || text.includes(`# TYPE ${family} histogram`), `${name} is typed`);
    assert.match(line, / -?\d+$/, line);
  }
  for (const f of ['stockedge_pushes_total counter', 'stockedge_push_latency_ms histogram', 'stockedge_queue_lag_ms gauge']) {
    assert.ok(text.includes(`# TYPE ${f}`), f);
  }
});

test('refused holds are counted by reason, written after the answer', { timeout: 60_000 }, async () => {
  const sku = unique('MET-R');
  assert.equal((await A.admin('PUT', `/v1/skus/${enc(sku)}/stock`, { on_hand: 1 })).status, 200);
  const REFUSED = 'stockedge_holds_refused_total{reason="insufficient_stock"}';
  const base = (await metrics())[REFUSED] ?? 0;
  const held = await A.storefront('POST', '/v1/reservations', { lines: [{ sku, qty: 1 }] });
  assert.equal(held.status, 201, held.text);
  for (let i = 0; i < 3; i++) {
    const r = await A.storefront('POST', '/v1/reservations', { lines: [{ sku, qty: 1 }] });
    assert.equal(r.status, 409, r.text);
    assert.equal(r.body.type, '/problems/insufficient-stock');
  }
  // The isolate writes its refusals at most every 5 s, with a later hold request: send ones the
  // route refuses as invalid (422, not a refused hold) until the count shows.
  const m = await until(
    async () => {
      const bad = await A.storefront('POST', '/v1/reservations', { lines: [] });
      assert.equal(bad.status, 422, bad.text);
      const now = await metrics();
      return (now[REFUSED] ?? 0) - base >= 3 ? now : null;
    },
    { timeoutMs: 30_000, everyMs: 1_000 },
  );
  assert.ok(m, 'the refusals were written');
  assert.equal(m[REFUSED] - base, 3, 'three refused holds; a 422 is none');
  const text = (await A.admin('GET', '/v1/metrics')).text;
  assert.ok(text.includes('# TYPE stockedge_holds_refused_total counter'));
});

test('order-feed poll runs are counted by channel and result', async () => {
  const channel = unique('mpoll').toLowerCase();
  // A WooCommerce channel whose store cannot be reached: its run is incomplete.
  const put = await A.admin('PUT', `/v1/channels/${channel}`, {
    kind: 'woocommerce', account: 'unreachable.example', credentials_secret: 'SIM_WOO_CREDENTIALS', settings: { base_url: 'http://127.0.0.1:9' },
  });
  assert.equal(put.status, 201, put.text);
  const text = (await A.admin('GET', '/v1/metrics')).text;
  assert.ok(text.includes('# TYPE stockedge_poll_runs_total counter'));
  const runs = [];
  for (let i = 0; i < 2; i++) {
    const r = await A.admin('POST', `/v1/inbound/polls/run?channel=${enc(channel)}`);
    assert.equal(r.status, 200, r.text);
    runs.push(r.body.runs[0].result);
  }
  const m = await metrics();
  const counted = Object.entries(m).filter(([k]) => k.startsWith(`stockedge_poll_runs_total{channel="${channel}",`));
  assert.equal(counted.reduce((n, [, v]) => n + v, 0), 2, JSON.stringify(counted));
  for (const result of new Set(runs)) {
    assert.equal(m[`stockedge_poll_runs_total{channel="${channel}",result="${result}"}`], runs.filter((x) => x === result).length);
  }
});
