// Security (issue 14, point 7; docs/security.md) against the running Worker: roles per route
// (a sample of the permission table, which a native test checks in full against the OpenAPI
// document), token rotation (both tokens accepted, then the old one refused), CORS preflights
// and actual answers, rate limits (429 + Retry-After as problem+json, per token and per IP), and
// secrets never logged or echoed: traffic through every auth path, webhooks signed with their
// secrets, channels that push with credentials, then everything the runtime wrote and answered is
// searched for every secret value.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

import { ADMIN_TOKEN, OPERATOR_TOKEN, ROOT, STOREFRONT_TOKEN, request, start, unique, until } from './lib/worker.mjs';
import { startShopifySim, sendWebhook as sendShopify, orderCreatedPayload } from '../sim/shopify.mjs';

const enc = encodeURIComponent;
const ORIGIN = 'https://shop.example.test';
const OTHER_ORIGIN = 'https://evil.example.test';
// Tokens a rotation adds; only this file knows them.
const ADMIN_NEXT = `admin-next-${crypto.randomBytes(12).toString('hex')}`;
const STOREFRONT_NEXT = `storefront-next-${crypto.randomBytes(12).toString('hex')}`;
const OPERATOR_NEXT = `operator-next-${crypto.randomBytes(12).toString('hex')}`;
const TOKEN_LIMIT = 5;
const IP_LIMIT = 40;

let rt; // the main runtime: every token with its next one, CORS for ORIGIN
let shop; // a Shopify simulator the Worker pushes to with SIM_SHOPIFY_TOKEN
const answers = []; // every body the Worker answered, searched for secrets at the end

const call = async (token, method, p, body, headers = {}) => {
  const r = await request(rt.url, method, p, { token, body, headers });
  answers.push(r.text);
  return r;
};

function expectProblem(r, status, slug) {
  assert.equal(r.status, status, `${r.status} ${r.text}`);
  assert.match(r.headers.get('content-type') ?? '', /application\/problem\+json/);
  assert.equal(r.body.type, `/problems/${slug}`, r.text);
}

before(async () => {
  shop = await startShopifySim({ shopDomain: `${unique('sec').toLowerCase()}.myshopify.com` });
  rt = await start({
    vars: { CORS_ALLOWED_ORIGINS: `${ORIGIN} http://localhost:3000` },
    secrets: { ADMIN_TOKEN_NEXT: ADMIN_NEXT, STOREFRONT_TOKEN_NEXT: STOREFRONT_NEXT, OPERATOR_TOKEN_NEXT: OPERATOR_NEXT },
  });
});

after(async () => {
  await rt?.discard();
  await shop?.close();
});

describe('roles', () => {
  test('each role reaches what the permission table gives it, and nothing else changes state', async () => {
    const S = unique('SEC');
    assert.equal((await call(ADMIN_TOKEN, 'PUT', `/v1/skus/${enc(S)}/stock`, { on_hand: 7 })).status, 200);
    const cases = [
      // [token, method, path, body, status]
      [undefined, 'GET', '/healthz', undefined, 200],
      [undefined, 'GET', `/v1/skus/${enc(S)}`, undefined, 401],
      ['not-a-token', 'GET', '/v1/availability?sku=' + enc(S), undefined, 401],
      [undefined, 'GET', '/v1/no-such-path', undefined, 401],
      [STOREFRONT_TOKEN, 'GET', `/v1/availability?sku=${enc(S)}`, undefined, 200],
      [STOREFRONT_TOKEN, 'GET', `/v1/skus/${enc(S)}`, undefined, 403],
      [STOREFRONT_TOKEN, 'PUT', `/v1/skus/${enc(S)}/stock`, { on_hand: 1 }, 403],
      [OPERATOR_TOKEN, 'GET', `/v1/availability?sku=${enc(S)}`, undefined, 200],
      [OPERATOR_TOKEN, 'GET', `/v1/skus/${enc(S)}`, undefined, 200],
      [OPERATOR_TOKEN, 'GET', `/v1/skus/${enc(S)}/journal`, undefined, 200],
      [OPERATOR_TOKEN, 'GET', '/v1/channels', undefined, 200],
      [OPERATOR_TOKEN, 'GET', '/v1/overview', undefined, 200],
      [OPERATOR_TOKEN, 'GET', '/v1/metrics', undefined, 200],
      [OPERATOR_TOKEN, 'GET', '/v1/erp/connections', undefined, 200],
      [OPERATOR_TOKEN, 'PUT', `/v1/skus/${enc(S)}/stock`, { on_hand: 1 }, 403],
      [OPERATOR_TOKEN, 'POST', `/v1/skus/${enc(S)}/adjustments`, { delta: -1, reason: 'x' }, 403],
      [OPERATOR_TOKEN, 'POST', '/v1/reservations', { lines: [{ sku: S, qty: 1 }] }, 403],
      [OPERATOR_TOKEN, 'DELETE', `/v1/products/${enc(S)}`, undefined, 403],
      [OPERATOR_TOKEN, 'POST', '/v1/inbound/polls/run', undefined, 403],
      [OPERATOR_NEXT, 'GET', `/v1/skus/${enc(S)}`, undefined, 200],
      [STOREFRONT_NEXT, 'GET', `/v1/availability?sku=${enc(S)}`, undefined, 200],
      [ADMIN_TOKEN, 'GET', `/v1/skus/${enc(S)}`, undefined, 200],
    ];
    for (const [token, method, p, body, status] of cases) {
      const r = await call(token, method, p, body);
      assert.equal(r.status, status, `${method} ${p} as ${token ?? 'nobody'}: ${r.status} ${r.text}`);
      if (status === 401) {
        expectProblem(r, 401, 'unauthorized');
        assert.match(r.headers.get('www-authenticate') ?? '', /^Bearer/);
      }
      if (status === 403) {
        expectProblem(r, 403, 'forbidden');
        assert.ok(Array.isArray(r.body.required_roles) && r.body.required_roles.includes('admin'), r.text);
      }
    }
    // The refused changes changed nothing.
    const sku = (await call(ADMIN_TOKEN, 'GET', `/v1/skus/${enc(S)}`)).body;
    assert.equal(sku.totals?.on_hand ?? sku.on_hand, 7, JSON.stringify(sku));
    const journal = (await call(ADMIN_TOKEN, 'GET', `/v1/skus/${enc(S)}/journal`)).body;
    assert.equal(journal.entries?.length ?? journal.items?.length, 1, JSON.stringify(journal));
  });
});

describe('rotation', () => {
  test('both tokens of a role are accepted while it is rotated', async () => {
    const S = unique('ROT');
    const a = await call(ADMIN_TOKEN, 'PUT', `/v1/skus/${enc(S)}/stock`, { on_hand: 3 });
    const b = await call(ADMIN_NEXT, 'PUT', `/v1/skus/${enc(S)}/stock`, { on_hand: 4 });
    assert.equal(a.status, 200, a.text);
    assert.equal(b.status, 200, b.text);
    const r = await call(STOREFRONT_NEXT, 'POST', '/v1/reservations', { lines: [{ sku: S, qty: 1 }] });
    assert.equal(r.status, 201, r.text);
  });

  test('once the new value is the token and the next slot is empty, the old value is refused', async () => {
    // The end of a rotation: ADMIN_TOKEN holds the new value, ADMIN_TOKEN_NEXT is gone.
    const done = await start({ secrets: { ADMIN_TOKEN: ADMIN_NEXT } });
    try {
      const old = await request(done.url, 'GET', '/v1/overview', { token: ADMIN_TOKEN });
      expectProblem(old, 401, 'unauthorized');
      const now = await request(done.url, 'GET', '/v1/overview', { token: ADMIN_NEXT });
      assert.equal(now.status, 200, now.text);
      // The other roles are untouched.
      assert.equal((await request(done.url, 'GET', '/v1/overview', { token: OPERATOR_TOKEN })).status, 200);
    } finally {
      await done.stop();
    }
  });
});

describe('cors', () => {
  test('a preflight from a configured origin is 204 with the allowed methods and headers', async () => {
    const r = await call(undefined, 'OPTIONS', '/v1/reservations', undefined, {
      origin: ORIGIN,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization, content-type, idempotency-key',
    });
    assert.equal(r.status, 204, r.text);
    assert.equal(r.headers.get('access-control-allow-origin'), ORIGIN);
    assert.match(r.headers.get('access-control-allow-methods') ?? '', /POST/);
    for (const h of ['authorization', 'content-type', 'idempotency-key']) {
      assert.match(r.headers.get('access-control-allow-headers') ?? '', new RegExp(h));
    }
    assert.ok(Number(r.headers.get('access-control-max-age')) > 0);
    assert.match(r.headers.get('vary') ?? '', /Origin/);
  });

  test('a preflight from another origin is 204 with no CORS header', async () => {
    for (const origin of [OTHER_ORIGIN, 'null', `${ORIGIN}.evil.test`]) {
      const r = await call(undefined, 'OPTIONS', '/v1/availability', undefined, { origin, 'access-control-request-method': 'GET' });
      assert.equal(r.status, 204, origin);
      for (const [name] of r.headers) assert.ok(!name.startsWith('access-control-'), `${origin}: ${name}`);
      assert.match(r.headers.get('vary') ?? '', /Origin/);
    }
  });

  test('actual answers carry the origin only for a configured one, and always Vary: Origin', async () => {
    const S = unique('CORS');
    const yes = await call(STOREFRONT_TOKEN, 'GET', `/v1/availability?sku=${enc(S)}`, undefined, { origin: 'http://localhost:3000' });
    assert.equal(yes.status, 200, yes.text);
    assert.equal(yes.headers.get('access-control-allow-origin'), 'http://localhost:3000');
    assert.match(yes.headers.get('access-control-expose-headers') ?? '', /retry-after/);
    assert.match(yes.headers.get('vary') ?? '', /Origin/);
    const no = await call(STOREFRONT_TOKEN, 'GET', `/v1/availability?sku=${enc(S)}`, undefined, { origin: OTHER_ORIGIN });
    assert.equal(no.status, 200);
    assert.equal(no.headers.get('access-control-allow-origin'), null);
    assert.match(no.headers.get('vary') ?? '', /Origin/);
    // A refusal to an allowed origin is readable by its page too.
    const refused = await call(undefined, 'GET', '/v1/availability', undefined, { origin: ORIGIN });
    expectProblem(refused, 401, 'unauthorized');
    assert.equal(refused.headers.get('access-control-allow-origin'), ORIGIN);
  });
});

describe('rate limits', () => {
  /** Sends `send()` until a 429 answers (at most `cap` times); returns it and the count sent. */
  async function until429(send, cap) {
    for (let n = 1; n <= cap; n++) {
      const r = await send();
      if (r.status === 429) return { r, n };
      assert.ok(r.status < 400, `${r.status} ${r.text}`);
    }
    assert.fail(`no 429 in ${cap} requests`);
  }

  function expect429(r, limit) {
    expectProblem(r, 429, 'too-many-requests');
    assert.equal(r.headers.get('retry-after'), '60');
    assert.equal(r.body.retry_after, 60);
    assert.equal(r.body.limit, limit);
  }

  test('per token, then per client address: 429 with Retry-After as problem+json', async () => {
    const limited = await start({ ratelimits: { RATE_LIMIT_TOKEN: TOKEN_LIMIT, RATE_LIMIT_IP: IP_LIMIT } });
    try {
      const get = (token, p) => request(limited.url, 'GET', p, { token });
      // A window may end mid-run: two windows' worth bounds the count.
      const t = await until429(() => get(STOREFRONT_TOKEN, '/v1/availability?sku=RL-1'), 2 * TOKEN_LIMIT + 1);
      expect429(t.r, 'token');
      assert.ok(t.n > TOKEN_LIMIT, `refused after ${t.n} requests`);
      // Another token has its own budget.
      const other = await get(ADMIN_TOKEN, '/v1/availability?sku=RL-1');
      assert.equal(other.status, 200, other.text);
      // The client address's budget covers every request, with or without a token.
      const ip = await until429(() => get(undefined, '/v1/openapi.json'), 2 * IP_LIMIT + 1);
      expect429(ip.r, 'ip');
      const admin = await get(ADMIN_TOKEN, '/v1/overview');
      expect429(admin, 'ip');
      // The health check is never limited.
      assert.equal((await get(undefined, '/healthz')).status, 200);
    } finally {
      await limited.stop();
    }
  });
});

describe('secrets', () => {
  /** Every secret value .dev.vars and this file configure, with the secret parts of composite ones. */
  function secretValues() {
    const values = new Map();
    const text = fs.readFileSync(path.join(ROOT, '.dev.vars'), 'utf8');
    for (const line of text.split('\n')) {
      const m = line.match(/^\s*([A-Z0-9_]+)\s*=\s*(.*)$/);
      if (!m) continue;
      let v = m[2].trim();
      if ((v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'"))) v = v.slice(1, -1);
      values.set(m[1], v);
      try {
        const j = JSON.parse(v);
        for (const k of ['client_secret', 'refresh_token']) if (j[k]) values.set(`${m[1]}.${k}`, j[k]);
      } catch {
        const pass = v.split(':')[1];
        if (v.includes(':') && pass?.length >= 8) values.set(`${m[1]}.password`, pass);
      }
    }
    values.set('ADMIN_TOKEN_NEXT', ADMIN_NEXT);
    values.set('STOREFRONT_TOKEN_NEXT', STOREFRONT_NEXT);
    values.set('OPERATOR_TOKEN_NEXT', OPERATOR_NEXT);
    return values;
  }

  test('traffic through every auth path, webhooks and channel pushes: no secret in logs or answers', async () => {
    const values = secretValues();
    assert.ok(values.size >= 15, [...values.keys()].join(' '));
    // Every token, right and wrong, on every kind of route.
    for (const token of [ADMIN_TOKEN, ADMIN_NEXT, OPERATOR_TOKEN, OPERATOR_NEXT, STOREFRONT_TOKEN, STOREFRONT_NEXT, `${ADMIN_TOKEN}x`, undefined]) {
      for (const [m, p] of [['GET', '/v1/overview'], ['GET', '/v1/availability?sku=SEC-X'], ['PUT', '/v1/skus/SEC-X/stock'], ['GET', '/v1/nope']]) {
        await call(token, m, p, m === 'PUT' ? { on_hand: 2 } : undefined);
      }
    }
    // A Shopify channel with credentials and a webhook key; a second whose credentials the
    // platform refuses (the failure is recorded and shown).
    const ch = unique('secshop');
    const bad = unique('secbad');
    const S = unique('SEC-PUSH');
    shop.addLocation({ id: 1 });
    shop.addItem({ id: 424242, sku: S, levels: { 1: { available: 0 } } });
    const put = (id, body) => call(ADMIN_TOKEN, 'PUT', `/v1/channels/${enc(id)}`, body);
    assert.equal((await put(ch, { kind: 'shopify', account: shop.shopDomain, credentials_secret: 'SIM_SHOPIFY_TOKEN', settings: { base_url: shop.url, webhook_secret: 'SIM_SHOPIFY_WEBHOOK_SECRET' } })).status, 201);
    assert.equal((await put(bad, { kind: 'shopify', account: 'other.myshopify.com', credentials_secret: 'SIM_WOO_CREDENTIALS', settings: { base_url: shop.url } })).status, 201);
    for (const c of [ch, bad]) {
      const r = await call(ADMIN_TOKEN, 'PUT', `/v1/channels/${enc(c)}/listings/${enc(S)}`, { external: { inventory_item_id: 424242, location_id: 1 } });
      assert.equal(r.status, 201, r.text);
    }
    assert.equal((await call(ADMIN_TOKEN, 'PUT', `/v1/skus/${enc(S)}/stock`, { on_hand: 9 })).status, 200);
    const pushed = await until(() => shop.quantity?.(424242, 1) === 9 || (shop.log.entries().length > 0), { timeoutMs: 60_000, everyMs: 300 });
    assert.ok(pushed, 'the Shopify channel received a push');
    await until(async () => (await call(ADMIN_TOKEN, 'GET', `/v1/sync/failures?channel=${enc(bad)}`)).body?.items?.length > 0, { timeoutMs: 60_000, everyMs: 500 });
    // Signed and forged webhooks.
    const order = orderCreatedPayload({ id: crypto.randomInt(1e9, 9e9), lineItems: [{ id: 1, sku: S, quantity: 1, variant_id: 2, product_id: 3 }] });
    const signed = await sendShopify(`${rt.url}/v1/webhooks/shopify`, 'orders/create', order, { shopDomain: shop.shopDomain });
    assert.equal(signed.status, 200, signed.text);
    const forged = await sendShopify(`${rt.url}/v1/webhooks/shopify`, 'orders/create', order, { shopDomain: shop.shopDomain, secret: 'wrong' });
    assert.equal(forged.status, 401, forged.text);
    answers.push(signed.text, forged.text);
    const body = JSON.stringify({ NotificationType: 'ORDER_CHANGE' });
    const ts = Math.floor(Date.now() / 1000);
    const amz = await call(undefined, 'POST', '/v1/webhooks/amazon', body, {
      'content-type': 'application/json',
      'x-stockedge-timestamp': String(ts),
      'x-stockedge-signature': `sha256=${crypto.createHmac('sha256', values.get('SIM_AMAZON_FORWARDER_SECRET')).update(`${ts - 3600}.${body}`).digest('hex')}`,
    });
    assert.equal(amz.status, 401, amz.text);
    await call(undefined, 'POST', '/v1/webhooks/woocommerce', '{}', { 'content-type': 'application/json', 'x-wc-webhook-signature': 'Zm9yZ2Vk' });
    await call(undefined, 'GET', '/v1/webhooks/ebay?challenge_code=abc');
    await call(undefined, 'POST', '/v1/edi/850?channel=nope', 'ISA*', { authorization: `Basic ${Buffer.from('acme-edi:wrong').toString('base64')}` });
    // What an operator can read about the channels and their failures.
    for (const p of [`/v1/channels/${enc(ch)}`, `/v1/channels/${enc(bad)}`, '/v1/sync/failures', '/v1/sync/status', '/v1/overview', '/v1/metrics', '/v1/inbound/unmatched']) {
      const r = await call(OPERATOR_TOKEN, 'GET', p);
      assert.equal(r.status, 200, `${p}: ${r.text}`);
    }

    const log = fs.readFileSync(rt.logFile, 'utf8');
    assert.ok(log.length > 1000 && /"status":\s*200/.test(log), 'the runtime log holds the request lines');
    const leaks = [];
    for (const [name, value] of values) {
      if (log.includes(value)) leaks.push(`${name} in the runtime log`);
      if (answers.some((a) => a.includes(value))) leaks.push(`${name} in an answer`);
    }
    assert.deepEqual(leaks, []);
  });
});
