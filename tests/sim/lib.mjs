// Tiny framework shared by the platform simulators in tests/sim/.
//
// Node >= 20 standard library only. Every simulator is an HTTP server on 127.0.0.1 built with
// `startSim(handler, opts)`, and gets for free:
//   - a fault injector, driven at runtime over HTTP (`/__sim/faults`) or programmatically
//     (`sim.faults.set(...)`), deterministic for a given seed;
//   - a write log (`/__sim/log`, `sim.log`): every write the platform accepted, per listing, in
//     arrival order, with the value and the caller-supplied version if one was sent;
//   - `/__sim/state` (the simulator's current quantities), `/__sim/requests` (a journal of the
//     requests it answered, with the fault applied if any), `/__sim/clock` (move its clock);
//   - a token-bucket rate limiter (`TokenBucket`, `KeyedRateLimiter`) used by the platform rules.
//
// The `/__sim/*` routes never need auth and are never subject to injected faults.

import http from 'node:http';
import crypto from 'node:crypto';

// ---------------------------------------------------------------------------------------------
// Clock

/**
 * A clock that follows real time but can be moved forward (or set) for tests: token expiry,
 * "next UTC day", rate-limit refill. `now()` is milliseconds since the epoch.
 */
export function createClock({ offsetMs = 0 } = {}) {
  let offset = offsetMs;
  let frozenAt = null; // when frozen, time stands still except for advance()/set()
  const now = () => (frozenAt ?? Date.now()) + offset;
  return {
    now,
    iso: () => new Date(now()).toISOString(),
    advance(ms) { offset += Number(ms) || 0; return now(); },
    set(epochMs) { offset = Number(epochMs) - (frozenAt ?? Date.now()); return now(); },
    reset() { offset = 0; frozenAt = null; },
    /** Stops real time from passing (tests that count tokens); advance() still moves it. */
    freeze() { if (frozenAt === null) frozenAt = Date.now(); return now(); },
    unfreeze() { if (frozenAt !== null) { offset += frozenAt - Date.now(); frozenAt = null; } return now(); },
    get offsetMs() { return offset; },
  };
}

// ---------------------------------------------------------------------------------------------
// Deterministic PRNG

/** mulberry32: a small, fast, seeded PRNG returning floats in [0, 1). */
export function mulberry32(seed) {
  let a = (Number(seed) >>> 0) || 0x9e3779b9;
  return function next() {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---------------------------------------------------------------------------------------------
// Fault injector

/**
 * Kinds of fault:
 *   "500", "503"  answer that status with the platform's error body (503 carries Retry-After);
 *   "429"         answer 429 with Retry-After (and the platform's rate-limit headers/body);
 *   "timeout"     accept the request and never answer: the socket is destroyed after `hangMs`
 *                 (or when the client gives up / the simulator closes). Nothing is written;
 *   "slow"        wait `slowMs`, then handle the request normally;
 *   "reset"       destroy the connection at once, nothing written;
 *   "lost"        handle the request normally (the write IS applied and logged), then destroy
 *                 the connection instead of answering: the classic "did my write land?" case.
 *
 * Determinism: the PRNG is re-seeded by every `set()`. For each eligible request (in arrival
 * order) it draws one number to decide whether to fault (`< rate`) and, when it faults and more
 * than one kind is configured, a second one to pick the kind. `sequence` (an array of kinds or
 * null) is consumed first, one entry per eligible request, before `rate` applies.
 */
export const FAULT_KINDS = ['500', '503', '429', 'timeout', 'slow', 'reset', 'lost'];

export class FaultInjector {
  constructor(config = {}) {
    this.history = [];
    this.set(config);
  }

  set(config = {}) {
    const c = {
      rate: 0,
      kinds: ['500'],
      retryAfterSeconds: 1,
      slowMs: 200,
      hangMs: 10_000,
      seed: 1,
      sequence: [],
      paths: null, // array of path prefixes (or RegExp sources) the faults apply to; null = all
      methods: null, // e.g. ["POST","PATCH"]; null = all
      ...config,
    };
    const rate = Number(c.rate);
    if (!(rate >= 0 && rate <= 1)) throw new RangeError('faults.rate must be within 0..1');
    c.rate = rate;
    c.kinds = (Array.isArray(c.kinds) ? c.kinds : [c.kinds]).map(String);
    for (const k of [...c.kinds, ...(c.sequence ?? []).filter((s) => s !== null)]) {
      if (!FAULT_KINDS.includes(String(k))) throw new RangeError(`unknown fault kind ${k}`);
    }
    if (c.rate > 0 && c.kinds.length === 0) throw new RangeError('faults.kinds must not be empty');
    c.sequence = [...(c.sequence ?? [])].map((s) => (s === null ? null : String(s)));
    c.retryAfterSeconds = Math.max(0, Number(c.retryAfterSeconds) || 0);
    c.slowMs = Math.max(0, Number(c.slowMs) || 0);
    c.hangMs = Math.max(0, Number(c.hangMs) || 0);
    this.config = c;
    this.random = mulberry32(c.seed);
    this.eligibleCount = 0;
    return this.describe();
  }

  clear() { return this.set({}); }

  describe() {
    const { rate, kinds, retryAfterSeconds, slowMs, hangMs, seed, sequence, paths, methods } = this.config;
    return { rate, kinds, retryAfterSeconds, slowMs, hangMs, seed, pendingSequence: sequence, paths, methods, injected: this.history.length };
  }

  eligible(method, path) {
    const { paths, methods } = this.config;
    if (methods && !methods.map((m) => m.toUpperCase()).includes(method.toUpperCase())) return false;
    if (!paths) return true;
    return paths.some((p) => (p.startsWith('^') ? new RegExp(p).test(path) : path.startsWith(p)));
  }

  /** Decides the fault for one request. Returns null or {kind, retryAfterSeconds, slowMs, hangMs}. */
  next(method, path) {
    if (!this.eligible(method, path)) return null;
    this.eligibleCount += 1;
    let kind = null;
    if (this.config.sequence.length > 0) {
      kind = this.config.sequence.shift();
    } else if (this.config.rate > 0) {
      const r = this.random();
      if (r < this.config.rate) {
        const ks = this.config.kinds;
        kind = ks.length === 1 ? ks[0] : ks[Math.floor(this.random() * ks.length)];
      }
    }
    if (!kind) return null;
    const fault = {
      kind,
      retryAfterSeconds: this.config.retryAfterSeconds,
      slowMs: this.config.slowMs,
      hangMs: this.config.hangMs,
    };
    this.history.push({ n: this.eligibleCount, method, path, kind });
    return fault;
  }
}

// ---------------------------------------------------------------------------------------------
// Write log

/**
 * Every write the platform accepted, in arrival order. `listing` is the simulator's key for the
 * thing whose quantity changed (documented per simulator). `version` is the caller-supplied
 * version when one was sent (each simulator documents where it reads it from; all of them accept
 * the `X-StockEdge-Version` request header), otherwise null.
 */
export class WriteLog {
  constructor(clock) {
    this.clock = clock ?? createClock();
    this.list = [];
    this.seq = 0;
  }

  record(listing, { value, version = null, reference = null, ...extra } = {}) {
    const entry = {
      seq: ++this.seq,
      at: new Date(this.clock.now()).toISOString(),
      listing: String(listing),
      value,
      version: version === undefined || version === '' ? null : version,
      reference: reference ?? null,
      ...extra,
    };
    this.list.push(entry);
    return entry;
  }

  /** Entries, optionally for one listing (or sku), and/or after a sequence number. */
  entries({ listing, sku, since } = {}) {
    return this.list.filter((e) => (listing === undefined || listing === null || e.listing === String(listing))
      && (sku === undefined || sku === null || e.sku === sku)
      && (since === undefined || since === null || e.seq > Number(since)));
  }

  /** The values written to one listing, in order. */
  values(listing) { return this.entries({ listing }).map((e) => e.value); }

  /** The versions written to one listing, in order. */
  versions(listing) { return this.entries({ listing }).map((e) => e.version); }

  /** The last accepted entry for a listing, or undefined. */
  last(listing) { const l = this.entries({ listing }); return l[l.length - 1]; }

  clear() { this.list = []; }
}

/** Parses a version the caller supplied: integers become numbers, other strings stay strings. */
export function parseVersion(v) {
  if (v === undefined || v === null) return null;
  const s = String(v).trim();
  if (s === '') return null;
  return /^-?\d{1,15}$/.test(s) ? Number(s) : s;
}

/** The generic version header every simulator accepts. */
export const VERSION_HEADER = 'x-stockedge-version';

// ---------------------------------------------------------------------------------------------
// Rate limiting

/**
 * Token bucket: `rate` tokens per second are added up to `burst`; a request takes `cost` tokens.
 * This is the algorithm Amazon documents for SP-API usage plans (rate + burst) and, with points
 * instead of requests, Shopify's leaky bucket for GraphQL cost.
 */
export class TokenBucket {
  constructor({ rate, burst, clock, initial } = {}) {
    if (!(rate > 0) || !(burst > 0)) throw new RangeError('TokenBucket needs rate > 0 and burst > 0');
    this.rate = rate;
    this.burst = burst;
    this.clock = clock ?? createClock();
    this.tokens = initial ?? burst;
    this.at = this.clock.now();
  }

  refill() {
    const now = this.clock.now();
    const dt = Math.max(0, now - this.at) / 1000;
    this.tokens = Math.min(this.burst, this.tokens + dt * this.rate);
    this.at = now;
  }

  /** Tokens currently available. */
  available() { this.refill(); return this.tokens; }

  /** Takes `cost` tokens if available. Returns {ok, remaining, retryAfterSeconds}. */
  take(cost = 1) {
    this.refill();
    if (this.tokens + 1e-9 >= cost) {
      this.tokens -= cost;
      return { ok: true, remaining: this.tokens, retryAfterSeconds: 0 };
    }
    const deficit = cost - this.tokens;
    return { ok: false, remaining: this.tokens, retryAfterSeconds: Math.max(1, Math.ceil(deficit / this.rate)) };
  }

  /** Gives tokens back (e.g. refund of requested-minus-actual cost). */
  give(n) { this.refill(); this.tokens = Math.min(this.burst, this.tokens + n); }

  reset() { this.tokens = this.burst; this.at = this.clock.now(); }
}

/** One token bucket per key (seller, app+shop, …). */
export class KeyedRateLimiter {
  constructor({ rate, burst, clock } = {}) {
    this.rate = rate;
    this.burst = burst;
    this.clock = clock ?? createClock();
    this.buckets = new Map();
  }

  bucket(key) {
    let b = this.buckets.get(key);
    if (!b) { b = new TokenBucket({ rate: this.rate, burst: this.burst, clock: this.clock }); this.buckets.set(key, b); }
    return b;
  }

  take(key, cost = 1) { return this.bucket(key).take(cost); }

  reset() { this.buckets.clear(); }
}

/** A 429 answer with Retry-After (seconds). */
export function tooManyRequests(body, retryAfterSeconds = 1, headers = {}) {
  return respond(429, body, { 'retry-after': String(Math.max(0, Math.ceil(retryAfterSeconds))), ...headers });
}

// ---------------------------------------------------------------------------------------------
// Responses and request helpers

/** A response description; `body` may be an object (sent as JSON), a string or a Buffer. */
export function respond(status, body = '', headers = {}) {
  return { status, body, headers };
}

export function json(status, body, headers = {}) {
  return { status, body: JSON.stringify(body), headers: { 'content-type': 'application/json; charset=utf-8', ...headers } };
}

export function text(status, body, headers = {}) {
  return { status, body: String(body), headers: { 'content-type': 'text/plain; charset=utf-8', ...headers } };
}

/** Parses `Authorization: Basic …` into {user, pass}, or null. */
export function basicAuth(header) {
  if (!header) return null;
  const m = /^Basic\s+([A-Za-z0-9+/=._-]+)\s*$/i.exec(header);
  if (!m) return null;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i < 0) return null;
  return { user: decoded.slice(0, i), pass: decoded.slice(i + 1) };
}

/** Parses `Authorization: Bearer …`, or null. */
export function bearer(header) {
  if (!header) return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m ? m[1] : null;
}

/** base64(HMAC-SHA256(secret, body)) — the signature Shopify and WooCommerce put on webhooks. */
export function hmacBase64(secret, body) {
  return crypto.createHmac('sha256', secret).update(body).digest('base64');
}

/** Constant-time string comparison. */
export function safeEqual(a, b) {
  const x = Buffer.from(String(a ?? ''));
  const y = Buffer.from(String(b ?? ''));
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

export function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }

/** Compiles '/a/:b/c' into a matcher returning params or null. */
export function compilePath(pattern) {
  const names = [];
  const re = new RegExp('^' + pattern.split('/').map((seg) => {
    if (seg.startsWith(':')) { names.push(seg.slice(1)); return '([^/]+)'; }
    return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }).join('/') + '/?$');
  return (path) => {
    const m = re.exec(path);
    if (!m) return null;
    const params = {};
    names.forEach((n, i) => { params[n] = decodeURIComponent(m[i + 1]); });
    return params;
  };
}

/**
 * A minimal router: routes are [method, pattern, handler]. Returns a handler that answers 404
 * (or 405 for a known path with another method) through `notFound(ctx, allowed)`.
 */
export function router(routes, { notFound } = {}) {
  const compiled = routes.map(([method, pattern, fn]) => ({ method: method.toUpperCase(), match: compilePath(pattern), fn }));
  return async (ctx) => {
    const allowed = [];
    for (const r of compiled) {
      const params = r.match(ctx.path);
      if (!params) continue;
      if (r.method !== ctx.method) { allowed.push(r.method); continue; }
      ctx.params = params;
      return r.fn(ctx);
    }
    if (notFound) return notFound(ctx, allowed);
    return allowed.length ? json(405, { error: 'method not allowed' }, { allow: allowed.join(', ') }) : json(404, { error: 'not found' });
  };
}

// ---------------------------------------------------------------------------------------------
// The server

const DEFAULT_ERROR_BODIES = {
  500: { error: 'Internal Server Error' },
  503: { error: 'Service Unavailable' },
  429: { error: 'Too Many Requests' },
};

/**
 * Starts a simulator on 127.0.0.1.
 *
 * @param handler async (ctx) => response, where ctx = {method, path, query (URLSearchParams),
 *   headers (lower-case), rawBody (Buffer), text(), json(), requestId, clock, sim, params}.
 * @param opts {port = 0, host = '127.0.0.1', name, clock, log, faults (FaultInjector or config),
 *   state: () => object, errorResponse: (kind, ctx, fault) => response, onReset: () => void,
 *   bodyLimit}
 * @returns {url, port, close(), faults, log, clock, requests, server, name}
 */
export async function startSim(handler, opts = {}) {
  const {
    port = 0,
    host = '127.0.0.1',
    name = 'sim',
    clock = createClock(),
    bodyLimit = 10 * 1024 * 1024,
  } = opts;
  const log = opts.log ?? new WriteLog(clock);
  const faults = opts.faults instanceof FaultInjector ? opts.faults : new FaultInjector(opts.faults ?? {});
  const requests = [];
  const hanging = new Set();
  let requestSeq = 0;

  const sim = { name, clock, log, faults, requests, url: '', port: 0, server: null };

  const errorResponse = (kind, ctx, fault) => {
    if (opts.errorResponse) {
      const r = opts.errorResponse(kind, ctx, fault);
      if (r) return r;
    }
    const status = Number(kind);
    const headers = {};
    if (status === 429 || status === 503) headers['retry-after'] = String(fault.retryAfterSeconds);
    return json(status, DEFAULT_ERROR_BODIES[status] ?? { error: 'error' }, headers);
  };

  async function control(ctx) {
    const sub = ctx.path.slice('/__sim'.length);
    if (sub === '/faults') {
      if (ctx.method === 'GET') return json(200, { ...faults.describe(), history: faults.history });
      if (ctx.method === 'POST' || ctx.method === 'PUT') {
        let cfg;
        try { cfg = ctx.rawBody.length ? JSON.parse(ctx.rawBody.toString('utf8')) : {}; } catch { return json(400, { error: 'body must be JSON' }); }
        try { return json(200, faults.set(cfg)); } catch (e) { return json(400, { error: e.message }); }
      }
      if (ctx.method === 'DELETE') return json(200, faults.clear());
    }
    if (sub === '/log' && ctx.method === 'GET') {
      const q = ctx.query;
      return json(200, { entries: log.entries({ listing: q.get('listing') ?? undefined, sku: q.get('sku') ?? undefined, since: q.get('since') ?? undefined }) });
    }
    if (sub === '/log' && ctx.method === 'DELETE') { log.clear(); return json(200, { entries: [] }); }
    if (sub === '/state' && ctx.method === 'GET') return json(200, opts.state ? opts.state() : {});
    if (sub === '/requests' && ctx.method === 'GET') return json(200, { requests });
    if (sub === '/clock') {
      if (ctx.method === 'POST') {
        let b = {};
        try { b = ctx.rawBody.length ? JSON.parse(ctx.rawBody.toString('utf8')) : {}; } catch { return json(400, { error: 'body must be JSON' }); }
        if (b.advanceMs !== undefined) clock.advance(Number(b.advanceMs));
        if (b.set !== undefined) clock.set(typeof b.set === 'number' ? b.set : Date.parse(b.set));
      }
      return json(200, { now: clock.iso(), offsetMs: clock.offsetMs });
    }
    if (sub === '/reset' && ctx.method === 'POST') {
      log.clear(); faults.clear(); requests.length = 0; faults.history.length = 0;
      if (opts.onReset) opts.onReset();
      return json(200, { reset: true });
    }
    return json(404, { error: 'unknown simulator control route' });
  }

  function send(res, r) {
    if (res.headersSent || res.destroyed) return;
    let body = r.body ?? '';
    const headers = { ...(r.headers ?? {}) };
    if (typeof body === 'object' && !Buffer.isBuffer(body)) {
      body = JSON.stringify(body);
      if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json; charset=utf-8';
    }
    const buf = Buffer.isBuffer(body) ? body : Buffer.from(String(body), 'utf8');
    headers['content-length'] = String(buf.length);
    res.writeHead(r.status, headers);
    res.end(buf);
  }

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://sim.local');
    const chunks = [];
    let size = 0;
    let tooBig = false;
    try {
      for await (const c of req) {
        size += c.length;
        if (size > bodyLimit) { tooBig = true; break; }
        chunks.push(c);
      }
    } catch {
      return; // client went away
    }
    const rawBody = Buffer.concat(chunks);
    const ctx = {
      method: req.method.toUpperCase(),
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      rawBody,
      text: () => rawBody.toString('utf8'),
      json: () => JSON.parse(rawBody.toString('utf8')),
      requestId: crypto.randomUUID(),
      clock,
      sim,
      params: {},
      req,
    };
    if (tooBig) return send(res, json(413, { error: 'request body too large' }));

    if (ctx.path === '/__sim' || ctx.path.startsWith('/__sim/')) {
      try { return send(res, await control(ctx)); } catch (e) { return send(res, json(500, { error: String(e?.stack ?? e) })); }
    }

    const n = ++requestSeq;
    const journal = { n, at: clock.iso(), method: ctx.method, path: ctx.path, status: null, fault: null };
    requests.push(journal);
    const fault = faults.next(ctx.method, ctx.path);
    if (fault) journal.fault = fault.kind;

    if (fault?.kind === 'reset') { req.socket.destroy(); journal.status = 'reset'; return; }
    if (fault?.kind === 'timeout') {
      journal.status = 'timeout';
      const t = setTimeout(() => { hanging.delete(t); req.socket.destroy(); }, fault.hangMs);
      t.unref?.();
      hanging.add(t);
      res.on('close', () => { clearTimeout(t); hanging.delete(t); });
      return;
    }
    if (fault && ['500', '503', '429'].includes(fault.kind)) {
      const r = errorResponse(fault.kind, ctx, fault);
      journal.status = r.status;
      return send(res, r);
    }
    if (fault?.kind === 'slow') await sleep(fault.slowMs);

    let r;
    try {
      r = await handler(ctx);
    } catch (e) {
      r = json(500, { error: 'simulator bug', detail: String(e?.stack ?? e) });
    }
    if (!r) r = json(500, { error: 'simulator returned no response' });
    if (fault?.kind === 'lost') { journal.status = 'lost'; req.socket.destroy(); return; }
    journal.status = r.status;
    send(res, r);
  });
  server.keepAliveTimeout = 1000;

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => { server.off('error', reject); resolve(); });
  });
  const addr = server.address();
  sim.server = server;
  sim.port = addr.port;
  sim.url = `http://${host}:${addr.port}`;
  sim.close = () => new Promise((resolve) => {
    for (const t of hanging) clearTimeout(t);
    hanging.clear();
    server.close(() => resolve());
    server.closeAllConnections?.();
  });
  return sim;
}

// ---------------------------------------------------------------------------------------------
// Outbound (webhook senders)

/**
 * POSTs a raw body and returns {status, headers, text, ok} — or {error} when the connection
 * failed or `timeoutMs` passed. Used by the webhook/notification senders.
 */
export async function postRaw(url, { headers = {}, body = '', timeoutMs = 5000, method = 'POST' } = {}) {
  try {
    const init = { method, headers, signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' };
    if (!['GET', 'HEAD'].includes(method.toUpperCase())) init.body = body;
    const r = await fetch(url, init);
    const t = await r.text();
    return { status: r.status, ok: r.status >= 200 && r.status < 300, headers: Object.fromEntries(r.headers), text: t };
  } catch (e) {
    return { status: 0, ok: false, error: String(e?.message ?? e), headers: {}, text: '' };
  }
}

/** Integer check shared by the validators. */
export function isInt(v) { return typeof v === 'number' && Number.isInteger(v); }
