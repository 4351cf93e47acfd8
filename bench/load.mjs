// Load script for the service under `wrangler dev` (workerd), on loopback only.
//
//   node bench/load.mjs            starts its own runtime on a free port with fresh state
//   node bench/load.mjs URL        drives an already running StockEdge (e.g. scripts/dev.sh)
//
// Scenarios (bounded in count and time; each prints one line):
//   reserve   single-SKU holds, 64 concurrent clients
//   cart      3-SKU carts, 64 concurrent clients
//   commit    reserve + commit, 32 concurrent clients
//   avail     availability of 10 SKUs per request, 64 concurrent clients
//   sale      marketplace sales on one SKU, 64 concurrent clients
// Env: LOAD_N (requests per scenario, default 2000), LOAD_C (concurrency, default 64).

import { api, latencyLine, percentile, pool, start, unique } from '../tests/e2e/lib/worker.mjs';

const N = Number(process.env.LOAD_N ?? 2000);
const C = Number(process.env.LOAD_C ?? 64);

let runtime;
let url = process.argv[2];
if (!url) {
  // Automatic hotness off: the holds measure the SKU's own object at any rate.
  runtime = await start({ vars: { HOT_AUTO_HOLDS_PER_SECOND: '0' } });
  url = runtime.url;
}
const { admin, storefront } = api(url);

async function stock(sku, on_hand) {
  const r = await admin('PUT', `/v1/skus/${sku}/stock`, { on_hand });
  if (r.status !== 200) throw new Error(`stock ${sku}: ${r.status} ${r.text}`);
}

async function scenario(label, n, c, make) {
  const tasks = Array.from({ length: n }, (_, i) => make(i));
  const t0 = performance.now();
  const results = await pool(tasks, c);
  const secs = (performance.now() - t0) / 1000;
  const ms = results.map((r) => r.ms);
  const statuses = {};
  for (const r of results) statuses[r.status] = (statuses[r.status] ?? 0) + 1;
  console.log(`${latencyLine(label, ms)} throughput=${(n / secs).toFixed(0)}/s statuses=${JSON.stringify(statuses)}`);
  return { label, n, c, p50: percentile(ms, 50), p99: percentile(ms, 99), rps: n / secs, statuses };
}

try {
  const one = unique('LOAD-R');
  await stock(one, N * 10);
  await scenario(`reserve c=${C}`, N, C, () => () =>
    storefront('POST', '/v1/reservations', { lines: [{ sku: one, qty: 1 }], ttl_seconds: 600 }));

  const three = [unique('LOAD-A'), unique('LOAD-B'), unique('LOAD-C')];
  for (const s of three) await stock(s, N * 10);
  await scenario(`cart(3 SKUs) c=${C}`, N, C, () => () =>
    storefront('POST', '/v1/reservations', { lines: three.map((sku) => ({ sku, qty: 1 })), ttl_seconds: 600 }));

  const committed = unique('LOAD-K');
  await stock(committed, N * 10);
  await scenario(`reserve+commit c=${Math.min(C, 32)}`, Math.floor(N / 2), Math.min(C, 32), () => async () => {
    const r = await storefront('POST', '/v1/reservations', { lines: [{ sku: committed, qty: 1 }] });
    if (r.status !== 201) return r;
    const c = await storefront('POST', `/v1/reservations/${r.body.id}/commit`, {});
    return { ...c, ms: r.ms + c.ms };
  });

  const ten = Array.from({ length: 10 }, (_, i) => unique(`LOAD-V${i}`));
  for (const s of ten) await stock(s, 100);
  const q = ten.map((s) => `sku=${s}`).join('&');
  await scenario(`availability(10 SKUs) c=${C}`, N, C, () => () => storefront('GET', `/v1/availability?${q}`));

  const sold = unique('LOAD-S');
  await stock(sold, N * 10);
  await scenario(`sale c=${C}`, N, C, (i) => () =>
    admin('POST', '/v1/sales', { channel: 'amazon', order_id: `LOAD-${i}`, lines: [{ sku: sold, qty: 1 }] }));

  const final = await admin('GET', `/v1/skus/${sold}`);
  console.log(`check: ${sold} committed=${final.body.committed} (expected ${N})`);
} finally {
  if (runtime) await runtime.stop();
}
