// What the structured request log costs: two runtimes of the same build, one with
// REQUEST_LOG=all (the default) and one with REQUEST_LOG=off, measured in interleaved rounds on
// `/healthz` and on a single-SKU hold, with the CPU time of the runtime (workerd) and of the rest of
// wrangler's process group (its Node process, which prints every console line under `wrangler dev`)
// read from /proc before and after each round. Interleaving keeps a busy machine's noise out of the
// difference.
//
//   node bench/request_log.mjs [--rounds 3] [--requests 1500] [--concurrency 16]
//
// Prints a Markdown table (BENCHMARKS.md "What the request log costs").

import os from 'node:os';
import { parseArgs } from 'node:util';

import { ADMIN_TOKEN, STOREFRONT_TOKEN, percentile, pool, request, start, unique } from '../tests/e2e/lib/worker.mjs';
import { cpuNow } from './lib/proc_cpu.mjs';

const { values: opt } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    requests: { type: 'string', default: '1500' },
    concurrency: { type: 'string', default: '16' },
  },
});
const ROUNDS = Number(opt.rounds);
const N = Number(opt.requests);
const CONCURRENCY = Number(opt.concurrency);

/** CPU ms so far of process group `pgid`: the runtime (workerd) and the rest. */
const cpu = (pgid) =>
  cpuNow({ workerd: (p) => p.pgrp === pgid && p.comm === 'workerd', other: (p) => p.pgrp === pgid && p.comm !== 'workerd' });

const modes = ['all', 'off'];
const runtimes = {};
for (const mode of modes) runtimes[mode] = await start({ vars: { REQUEST_LOG: mode } });

const sku = unique('LOGCOST');
for (const mode of modes) {
  const r = await request(runtimes[mode].url, 'PUT', `/v1/skus/${sku}/stock`, { token: ADMIN_TOKEN, body: { on_hand: 1_000_000 } });
  if (r.status !== 200) throw new Error(`stock: ${r.status} ${r.text}`);
}

const scenarios = {
  healthz: (url) => () => request(url, 'GET', '/healthz', {}),
  hold: (url) => () => request(url, 'POST', '/v1/reservations', { token: STOREFRONT_TOKEN, body: { lines: [{ sku, qty: 1 }] } }),
};

const samples = {}; // `${scenario}/${mode}` → [{ rps, p50, workerd, other }]
for (const [name, make] of Object.entries(scenarios)) {
  // Warm both runtimes on the scenario.
  for (const mode of modes) await pool(Array.from({ length: 100 }, () => make(runtimes[mode].url)), 8);
  for (let round = 0; round < ROUNDS; round++) {
    for (const mode of round % 2 ? [...modes].reverse() : modes) {
      const rt = runtimes[mode];
      const before = cpu(rt.pid);
      const t0 = performance.now();
      const timed = Array.from({ length: N }, () => async () => {
        const a = performance.now();
        const r = await make(rt.url)();
        return { ms: performance.now() - a, status: r.status };
      });
      const results = await pool(timed, CONCURRENCY);
      const secs = (performance.now() - t0) / 1000;
      await new Promise((r) => setTimeout(r, 300)); // the last lines printed
      const after = cpu(rt.pid);
      const bad = results.filter((r) => r.status >= 300).length;
      if (bad) throw new Error(`${name}/${mode}: ${bad} answers not 2xx`);
      const row = {
        rps: N / secs,
        p50: percentile(results.map((r) => r.ms), 50),
        workerd: (after.workerd - before.workerd) / N,
        other: (after.other - before.other) / N,
      };
      (samples[`${name}/${mode}`] ??= []).push(row);
      console.error(`${name.padEnd(8)} REQUEST_LOG=${mode.padEnd(3)} round ${round}: ${row.rps.toFixed(0)} req/s, p50 ${row.p50.toFixed(1)} ms, CPU workerd ${row.workerd.toFixed(2)} ms, wrangler ${row.other.toFixed(2)} ms per request`);
    }
  }
}
for (const rt of Object.values(runtimes)) await rt.discard();

const median = (xs) => percentile(xs, 50);
const m = (key, field) => median(samples[key].map((s) => s[field]));
let md = `Run ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on ${os.cpus().length} cores, \`node bench/request_log.mjs --rounds ${ROUNDS} --requests ${N} --concurrency ${CONCURRENCY}\` (medians of ${ROUNDS} interleaved rounds):\n\n`;
md += '| scenario | REQUEST_LOG | req/s | p50 | runtime CPU / request | wrangler CPU / request |\n|---|---|---|---|---|---|\n';
for (const name of Object.keys(scenarios)) {
  for (const mode of modes) {
    const k = `${name}/${mode}`;
    md += `| ${name} | ${mode} | ${m(k, 'rps').toFixed(0)} | ${m(k, 'p50').toFixed(1)} ms | ${m(k, 'workerd').toFixed(2)} ms | ${m(k, 'other').toFixed(2)} ms |\n`;
  }
}
console.log(md);
process.exit(0);
