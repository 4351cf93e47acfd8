// Where the runtime's CPU goes for one kind of request: a sampling CPU profile of the Worker's
// isolate (the DevTools protocol's Profiler, through wrangler's inspector port) while a load
// client sends that request, summarised by kind of work (each sample charged to the nearest
// runtime API call or Rust function on its stack: SQLite, a fetch to an object, the Cache API,
// console.log, StockEdge's own code, the worker crate, serde…) and by function — self time (the
// function's own code) and total time (with what it called) — beside the processes' CPU read
// from /proc. It names what dominates a hold's cost (issue 11; BENCHMARKS.md).
//
//   STOCKEDGE_SKIP_BUILD=1 node bench/profile.mjs [--scenario hold|healthz|availability|strong]
//                                                  [--count 3000] [--clients 16] [--top 25]
//                                                  [--out profile.cpuprofile [--sources]]
//
// The Worker and its Durable Objects run in one isolate under `wrangler dev`, so a hold's
// profile holds both sides of the call to the SKU's object. `--out` writes the raw profile
// (open it in Chrome DevTools' Performance panel), `--sources` also the bundle's sources its
// line numbers refer to. Nothing here is timed against a target.

import fs from 'node:fs';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';

import { api, pool, start } from '../tests/e2e/lib/worker.mjs';
import { cpuNow } from './lib/proc_cpu.mjs';

const { values: opt } = parseArgs({
  options: {
    scenario: { type: 'string', default: 'hold' },
    count: { type: 'string', default: '3000' },
    clients: { type: 'string', default: '16' },
    top: { type: 'string', default: '25' },
    out: { type: 'string' },
    // Also writes the sources of the scripts the profile names (the bundle wrangler made), to
    // read a profile's line numbers against: <out>.<scriptId>.js
    sources: { type: 'boolean', default: false },
  },
});
const COUNT = Number(opt.count);
const CLIENTS = Number(opt.clients);
const TOP = Number(opt.top);
/** Sampling interval of the profiler, in microseconds. */
const SAMPLING_US = 200;

/** Runs `count` calls of `task` with `concurrency` in flight; the statuses they answered. */
async function statusesOf(count, concurrency, task) {
  const results = await pool(Array.from({ length: count }, () => task), concurrency);
  const statuses = {};
  for (const r of results) statuses[r.status] = (statuses[r.status] ?? 0) + 1;
  return statuses;
}

/** A DevTools protocol session on the runtime's inspector. */
async function inspector(port) {
  const targets = await (await fetch(`http://127.0.0.1:${port}/json`)).json();
  const target = targets.find((t) => t.webSocketDebuggerUrl);
  if (!target) throw new Error(`no inspectable target on port ${port}: ${JSON.stringify(targets)}`);
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  let id = 0;
  const waiting = new Map();
  ws.on('message', (data) => {
    const m = JSON.parse(String(data));
    if (m.id && waiting.has(m.id)) {
      const { resolve, reject } = waiting.get(m.id);
      waiting.delete(m.id);
      if (m.error) reject(new Error(`${JSON.stringify(m.error)}`));
      else resolve(m.result);
    }
  });
  return {
    send(method, params = {}) {
      const n = ++id;
      ws.send(JSON.stringify({ id: n, method, params }));
      return new Promise((resolve, reject) => waiting.set(n, { resolve, reject }));
    },
    close: () => ws.close(),
  };
}

/** Self and total milliseconds per function name, from a V8 CPU profile. */
function summarise(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfUs = new Map();
  profile.samples.forEach((s, i) => selfUs.set(s, (selfUs.get(s) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const name = (n) => {
    const f = n.callFrame;
    return f.functionName || (f.url ? `(anonymous ${f.url.split('/').pop()}:${f.lineNumber})` : `(${n.callFrame.functionName || 'anonymous'})`);
  };
  const self = new Map();
  const total = new Map();
  let all = 0;
  for (const [id, us] of selfUs) {
    all += us;
    const node = byId.get(id);
    self.set(name(node), (self.get(name(node)) ?? 0) + us);
    // Total: once per distinct name on the stack (recursion counted once).
    const seen = new Set();
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const nm = name(byId.get(cur));
      if (seen.has(nm)) continue;
      seen.add(nm);
      total.set(nm, (total.get(nm) ?? 0) + us);
    }
  }
  const rank = (m) => [...m.entries()].sort((a, b) => b[1] - a[1]);
  return { allUs: all, self: rank(self), total: rank(total) };
}

/**
 * Names the bundle's anonymous functions after the wasm-bindgen import they implement
 * (`__wbg_exec_<hash>: function (…) {…}` → `__wbg_exec`), read from the source before the column
 * they start at.
 */
function nameImports(profile, sources) {
  for (const n of profile.nodes) {
    const f = n.callFrame;
    if (f.functionName || !sources.has(f.scriptId)) continue;
    // The key the function is the value of: the last `__wbg_<name>_<hash>:` before its column.
    const before = (sources.get(f.scriptId)[f.lineNumber] ?? '').slice(0, f.columnNumber);
    const keys = [...before.matchAll(/(__wbg_[A-Za-z]+?)_[0-9a-f]{16}\s*:/g)];
    if (keys.length) f.functionName = keys.at(-1)[1];
  }
}

/**
 * What each kind of work costs: every sample goes to the nearest frame on its stack that says
 * what it is — a call the Worker makes to a binding or API of the runtime (through its
 * wasm-bindgen import), or a Rust function — else to the runtime itself.
 */
const IMPORT_KINDS = [
  [/^__wbg_(exec|toArray|sql)$/, 'Durable Object SQLite (exec, rows)'],
  [/^__wbg_(setAlarm|getAlarm|deleteAlarm)$/, 'Durable Object alarms'],
  [/^__wbg_fetch$/, 'subrequests (fetch: to a Durable Object or a service)'],
  [/^__wbg_(idFromName|get)$/, 'subrequests (fetch: to a Durable Object or a service)'],
  [/^__wbg_(match|put|delete|caches)$/, 'Cache API'],
  [/^__wbg_limit$/, 'rate-limiting bindings'],
  [/^__wbg_(send|sendBatch)$/, 'queue sends'],
  [/^__wbg_(ack|retry|retryAll|messages|batch)$/, 'queue consumer (messages, acks)'],
  [/^__wbg_(prepare|bind|run|all|results|meta)$/, 'D1 (the catalogue)'],
  [/^__wbg_(log|warn|error|debug)$/, 'console (the request log line)'],
  [/^__wbg_(json|arrayBuffer|read|getReader|releaseLock|readable|body|enqueue|respond|byobRequest|view)$/, 'bodies (streams, reading and writing)'],
  [/^__wbg_(new|headers|set|append|url|method|status|clone)$/, 'Request, Response and Headers objects'],
  [/^__wbg_(queueMicrotask|then|resolve|catch|setTimeout|clearTimeout|waitUntil)$/, 'futures and promises (wasm-bindgen glue)'],
];
function kindOf(name) {
  for (const [re, kind] of IMPORT_KINDS) if (re.test(name)) return kind;
  if (name.startsWith('__wbg_') || name.startsWith('__wbindgen') || name.startsWith('__externref')) return 'other JS↔wasm glue';
  if (/^(__facade_|drainBody|jsonError|scheduled$)/.test(name)) return "wrangler dev's middleware";
  if (name.startsWith('stockedge::') || name.includes(' stockedge::')) return "StockEdge's Rust code";
  if (/^(<)?serde|serde_json|serde_wasm_bindgen/.test(name)) return 'serialisation (serde)';
  if (/^(<)?(worker|worker_sys|wasm_bindgen|wasm_bindgen_futures|js_sys|web_sys)(::|\[)/.test(name)) return 'the worker crate and wasm-bindgen (Rust side)';
  if (/dlmalloc|^(<)?alloc::|^(<)?core::|^(<)?std::|memcpy|memmove|memset/.test(name)) return 'allocation and Rust core';
  if (name === '(garbage collector)') return 'garbage collection';
  if (name === '(program)') return 'the runtime outside JS and wasm (workerd, V8)';
  return null;
}
function byKind(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const out = new Map();
  profile.samples.forEach((id, i) => {
    if (byId.get(id).callFrame.functionName === '(idle)') return;
    let kind = null;
    for (let cur = id; cur !== undefined && !kind; cur = parent.get(cur)) kind = kindOf(byId.get(cur).callFrame.functionName);
    kind ??= 'other JS (the runtime\'s and the bundle\'s)';
    out.set(kind, (out.get(kind) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  return [...out.entries()].sort((a, b) => b[1] - a[1]);
}

async function main() {
  // Automatic hotness off: the hold scenario profiles the SKU's own object at any rate.
  const rt = await start({ vars: { HOT_AUTO_HOLDS_PER_SECOND: '0' } });
  try {
    const { admin, storefront: front } = api(rt.url);
    const sku = `PROF-${Date.now().toString(36)}`;
    const put = await admin('PUT', `/v1/skus/${sku}/stock`, { on_hand: 10_000_000 });
    if (put.status !== 200) throw new Error(`stock: ${put.status} ${put.text}`);
    const task = {
      hold: () => front('POST', '/v1/reservations', { lines: [{ sku, qty: 1 }], ttl_seconds: 900 }),
      healthz: () => front('GET', '/healthz'),
      availability: () => front('GET', `/v1/availability?sku=${sku}`),
      strong: () => front('GET', `/v1/availability?sku=${sku}&consistency=strong`),
    }[opt.scenario];
    if (!task) throw new Error(`unknown scenario ${opt.scenario}`);
    await statusesOf(Math.min(500, COUNT), CLIENTS, task); // warm-up: JIT, the object's first load
    const dt = await inspector(rt.inspectorPort);
    await dt.send('Profiler.enable');
    await dt.send('Profiler.setSamplingInterval', { interval: SAMPLING_US });
    await dt.send('Profiler.start');
    // The runtime's processes, for what the isolate's profile cannot see (other threads and
    // services of workerd: storage I/O, the local Cache API and queue broker, the dev proxy).
    const meters = { workerd: (p) => p.pgrp === rt.pid && p.comm === 'workerd', proxy: (p) => p.pgrp === rt.pid && p.comm !== 'workerd' };
    const cpu0 = cpuNow(meters);
    const t0 = performance.now();
    const statuses = await statusesOf(COUNT, CLIENTS, task);
    const secs = (performance.now() - t0) / 1000;
    await new Promise((r) => setTimeout(r, 1500)); // what the requests left running (outbox, queue)
    const { profile } = await dt.send('Profiler.stop');
    const cpu1 = cpuNow(meters);
    if (opt.out) fs.writeFileSync(opt.out, JSON.stringify(profile));
    // The bundle's sources, to name its anonymous functions (wasm-bindgen's imports).
    await dt.send('Debugger.enable');
    const sources = new Map();
    for (const scriptId of new Set(profile.nodes.filter((n) => n.callFrame.url.endsWith('.js')).map((n) => n.callFrame.scriptId))) {
      const { scriptSource } = await dt.send('Debugger.getScriptSource', { scriptId });
      sources.set(scriptId, scriptSource.split('\n'));
      if (opt.out && opt.sources) fs.writeFileSync(`${opt.out}.${scriptId}.js`, scriptSource);
    }
    dt.close();
    nameImports(profile, sources);
    const s = summarise(profile);
    const idle = s.self.filter(([n]) => n === '(idle)' || n === '(program)').reduce((a, [, us]) => a + us, 0);
    const busy = s.allUs - (s.self.find(([n]) => n === '(idle)')?.[1] ?? 0);
    const per = (us) => (us / 1000 / COUNT).toFixed(3);
    const procMs = (k) => ((cpu1[k] - cpu0[k]) / COUNT).toFixed(3);
    console.log(`${opt.scenario}: ${COUNT} requests at ${CLIENTS} clients, ${(COUNT / secs).toFixed(0)} req/s, statuses ${JSON.stringify(statuses)}`);
    console.log(`isolate busy ${(busy / 1000).toFixed(0)} ms = ${per(busy)} ms per request (sampled every ${SAMPLING_US} µs; (idle)+(program) ${(idle / 1000).toFixed(0)} ms)`);
    console.log(`CPU per request from /proc (profiler attached): workerd ${procMs('workerd')} ms (all its threads and services), wrangler's dev proxy and Node ${procMs('proxy')} ms`);
    const row = ([n, us]) => `${per(us).padStart(8)} ms/req  ${((100 * us) / busy).toFixed(1).padStart(5)} %  ${n.slice(0, 110)}`;
    console.log('\nby kind of work (each sample charged to the nearest binding call or Rust function on its stack):');
    for (const [k, us] of byKind(profile)) console.log(`${per(us).padStart(8)} ms/req  ${((100 * us) / busy).toFixed(1).padStart(5)} %  ${k}`);
    console.log(`\nself time (top ${TOP}):`);
    for (const r of s.self.filter(([n]) => n !== '(idle)').slice(0, TOP)) console.log(row(r));
    console.log(`\ntotal time (top ${TOP}):`);
    for (const r of s.total.filter(([n]) => n !== '(idle)' && n !== '(root)').slice(0, TOP)) console.log(row(r));
  } finally {
    await rt.stop();
  }
}

await main();
