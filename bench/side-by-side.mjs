// StockEdge next to the peers a merchant would pick instead — PostgreSQL and Redis behind the
// same HTTP shape (bench/peers/server.mjs) — driven by one load client, on one machine, in one
// run. Run through `bash scripts/bench.sh` (it installs what is missing); loopback only, every
// scenario bounded in requests.
//
//   node bench/side-by-side.mjs [--smoke] [--out FILE] [--only StockEdge,PostgreSQL,Redis]
//
// Env: BENCH_SCALE (multiplies request counts, default 1), PG_BIN (PostgreSQL's bin dir),
// REDIS_SERVER (redis-server path). With --smoke every scenario runs a handful of requests and
// nothing is written to BENCHMARKS.md (CI runs it to keep the bench code working).

import { spawn, fork, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { ADMIN_TOKEN, ROOT, STOREFRONT_TOKEN, freePort, parseMetrics, percentile, start } from '../tests/e2e/lib/worker.mjs';
import { cpuNow } from './lib/proc_cpu.mjs';

const { values: opt } = parseArgs({
  options: { smoke: { type: 'boolean' }, out: { type: 'string' }, only: { type: 'string' } },
});
const ONLY = opt.only ? opt.only.split(',') : null; // e.g. --only PostgreSQL,Redis (debugging)
const wanted = (name) => !ONLY || ONLY.includes(name);
const SMOKE = !!opt.smoke;
const SCALE = SMOKE ? 0.01 : Number(process.env.BENCH_SCALE ?? 1);
const n = (x) => Math.max(8, Math.round(x * SCALE));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const cleanups = [];
async function cleanup() {
  while (cleanups.length) {
    try {
      await cleanups.pop()();
    } catch {
      /* best effort */
    }
  }
}
process.on('SIGINT', async () => {
  await cleanup();
  process.exit(130);
});

// ---------------------------------------------------------------------------------------------
// The load client: node:http with keep-alive, the same for every system.

/**
 * wrangler's dev proxy (a Worker in its own workerd, in front of StockEdge's workerd; production
 * has none) answers this plain-text 503 itself when its connection to the runtime fails before
 * an answer: under CPU starvation the runtime resets those connections ("Connection reset by
 * peer" / "stream disconnected prematurely" in the runtime's log). Such a request was never
 * carried out — the Worker's D1 query count matches the holds answered, not the holds sent — so
 * the client sends it again, as its `Retry-After: 0` asks, and counts it (`proxyRetries`).
 */
const PROXY_RESET = 'Your worker restarted mid-request';
const MAX_PROXY_RETRIES = 10;

function client(base, token) {
  const once = attempt(base, token);
  return async (method, p, body) => {
    const t0 = performance.now();
    for (let retries = 0; ; retries++) {
      const r = await once(method, p, body);
      if (r.status !== 503 || !String(r.text).startsWith(PROXY_RESET) || retries === MAX_PROXY_RETRIES) {
        return { ...r, ms: performance.now() - t0, proxyRetries: retries };
      }
      await sleep(5 * (retries + 1));
    }
  };
}

function attempt(base, token) {
  const u = new URL(base);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  return (method, p, body) =>
    new Promise((resolve) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const headers = { authorization: `Bearer ${token}` };
      if (payload) {
        headers['content-type'] = 'application/json';
        headers['content-length'] = Buffer.byteLength(payload);
      }
      const t0 = performance.now();
      const req = http.request({ host: u.hostname, port: u.port, method, path: p, agent, headers }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json = null;
          try {
            json = JSON.parse(text);
          } catch {
            /* not JSON */
          }
          resolve({ status: res.statusCode, body: json, text, ms: performance.now() - t0 });
        });
      });
      req.on('error', (e) => resolve({ status: 0, body: String(e), ms: performance.now() - t0 }));
      if (payload) req.write(payload);
      req.end();
    });
}

async function pool(count, concurrency, task) {
  const results = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      results[i] = await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return results;
}

// ---------------------------------------------------------------------------------------------
// The systems

function findPgBin() {
  if (process.env.PG_BIN) return process.env.PG_BIN;
  const base = '/usr/lib/postgresql';
  const versions = fs.existsSync(base) ? fs.readdirSync(base).sort((a, b) => Number(b) - Number(a)) : [];
  for (const v of versions) if (fs.existsSync(path.join(base, v, 'bin', 'postgres'))) return path.join(base, v, 'bin');
  throw new Error('PostgreSQL not found (apt-get install postgresql, or set PG_BIN)');
}

/** Runs `cmd` as the postgres user (PostgreSQL refuses to run as root). */
function asPostgres(cmd, args, opts = {}) {
  if (process.getuid?.() !== 0) return [cmd, args, opts];
  return ['setpriv', ['--reuid=postgres', '--regid=postgres', '--init-groups', cmd, ...args], opts];
}

/**
 * Keeps a spawn failure (a missing binary: an `error` event, which would otherwise end the
 * process before the cleanups run) for the start-up loop to throw.
 */
function spawnFailure(child) {
  const failed = { error: null };
  child.once('error', (e) => (failed.error = e));
  return failed;
}

async function startPostgres(tmp) {
  const bin = findPgBin();
  const data = path.join(tmp, 'pg');
  fs.mkdirSync(data, { recursive: true });
  if (process.getuid?.() === 0) execFileSync('chown', ['-R', 'postgres:postgres', tmp]);
  execFileSync(...asPostgres(path.join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync'], { stdio: 'ignore' }));
  const port = await freePort();
  const [cmd, args] = asPostgres(path.join(bin, 'postgres'), [
    '-D', data, '-p', String(port), '-k', tmp, '-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=100',
  ]);
  const child = spawn(cmd, args, { detached: true, stdio: ['ignore', 'ignore', fs.openSync(path.join(tmp, 'pg.log'), 'a')] });
  const failed = spawnFailure(child);
  cleanups.push(async () => {
    process.kill(-child.pid, 'SIGINT');
    await sleep(500);
  });
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const { default: pg } = await import('pg');
  for (let i = 0; i < 200; i++) {
    if (failed.error) throw failed.error;
    const c = new pg.Client({ connectionString: url });
    try {
      await c.connect();
      await c.end();
      const version = execFileSync(path.join(bin, 'postgres'), ['--version']).toString().trim();
      return { url, pgid: child.pid, version };
    } catch {
      await sleep(100);
    }
  }
  throw new Error(`PostgreSQL did not start; see ${tmp}/pg.log`);
}

async function startRedis(tmp) {
  const bin = process.env.REDIS_SERVER ?? 'redis-server';
  const dir = path.join(tmp, 'redis');
  fs.mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const child = spawn(
    bin,
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', ''],
    { detached: true, stdio: 'ignore' },
  );
  const failed = spawnFailure(child);
  cleanups.push(async () => process.kill(-child.pid, 'SIGTERM'));
  const url = `redis://127.0.0.1:${port}`;
  const { Redis } = await import('ioredis');
  for (let i = 0; i < 100; i++) {
    if (failed.error) throw failed.error;
    const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    try {
      await r.connect();
      const info = await r.info('server');
      r.disconnect();
      return { url, pgid: child.pid, version: 'Redis ' + (info.match(/redis_version:(\S+)/)?.[1] ?? '?') };
    } catch {
      r.disconnect();
      await sleep(100);
    }
  }
  throw new Error('Redis did not start');
}

async function startPeer(backend, conn) {
  const port = await freePort();
  const args = ['--backend', backend, '--port', String(port), backend === 'postgres' ? '--pg' : '--redis', conn];
  const child = fork(path.join(ROOT, 'bench', 'peers', 'server.mjs'), args, { stdio: 'inherit' });
  cleanups.push(async () => child.kill('SIGTERM'));
  await new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (c) => reject(new Error(`${backend} peer exited ${c}`)));
  });
  return { url: `http://127.0.0.1:${port}`, pid: child.pid };
}

// ---------------------------------------------------------------------------------------------
// Scenarios: each returns { rps, p50, p99, statuses, cpu: {meter: ms/request} }

// StockEdge's counters (GET /v1/metrics): D1 queries made by requests, queue deliveries and the
// distinct changes they carried. One isolate under `wrangler dev`, so one read covers the Worker,
// its objects and its queue consumer.

const D1_REQUEST = 'stockedge_d1_queries_total{origin="request"}';
const DELIVERIES = 'stockedge_queue_deliveries_total';
const CHANGES = 'stockedge_queue_changes_total';
const OUTBOX_SENT = 'stockedge_outbox_events_sent_total';
const ITEMS = (source) => `stockedge_availability_items_total{source="${source}"}`;

async function readCounters(admin) {
  const r = await admin('GET', '/v1/metrics');
  if (r.status !== 200) throw new Error(`GET /v1/metrics: ${r.status}`);
  return parseMetrics(r.text);
}

/** The counters once the queue consumer has caught up (two reads 250 ms apart agree). */
async function settledCounters(admin) {
  let last = await readCounters(admin);
  for (let i = 0; i < 240; i++) {
    await sleep(250);
    const now = await readCounters(admin);
    const quiet = [DELIVERIES, CHANGES, OUTBOX_SENT].every((k) => now[k] === last[k]);
    // Quiet, and every event the objects sent has reached the consumer.
    if (quiet && now[DELIVERIES] >= now[OUTBOX_SENT]) return now;
    last = now;
  }
  throw new Error(`the queue consumer did not settle: ${JSON.stringify(last)}`);
}

async function measure(sys, label, count, concurrency, task, expected = ['200', '201']) {
  const counted = sys.counters ? await settledCounters(sys.counters) : null;
  const before = cpuNow(sys.meters);
  const t0 = performance.now();
  const results = await pool(count, concurrency, task);
  const secs = (performance.now() - t0) / 1000;
  // CPU after the queue consumer has handled what the scenario caused (it is part of the cost).
  const counts = sys.counters ? await settledCounters(sys.counters) : null;
  const after = cpuNow(sys.meters);
  const ms = results.map((r) => r.ms);
  const statuses = {};
  for (const r of results) statuses[r.status] = (statuses[r.status] ?? 0) + 1;
  const proxyRetries = results.reduce((a, r) => a + (r.proxyRetries ?? 0), 0);
  const cpu = {};
  for (const k of Object.keys(sys.meters)) cpu[k] = (after[k] - before[k]) / count;
  const row = { system: sys.name, label, count, concurrency, rps: count / secs, p50: percentile(ms, 50), p99: percentile(ms, 99), statuses, cpu, proxyRetries, expected };
  if (counts) {
    const d = (k) => counts[k] - counted[k];
    row.counters = {
      d1PerRequest: d(D1_REQUEST) / count,
      deliveries: d(DELIVERIES),
      changes: d(CHANGES),
      sent: d(OUTBOX_SENT),
      items: { memory: d(ITEMS('memory')), cache: d(ITEMS('cache')), object: d(ITEMS('object')) },
    };
  }
  const c = row.counters;
  console.error(
    `${sys.name.padEnd(10)} ${label.padEnd(34)} ${row.rps.toFixed(0).padStart(6)} req/s  p50 ${row.p50.toFixed(1)} ms  p99 ${row.p99.toFixed(1)} ms  ${JSON.stringify(statuses)}  cpu ${Object.entries(cpu).map(([k, v]) => `${k}=${v.toFixed(2)}ms`).join(' ')}` +
      (c ? `  d1/req ${c.d1PerRequest.toFixed(2)}  deliveries ${c.deliveries}/${c.changes} changes` : '') +
      (proxyRetries ? `  dev-proxy retries ${proxyRetries}` : ''),
  );
  return row;
}

async function scenarios(sys) {
  const admin = client(sys.url, ADMIN_TOKEN);
  if (sys.name === 'StockEdge') sys.counters = admin;
  const front = client(sys.url, STOREFRONT_TOKEN);
  const tag = `${Date.now().toString(36)}`;
  const setStock = async (sku, q) => {
    const r = await admin('PUT', `/v1/skus/${encodeURIComponent(sku)}/stock`, { on_hand: q });
    if (r.status !== 200) throw new Error(`${sys.name} stock ${sku}: ${r.status} ${JSON.stringify(r.body)}`);
  };
  const hold = (lines) => front('POST', '/v1/reservations', { lines, ttl_seconds: 900 });
  const rows = [];

  // Correctness first: 200 concurrent single-unit holds on stock 50 → exactly 50 held.
  const race = `RACE-${tag}`;
  await setStock(race, 50);
  const raced = await pool(200, 200, () => hold([{ sku: race, qty: 1 }]));
  const held = raced.filter((r) => r.status === 201).length;
  const refused = raced.filter((r) => r.status === 409).length;
  // What was held is no longer available.
  const left = await front('GET', `/v1/availability?sku=${encodeURIComponent(race)}`);
  sys.oversell = { held, refused, other: 200 - held - refused, left: left.status === 200 ? left.body?.items?.[0]?.available : `${left.status}` };

  const hot = `HOT-${tag}`;
  await setStock(hot, 1_000_000);
  // Warm-up (connections, JIT, the object's first load), not measured.
  await pool(n(200), 16, () => hold([{ sku: hot, qty: 1 }]));
  for (const c of [1, 16, 64]) {
    rows.push(await measure(sys, `hold, 1 SKU, ${c} client${c > 1 ? 's' : ''}`, n(c === 1 ? 300 : 2000), c, () => hold([{ sku: hot, qty: 1 }])));
  }
  const many = Array.from({ length: 100 }, (_, i) => `MANY-${tag}-${i}`);
  for (const s of many) await setStock(s, 1_000_000);
  await pool(n(200), 16, (i) => hold([{ sku: many[i % 100], qty: 1 }]));
  rows.push(await measure(sys, 'hold, 100 SKUs, 64 clients', n(2000), 64, (i) => hold([{ sku: many[(i * 37) % 100], qty: 1 }])));
  rows.push(
    await measure(sys, 'cart of 3 SKUs, 64 clients', n(1000), 64, (i) =>
      hold([0, 1, 2].map((k) => ({ sku: many[(i * 7 + k * 31) % 100], qty: 1 }))),
    ),
  );
  // A sold-out SKU under a stampede: every answer is 409 (StockEdge refuses at the edge from its
  // cache once one refusal is known, without calling the SKU's object).
  const gone = `GONE-${tag}`;
  await setStock(gone, 0);
  rows.push(await measure(sys, 'hold of a sold-out SKU, 64 clients', n(2000), 64, () => hold([{ sku: gone, qty: 1 }]), ['409']));
  if (sys.name === 'StockEdge') {
    // Flash-sale allotments (StockEdge only): the SKU lends blocks to K = 4 allotment objects,
    // which answer the holds; callers spread over them by their reference.
    const flash = `FLASH-${tag}`;
    await setStock(flash, 1_000_000);
    const policy = await admin('PUT', `/v1/skus/${encodeURIComponent(flash)}/policy`, { hot: true, allotments: 4, block: 500, lease_seconds: 600 });
    if (policy.status !== 200) throw new Error(`policy: ${policy.status} ${JSON.stringify(policy.body)}`);
    const flashHold = (i) => front('POST', '/v1/reservations', { lines: [{ sku: flash, qty: 1 }], ttl_seconds: 300, reference: `shopper-${i % 64}` });
    await pool(n(200), 16, flashHold);
    rows.push(await measure(sys, 'hold, 1 hot SKU over 4 allotments, 64 clients', n(2000), 64, flashHold));
  }
  // A hot product page: every read asks for the same SKU (StockEdge answers it from the edge's
  // cache but for one read of its object per staleness bound).
  rows.push(await measure(sys, 'availability, 1 hot SKU, 64 clients', n(3000), 64, () => front('GET', `/v1/availability?sku=${encodeURIComponent(hot)}`)));
  // A catalogue page at a time: 100 SKUs in turn, each read about 1/100 of the time.
  rows.push(await measure(sys, 'availability, 100 SKUs in turn, 64 clients', n(3000), 64, (i) => front('GET', `/v1/availability?sku=${encodeURIComponent(many[i % 100])}`)));
  if (sys.name === 'StockEdge') {
    rows.push(await measure(sys, 'availability, strong (no cache), 64 clients', n(3000), 64, (i) => front('GET', `/v1/availability?sku=${encodeURIComponent(many[i % 100])}&consistency=strong`)));
  }
  if (sys.name === 'StockEdge') {
    // The floor of any API request: token check and both rate limiters (client address, token),
    // answered without calling an object (a reservation id that names no SKU: 404).
    rows.push(await measure(sys, 'authenticated, no object call (404), 64 clients', n(3000), 64, () => front('GET', '/v1/reservations/rsk_none'), ['404']));
  }
  rows.push(await measure(sys, 'healthz, 64 clients', n(3000), 64, () => front('GET', '/healthz')));
  return rows;
}

// ---------------------------------------------------------------------------------------------

function table(all, systems) {
  const by = (sys, label) => all.find((r) => r.system === sys && r.label === label);
  const labels = [...new Set(all.map((r) => r.label))];
  const fmt = (r) => (r ? `${r.rps.toFixed(0)} · ${r.p50.toFixed(1)} · ${r.p99.toFixed(1)}` : '—');
  let md = `| scenario (req/s · p50 ms · p99 ms) | ${systems.join(' | ')} | StockEdge ÷ PostgreSQL | StockEdge ÷ Redis |\n`;
  md += `|---|${systems.map(() => '---|').join('')}---|---|\n`;
  for (const l of labels) {
    const se = by('StockEdge', l);
    const ratio = (peer) => {
      const p = by(peer, l);
      return se && p ? `${(se.rps / p.rps).toFixed(2)}×` : '—';
    };
    md += `| ${l} | ${systems.map((s) => fmt(by(s, l))).join(' | ')} | ${ratio('PostgreSQL')} | ${ratio('Redis')} |\n`;
  }
  md += `\nUnexpected statuses (anything but 200/201; 409 on the oversell check and the sold-out scenario, 404 on the authenticated floor, where it is the only answer expected):\n\n`;
  let unexpected = 0;
  for (const r of all) {
    const bad = Object.entries(r.statuses).filter(([s]) => !r.expected.includes(s));
    unexpected += bad.length;
    if (bad.length) md += `- ${r.system}, ${r.label}: ${bad.map(([s, c]) => `${c} × ${s}`).join(', ')}\n`;
  }
  if (!unexpected) md += `none.\n`;
  const retried = all.filter((r) => r.proxyRetries);
  md += `\nRequests wrangler's dev proxy could not deliver to the runtime (its plain-text 503 "Your worker restarted mid-request", sent again by the client; never carried out by the Worker): `;
  md += retried.length ? `${retried.map((r) => `${r.system}, ${r.label}: ${r.proxyRetries}`).join('; ')}.\n` : `none.\n`;
  md += `\nCPU per request (ms, from /proc; the runtime that executes the code, and the rest of the stack):\n\n`;
  md += `| scenario | ${systems.join(' | ')} |\n|---|${systems.map(() => '---|').join('')}\n`;
  for (const l of labels) {
    md += `| ${l} | ${systems
      .map((s) => {
        const r = by(s, l);
        return r ? Object.entries(r.cpu).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ') : '—';
      })
      .join(' | ')} |\n`;
  }
  const counted = all.filter((r) => r.system === 'StockEdge' && r.counters);
  if (counted.length) {
    md += `\nStockEdge's counters per scenario (GET /v1/metrics, read before and after each once the queue consumer is idle): D1 queries per request, and queue deliveries per change (messages the sync consumer received ÷ distinct (SKU, version) changes among them):\n\n`;
    md += `| scenario | D1 queries / request | queue deliveries / change | changes |\n|---|---|---|---|\n`;
    for (const r of counted) {
      const c = r.counters;
      md += `| ${r.label} | ${c.d1PerRequest.toFixed(2)} | ${c.changes ? (c.deliveries / c.changes).toFixed(2) : '—'} | ${c.changes} |\n`;
    }
  }
  const se = (l) => by('StockEdge', l);
  const h = se('healthz, 64 clients');
  const hold64 = se('hold, 1 SKU, 64 clients');
  if (h && hold64) {
    md += `\nStockEdge's single-SKU hold at 64 clients runs at ${((hold64.rps / h.rps) * 100).toFixed(1)} % of its own /healthz rate`;
    const r = by('Redis', 'hold, 1 SKU, 64 clients');
    const rh = by('Redis', 'healthz, 64 clients');
    if (r && rh) md += ` (Redis: ${((r.rps / rh.rps) * 100).toFixed(1)} %)`;
    md += `; runtime CPU per hold ${(hold64.cpu.workerd / h.cpu.workerd).toFixed(1)}× a /healthz.\n`;
    const av = se('availability, 1 hot SKU, 64 clients');
    const avMany = se('availability, 100 SKUs in turn, 64 clients');
    const avStrong = se('availability, strong (no cache), 64 clients');
    const fromObjects = (r) => {
      const i = r?.counters?.items;
      const all = i ? i.memory + i.cache + i.object : 0;
      return all ? ` (${((i.object / all) * 100).toFixed(1)} % of its items from objects, ${((i.memory / all) * 100).toFixed(1)} % from the isolate's memory, ${((i.cache / all) * 100).toFixed(1)} % from the Cache API)` : '';
    };
    if (av) {
      md += `Availability from the edge cache runs at ${((av.rps / h.rps) * 100).toFixed(1)} % of /healthz for one hot SKU${fromObjects(av)}`;
      if (avMany) md += `; at ${((avMany.rps / h.rps) * 100).toFixed(1)} % for 100 SKUs in turn${fromObjects(avMany)}`;
      if (avStrong) md += `; at ${((avStrong.rps / h.rps) * 100).toFixed(1)} % with consistency=strong (one read-only call to the SKU's object)`;
      md += `.\n`;
    }
    const floor = se('authenticated, no object call (404), 64 clients');
    if (floor) md += `An authenticated request that calls no object (token check, both rate limiters, a 404) runs at ${((floor.rps / h.rps) * 100).toFixed(1)} % of /healthz.\n`;
    const flash = se('hold, 1 hot SKU over 4 allotments, 64 clients');
    if (flash) md += `A hot SKU over 4 allotments: ${flash.rps.toFixed(0)} holds/s against ${hold64.rps.toFixed(0)} on its own object (one runtime process here: the allotments share its 2 cores; the scaling model is in docs/architecture.md).\n`;
  }
  return md;
}

const step = (m) => process.env.BENCH_VERBOSE && console.error('# ' + m);
async function main() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'stockedge-bench-'));
  cleanups.push(async () => fs.rmSync(tmp, { recursive: true, force: true }));
  const systems = [];
  if (wanted('StockEdge')) {
    // Automatic hotness off: the single-SKU scenarios measure the SKU's own object whatever rate
    // this machine reaches; the allotments scenario sets its policy itself.
    const se = await start({ vars: { HOT_AUTO_HOLDS_PER_SECOND: '0' } });
    cleanups.push(() => se.stop());
    systems.push({
      name: 'StockEdge',
      url: se.url,
      meters: { workerd: (p) => p.pgrp === se.pid && p.comm === 'workerd', proxy: (p) => p.pgrp === se.pid && p.comm !== 'workerd' },
    });
  }
  if (wanted('PostgreSQL')) {
    step('starting PostgreSQL');
    const pgsql = await startPostgres(tmp);
    step('PostgreSQL ready');
    const pgPeer = await startPeer('postgres', pgsql.url);
    step('PostgreSQL peer ready');
    systems.push({
      name: 'PostgreSQL',
      url: pgPeer.url,
      // Each backend starts its own session (setsid), so it is counted as the postmaster's child.
      meters: { postgres: (p) => p.pgrp === pgsql.pgid || p.ppid === pgsql.pgid, http: (p) => p.pid === pgPeer.pid },
      version: pgsql.version,
    });
  }
  if (wanted('Redis')) {
    const redis = await startRedis(tmp);
    const redisPeer = await startPeer('redis', redis.url);
    systems.push({
      name: 'Redis',
      url: redisPeer.url,
      meters: { redis: (p) => p.pgrp === redis.pgid, http: (p) => p.pid === redisPeer.pid },
      version: redis.version,
    });
  }
  const all = [];
  for (const sys of systems) all.push(...(await scenarios(sys)));
  const wrangler = JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', 'wrangler', 'package.json'), 'utf8')).version;
  const when = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  let md = `Run ${when} on ${os.cpus().length} cores (${os.cpus()[0]?.model?.trim()}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB; `;
  md += `Node ${process.version}, wrangler ${wrangler} (workerd, \`wrangler dev --local\`)${systems.map((s) => (s.version ? `, ${s.version}` : '')).join('')}. `;
  md += `One load client (node:http, keep-alive) for all three; scale ${SCALE}.\n\n`;
  md += table(all, systems.map((s) => s.name));
  md += `\nOversell check (200 concurrent single-unit holds on stock 50): ${systems
    .map((s) => `${s.name} ${s.oversell.held} held / ${s.oversell.refused} refused / ${s.oversell.other} other`)
    .join('; ')}.\n`;
  console.log(md);
  if (opt.out) fs.writeFileSync(opt.out, md);
  // A system that answered wrongly fails the run, --smoke included: the oversell check must hold
  // exactly 50, refuse the rest with 409 and leave nothing available; a measured request may
  // only succeed (the dev proxy's lost deliveries are sent again by the client, see `client`).
  const oversold = systems.filter((s) => s.oversell.held !== 50 || s.oversell.refused !== 150 || s.oversell.left !== 0);
  if (oversold.length) throw new Error(`oversell check failed: ${oversold.map((s) => `${s.name} ${JSON.stringify(s.oversell)}`).join(', ')}`);
  // Each change is put on the queue once (the outbox's single flight): a repeat is a failure.
  const repeated = all.filter((r) => r.counters && r.counters.deliveries !== r.counters.changes);
  if (repeated.length) {
    throw new Error(`queue deliveries differ from changes: ${repeated.map((r) => `${r.label} ${r.counters.deliveries}/${r.counters.changes}`).join('; ')}`);
  }
  const failedRows = all.filter((r) => Object.keys(r.statuses).some((s) => !r.expected.includes(s)));
  if (failedRows.length) {
    throw new Error(`unexpected statuses: ${failedRows.map((r) => `${r.system} ${r.label} ${JSON.stringify(r.statuses)}`).join('; ')}`);
  }
}

try {
  await main();
} finally {
  await cleanup();
}
