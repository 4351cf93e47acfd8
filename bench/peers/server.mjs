// The peers a merchant would pick instead of StockEdge, behind the same HTTP shape, so one load
// client drives every system the same way (bench/side-by-side.mjs starts it):
//
//   node bench/peers/server.mjs --backend postgres --port P --pg postgres://…
//   node bench/peers/server.mjs --backend redis    --port P --redis redis://…
//
// Routes (the subset of StockEdge's API the benchmark uses; bearer tokens are not checked):
//   GET  /healthz                         no storage touched
//   PUT  /v1/skus/{sku}/stock             {"on_hand": n}            sets on hand, clears holds
//   POST /v1/reservations                 {"lines":[{sku,qty}],"ttl_seconds"}
//                                         201 {id, lines, expires_at} or 409 insufficient-stock
//   GET  /v1/availability?sku=A&sku=B     {"items":[{sku, available}]}
//
// A hold is all or nothing across its lines, and never takes availability below zero:
//   PostgreSQL: one transaction — for each line (in SKU order, so carts cannot deadlock)
//     UPDATE stock SET reserved = reserved + q WHERE sku = $1 AND on_hand - reserved >= q
//     RETURNING …; any line short → ROLLBACK; else INSERT the hold; COMMIT. Default durability
//     (fsync, synchronous_commit on).
//   Redis: one Lua script checks every line, then increments `reserved` and writes the hold
//     hash with its TTL. Append-only file with fsync every second.

import http from 'node:http';
import crypto from 'node:crypto';
import { parseArgs } from 'node:util';

const { values: opt } = parseArgs({
  options: {
    backend: { type: 'string' },
    port: { type: 'string' },
    pg: { type: 'string' },
    redis: { type: 'string' },
    pool: { type: 'string', default: '16' },
  },
});

const json = (res, status, body) => {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': status >= 400 ? 'application/problem+json' : 'application/json' });
  res.end(text);
};

const short = (res, line) =>
  json(res, 409, { type: '/problems/insufficient-stock', title: 'Insufficient stock', status: 409, lines: [line] });

async function readBody(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  return chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {};
}

function holdId() {
  return 'res_' + crypto.randomBytes(12).toString('hex');
}

// ---------------------------------------------------------------------------------------------

async function postgresBackend(url, poolSize) {
  const { default: pg } = await import('pg');
  const pool = new pg.Pool({ connectionString: url, max: poolSize });
  // An idle client whose server went away at the end of a run: nothing to do but drop it.
  pool.on('error', () => {});
  await pool.query(`
    CREATE TABLE IF NOT EXISTS stock (sku text PRIMARY KEY, on_hand bigint NOT NULL, reserved bigint NOT NULL DEFAULT 0);
    CREATE TABLE IF NOT EXISTS holds (id text PRIMARY KEY, lines jsonb NOT NULL, expires_at timestamptz NOT NULL);
  `);
  return {
    async setStock(sku, onHand) {
      await pool.query(
        'INSERT INTO stock (sku, on_hand, reserved) VALUES ($1, $2, 0) ON CONFLICT (sku) DO UPDATE SET on_hand = $2, reserved = 0',
        [sku, onHand],
      );
    },
    async hold(lines, ttl) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const sorted = [...lines].sort((a, b) => (a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : 0));
        for (const l of sorted) {
          const r = await client.query(
            'UPDATE stock SET reserved = reserved + $2 WHERE sku = $1 AND on_hand - reserved >= $2 RETURNING on_hand - reserved AS available',
            [l.sku, l.qty],
          );
          if (r.rowCount === 0) {
            await client.query('ROLLBACK');
            const a = await client.query('SELECT on_hand - reserved AS available FROM stock WHERE sku = $1', [l.sku]);
            return { short: { sku: l.sku, requested: l.qty, available: Number(a.rows[0]?.available ?? 0) } };
          }
        }
        const id = holdId();
        const expires = new Date(Date.now() + ttl * 1000);
        await client.query('INSERT INTO holds (id, lines, expires_at) VALUES ($1, $2, $3)', [id, JSON.stringify(lines), expires]);
        await client.query('COMMIT');
        return { id, expires_at: expires.toISOString() };
      } catch (e) {
        await client.query('ROLLBACK').catch(() => {});
        throw e;
      } finally {
        client.release();
      }
    },
    async availability(skus) {
      const r = await pool.query('SELECT sku, on_hand - reserved AS available FROM stock WHERE sku = ANY($1)', [skus]);
      const m = new Map(r.rows.map((x) => [x.sku, Math.max(0, Number(x.available))]));
      return skus.map((sku) => ({ sku, available: m.get(sku) ?? 0 }));
    },
    close: () => pool.end(),
  };
}

const HOLD_LUA = `
-- KEYS: stock hashes of each line, then the hold key. ARGV: qty per line…, ttl seconds, lines json
local n = #KEYS - 1
for i = 1, n do
  local h = redis.call('HMGET', KEYS[i], 'on_hand', 'reserved')
  local avail = tonumber(h[1] or '0') - tonumber(h[2] or '0')
  if avail < tonumber(ARGV[i]) then return {i, avail} end
end
for i = 1, n do redis.call('HINCRBY', KEYS[i], 'reserved', ARGV[i]) end
redis.call('SET', KEYS[n + 1], ARGV[n + 2], 'EX', ARGV[n + 1])
return {0, 0}
`;

async function redisBackend(url) {
  const { Redis } = await import('ioredis');
  const r = new Redis(url, { enableAutoPipelining: true });
  r.defineCommand('hold', { lua: HOLD_LUA });
  return {
    async setStock(sku, onHand) {
      await r.hset(`stock:${sku}`, 'on_hand', onHand, 'reserved', 0);
    },
    async hold(lines, ttl) {
      const id = holdId();
      const keys = [...lines.map((l) => `stock:${l.sku}`), `hold:${id}`];
      const [bad, avail] = await r.hold(keys.length, ...keys, ...lines.map((l) => l.qty), ttl, JSON.stringify(lines));
      if (bad > 0) {
        const l = lines[bad - 1];
        return { short: { sku: l.sku, requested: l.qty, available: Math.max(0, Number(avail)) } };
      }
      return { id, expires_at: new Date(Date.now() + ttl * 1000).toISOString() };
    },
    async availability(skus) {
      const p = r.pipeline();
      for (const s of skus) p.hmget(`stock:${s}`, 'on_hand', 'reserved');
      const out = await p.exec();
      return skus.map((sku, i) => {
        const [on, res] = out[i][1];
        return { sku, available: Math.max(0, Number(on ?? 0) - Number(res ?? 0)) };
      });
    },
    close: () => r.quit(),
  };
}

// ---------------------------------------------------------------------------------------------

const store =
  opt.backend === 'postgres'
    ? await postgresBackend(opt.pg, Number(opt.pool))
    : opt.backend === 'redis'
      ? await redisBackend(opt.redis)
      : (() => {
          throw new Error('--backend postgres|redis');
        })();

const server = http.createServer(async (req, res) => {
  try {
    const url = new URL(req.url, 'http://peer');
    if (req.method === 'GET' && url.pathname === '/healthz') return json(res, 200, { status: 'ok' });
    const stockPath = url.pathname.match(/^\/v1\/skus\/(.+)\/stock$/);
    if (req.method === 'PUT' && stockPath) {
      const sku = decodeURIComponent(stockPath[1]);
      const b = await readBody(req);
      await store.setStock(sku, b.on_hand);
      return json(res, 200, { sku, on_hand: b.on_hand });
    }
    if (req.method === 'POST' && url.pathname === '/v1/reservations') {
      const b = await readBody(req);
      const r = await store.hold(b.lines, b.ttl_seconds ?? 900);
      if (r.short) return short(res, r.short);
      return json(res, 201, { id: r.id, status: 'held', lines: b.lines, expires_at: r.expires_at });
    }
    if (req.method === 'GET' && url.pathname === '/v1/availability') {
      return json(res, 200, { items: await store.availability(url.searchParams.getAll('sku')) });
    }
    return json(res, 404, { type: '/problems/not-found', status: 404 });
  } catch (e) {
    return json(res, 500, { type: '/problems/internal', status: 500, detail: String(e?.message ?? e) });
  }
});
server.keepAliveTimeout = 60_000;
server.listen(Number(opt.port), '127.0.0.1', () => process.send?.({ ready: true }));
let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  server.close();
  await store.close().catch(() => {});
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
