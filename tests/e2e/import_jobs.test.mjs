// Large imports as jobs against the real runtime (workerd, the `import-jobs` queue, D1): a file
// touching more than 1,000 SKUs answers 202 with a job; the queue applies it chunk by chunk; the
// job reports progress, a summary and the per-row report page by page; every SKU holds the
// file's number; the same file posted again with the same Idempotency-Key is the same job and
// applies nothing twice (adjust mode would show it); rows without a SKU are reported.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';

import { api, start, unique, until } from './lib/worker.mjs';

let rt;
let A;

before(async () => {
  rt = await start();
  A = api(rt.url);
});
after(async () => {
  await rt?.stop();
});

function upload(query, csv, headers = {}) {
  return A.raw('POST', `/v1/imports?${query}`, { token: 'dev-admin', body: csv, headers: { 'content-type': 'text/csv', ...headers } });
}

async function onHand(sku) {
  const r = await A.admin('GET', `/v1/skus/${encodeURIComponent(sku)}`);
  assert.equal(r.status, 200, r.text);
  return r.body.on_hand;
}

async function finished(id) {
  const done = await until(async () => {
    const r = await A.admin('GET', `/v1/imports/${id}?limit=1`);
    assert.equal(r.status, 200, r.text);
    return r.body.status === 'done' ? r.body : null;
  }, { timeoutMs: 240_000, everyMs: 500 });
  assert.ok(done, `job ${id} did not finish`);
  return done;
}

test('an adjust file over 1,000 SKUs is a job: applied once, reported, replayed by its key', { timeout: 600_000 }, async () => {
  const run = unique('JOB');
  const n = 1_200;
  const skus = Array.from({ length: n }, (_, i) => `${run}-${i}`);
  const lines = ['sku,quantity', ...skus.map((s, i) => `${s},${(i % 7) + 1}`), ',3', 'bad sku!,2'];
  const csv = `${lines.join('\n')}\n`;
  const key = `imp-job-${run}`;

  const t0 = performance.now();
  const r = await upload('format=csv&mode=adjust', csv, { 'idempotency-key': key });
  assert.equal(r.status, 202, r.text);
  assert.match(r.body.import_id, /^imp_/);
  assert.equal(r.body.poll, `/v1/imports/${r.body.import_id}`);
  assert.ok(['queued', 'running', 'done'].includes(r.body.status), r.text);
  assert.equal(r.body.progress.skus, n);
  assert.ok(r.body.progress.chunks >= 1 + Math.ceil(n / 250), JSON.stringify(r.body.progress));

  const job = await finished(r.body.import_id);
  const ms = performance.now() - t0;
  console.log(`import job: ${n} SKUs (adjust) applied in ${(ms / 1000).toFixed(1)} s, ${job.progress.chunks} chunks`);
  assert.equal(job.summary.rows, n + 2);
  assert.equal(job.summary.applied, n);
  assert.equal(job.summary.errors + job.summary.skipped, 2, JSON.stringify(job.summary));
  for (const i of [0, 1, 249, 250, 777, n - 1]) assert.equal(await onHand(skus[i]), (i % 7) + 1, skus[i]);
  const journal = await A.admin('GET', `/v1/skus/${encodeURIComponent(skus[0])}/journal`);
  assert.equal(journal.body.entries.at(-1).cause.import_id, r.body.import_id);

  // The per-row report, page by page, in line order.
  const seen = [];
  let after = 0;
  for (;;) {
    const page = await A.admin('GET', `/v1/imports/${r.body.import_id}?after=${after}&limit=500`);
    assert.equal(page.status, 200, page.text);
    seen.push(...page.body.rows);
    if (page.body.next === undefined) break;
    after = page.body.next;
  }
  assert.equal(seen.length, n + 2);
  assert.ok(seen.every((row, i) => i === 0 || seen[i - 1].line < row.line), 'line order');
  assert.deepEqual(seen.slice(0, 1).map((row) => [row.line, row.status, row.sku, row.quantity]), [[2, 'applied', skus[0], 1]]);
  assert.ok(seen.slice(-2).every((row) => row.status === 'error' || row.status === 'skipped'), JSON.stringify(seen.slice(-2)));

  // The same file with the same key: the same job, nothing applied again.
  const again = await upload('format=csv&mode=adjust', csv, { 'idempotency-key': key });
  assert.equal(again.status, 202, again.text);
  assert.equal(again.body.import_id, r.body.import_id);
  assert.equal(again.body.status, 'done');
  for (const i of [0, 500, n - 1]) assert.equal(await onHand(skus[i]), (i % 7) + 1);

  // Errors: an unknown job is 404; bad paging is 422.
  const missing = await A.admin('GET', '/v1/imports/imp_0000000000000000');
  assert.equal(missing.status, 404, missing.text);
  assert.equal(missing.body.type, '/problems/not-found');
  const bad = await A.admin('GET', `/v1/imports/${r.body.import_id}?limit=0`);
  assert.equal(bad.status, 422, bad.text);
  assert.equal(bad.body.errors[0].field, 'limit');
});

test('small files are still applied within their request', async () => {
  const sku = unique('JOB-SMALL');
  const r = await upload('format=csv&mode=set', `sku,quantity\n${sku},5\n`);
  assert.equal(r.status, 200, r.text);
  assert.equal(await onHand(sku), 5);
});
