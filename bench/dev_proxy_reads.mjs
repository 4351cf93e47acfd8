// Reads on a 5 s cadence against one runtime under `wrangler dev`: how many come back late or
// never. wrangler's dev proxy reaches the runtime over a keep-alive connection that the runtime
// closes after 5 idle seconds; a read sent at that moment failed, and wrangler 4.86's proxy then
// parked it until its next incoming request (docs/testing.md). With
// patches/wrangler+4.86.0.patch applied (npm ci does) none should be late; without it some never
// come back.
//
//   STOCKEDGE_SKIP_BUILD=1 node bench/dev_proxy_reads.mjs [count, default 36]
//
// A read counts as late after 2 s and as lost after 20 s (the client's timeout). ECONNRESET is
// the same race between this client and the proxy, answered at once; it is listed, not counted
// as lost.

import http from 'node:http';

import { start } from '../tests/e2e/lib/worker.mjs';

const COUNT = Number(process.argv[2] ?? 36);
const CADENCE_MS = 4_990; // just under the runtime's 5 s keep-alive timeout, walked by 4 ms steps
const LATE_MS = 2_000;
const CLIENT_TIMEOUT_MS = 20_000;

const rt = await start();
try {
  const u = new URL(rt.url);
  const agent = new http.Agent({ keepAlive: true });
  const get = (p) =>
    new Promise((resolve) => {
      const t0 = performance.now();
      const req = http.request({ host: u.hostname, port: u.port, path: p, agent, timeout: CLIENT_TIMEOUT_MS }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode, ms: performance.now() - t0 }));
      });
      req.on('timeout', () => {
        req.destroy();
        resolve({ status: 'lost', ms: performance.now() - t0 });
      });
      req.on('error', (e) => resolve({ status: String(e.code ?? e), ms: performance.now() - t0 }));
      req.end();
    });
  const answers = [];
  for (let i = 0; i < COUNT; i++) {
    await new Promise((r) => setTimeout(r, CADENCE_MS + (i % 6) * 4));
    answers.push(await get('/healthz'));
  }
  const lost = answers.filter((a) => a.status === 'lost').length;
  const late = answers.filter((a) => a.status === 200 && a.ms > LATE_MS).length;
  const resets = answers.filter((a) => a.status === 'ECONNRESET').length;
  console.log(`${COUNT} reads on a ~5 s cadence: ${lost} lost (no answer in ${CLIENT_TIMEOUT_MS / 1000} s), ${late} late (over ${LATE_MS / 1000} s), ${resets} reset between this client and the proxy`);
  process.exitCode = lost || late ? 1 : 0;
} finally {
  await rt.discard();
}
