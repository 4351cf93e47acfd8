// End-to-end import benchmark under `wrangler dev`: a generated plain CSV of IMPORT_ROWS rows
// (default 100,000) over IMPORT_SKUS SKUs (default 10,000, so 10 locations each), posted to
// POST /v1/imports three times: dry run, apply, and apply again (every row unchanged). Files over
// 10,000 rows or 1,000 SKUs answer 202 with a job: the time is then until the job is done.
//
//   node bench/import-load.mjs [URL]
import { start } from '../tests/e2e/lib/worker.mjs';

const ROWS = Number(process.env.IMPORT_ROWS ?? 100_000);
const SKUS = Number(process.env.IMPORT_SKUS ?? 10_000);
const perSku = Math.max(1, Math.ceil(ROWS / SKUS));

let runtime;
let url = process.argv[2];
if (!url) {
  runtime = await start();
  url = runtime.url;
}

const run = Date.now().toString(36);
const lines = ['sku,quantity,location'];
for (let i = 0; lines.length <= ROWS; i++) {
  const sku = `BULK-${run}-${Math.floor(i / perSku)}`;
  lines.push(`${sku},${(i * 7) % 500},loc-${i % perSku}`);
}
const csv = lines.join('\n') + '\n';
console.log(`file: ${ROWS} rows, ${(csv.length / 1e6).toFixed(1)} MB, ${Math.ceil(ROWS / perSku)} SKUs × ${perSku} locations`);

async function post(query) {
  const t0 = performance.now();
  const r = await fetch(`${url}/v1/imports?${query}`, {
    method: 'POST',
    headers: { authorization: 'Bearer dev-admin', 'content-type': 'text/csv' },
    body: csv,
  });
  let body = await r.json();
  if (r.status === 202) {
    const job = body;
    for (;;) {
      await new Promise((res) => setTimeout(res, 500));
      // The local runtime may fail or stall a poll while it is short of memory: poll again.
      const p = await fetch(`${url}${job.poll}?limit=1`, {
        headers: { authorization: 'Bearer dev-admin', connection: 'close' },
        signal: AbortSignal.timeout(30_000),
      }).catch(() => null);
      if (!p || p.status >= 500) continue;
      const answer = await p.json().catch(() => ({}));
      if (p.status !== 200) throw new Error(`${query}: poll ${p.status} ${JSON.stringify(answer).slice(0, 300)}`);
      body = answer;
      if (body.status === 'done') break;
    }
  } else if (r.status !== 200) {
    throw new Error(`${query}: ${r.status} ${JSON.stringify(body).slice(0, 300)}`);
  }
  const secs = (performance.now() - t0) / 1000;
  const how = body.progress ? `job, ${body.progress.chunks} chunks` : 'in the request';
  console.log(`${query.padEnd(28)} ${secs.toFixed(1)} s  ${(ROWS / secs).toFixed(0)} rows/s  (${how})  summary=${JSON.stringify(body.summary)}`);
}

try {
  await post('format=csv&mode=set&dry_run=true');
  await post('format=csv&mode=set');
  await post('format=csv&mode=set');
} finally {
  if (runtime) await runtime.stop();
}
