// Linearizability of what concurrent clients see (issue 14, point 2). Rounds of concurrent
// clients hold, commit, release and extend single-SKU reservations, sell on a marketplace
// (`POST /v1/sales`), restock (adjustments) and read availability with `consistency=strong`, on a
// few SKUs with small stock so that they contend for the last units; every call is recorded with
// its invoke and return times (lib/history.mjs). Then the checker (src/history/, the Wing–Gong
// search with the real ledger as the model) checks each SKU's history: every one must be
// linearizable.
//
// Left out by design: bounded (cached) availability reads, which may be up to
// AVAILABILITY_MAX_STALENESS_MS old (docs/api.md), so are not linearizable; and holds refused at
// the edge from cached facts (sold-out shedding): every hold here carries an Idempotency-Key, and
// such holds are always answered by the ledger. Holds live 10 minutes, far longer than a run, so
// none expires under the check (the model has no clock).
//
// Sizes (environment): STOCKEDGE_LINZ_CLIENTS (default 48), STOCKEDGE_LINZ_CALLS per client per
// round (default 16), STOCKEDGE_LINZ_SEED (default random; printed). The history is written to
// target/linearizability/ and kept; recheck it with
//   cargo run --bin check-history -- target/linearizability/<file>.json
// (the test itself checks it through `cargo test --test linearizability`, which `cargo test` has
// built already).
//
//   STOCKEDGE_SKIP_BUILD=1 node --test --test-concurrency=1 tests/e2e/linearizability.test.mjs

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, test } from 'node:test';

import { assertOk } from './lib/expect.mjs';
import { HistoryRecorder } from './lib/history.mjs';
import { ADMIN_TOKEN, ROOT, STOREFRONT_TOKEN, unique, useRuntime } from './lib/worker.mjs';
// The seeded generator the simulators use, so that a run's choices are named by its seed.
import { mulberry32 as rng } from '../sim/lib.mjs';

const env = process.env;
const CLIENTS = Number(env.STOCKEDGE_LINZ_CLIENTS ?? 48);
const CALLS = Number(env.STOCKEDGE_LINZ_CALLS ?? 16);
const SEED = Number(env.STOCKEDGE_LINZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
/** A hold's first TTL; each extend asks one second more than the last, so it always moves the deadline. */
const HOLD_TTL_SECONDS = 600;
const enc = encodeURIComponent;

describe('linearizability of concurrent calls (recorded histories, checked against the ledger)', () => {
  const a = useRuntime();
  const rec = new HistoryRecorder();
  const runId = unique('lin');

  /** One request with its abort signal, as the recorder sends it. */
  const send = (token, method, p, body) => (signal) => a.raw(method, p, { token, body, signal });

  async function stock(prefix, onHand, backorderLimit) {
    const sku = unique(prefix);
    const body = { on_hand: onHand, backorder_limit: backorderLimit };
    assertOk(await a.admin('PUT', `/v1/skus/${enc(sku)}/stock`, body), 200, `stock ${sku}`);
    const s = assertOk(await a.admin('GET', `/v1/skus/${enc(sku)}`), 200, `read ${sku}`);
    assert.deepEqual([s.on_hand, s.reserved, s.committed, s.backorder_limit], [onHand, 0, 0, backorderLimit]);
    rec.begin(sku, { on_hand: s.on_hand, backorder_limit: s.backorder_limit, version: s.version });
    return sku;
  }

  /**
   * One client's calls: with its own holds, commits (45 %), releases (40 %) or extends one; now
   * and then steps an ended hold again (a repeated commit answers 200, a release of a committed
   * one 409); otherwise holds 1–2 units (50 %), reads 1–3 SKUs (30 %), sells one unit on a
   * marketplace (10 %) or restocks 1–3 units (10 %).
   */
  async function client(round, id, skus, calls, weights) {
    const rand = rng(SEED + round * 100_003 + id);
    const pick = (xs) => xs[Math.floor(rand() * xs.length)];
    const held = [];
    const ended = [];
    for (let n = 0; n < calls; n++) {
      const tag = `${runId}-${round}-${id}-${n}`;
      const r = rand();
      if (held.length && r < weights.step) {
        const i = Math.floor(rand() * held.length);
        const h = held[i];
        const s = rand();
        if (s < 0.45 || s >= 0.85) {
          const extend = s >= 0.85;
          const call = extend ? { op: 'extend', hold: h.id } : { op: 'commit', hold: h.id, order: tag };
          const body = extend ? { ttl_seconds: ++h.ttl } : { order_id: tag };
          const answer = await rec.call(id, [[h.sku, call]], send(STOREFRONT_TOKEN, 'POST', `/v1/reservations/${enc(h.id)}/${call.op}`, body));
          if (!extend && answer?.status < 500) ended.push(...held.splice(i, 1));
        } else {
          const call = { op: 'release', hold: h.id };
          const answer = await rec.call(id, [[h.sku, call]], send(STOREFRONT_TOKEN, 'POST', `/v1/reservations/${enc(h.id)}/release`));
          if (answer?.status < 500) ended.push(...held.splice(i, 1));
        }
      } else if (ended.length && r < weights.step + 0.05) {
        const h = pick(ended);
        const op = rand() < 0.5 ? 'commit' : 'release';
        const call = op === 'commit' ? { op, hold: h.id, order: `${tag}-again` } : { op, hold: h.id };
        const body = op === 'commit' ? { order_id: `${tag}-again` } : undefined;
        await rec.call(id, [[h.sku, call]], send(STOREFRONT_TOKEN, 'POST', `/v1/reservations/${enc(h.id)}/${op}`, body));
      } else {
        const k = rand();
        const sku = pick(skus);
        if (k < weights.reserve) {
          const qty = 1 + Math.floor(rand() * 2);
          const body = { lines: [{ sku, qty }], ttl_seconds: HOLD_TTL_SECONDS };
          const answer = await rec.call(id, [[sku, { op: 'reserve', qty }]], (signal) =>
            a.raw('POST', '/v1/reservations', { token: STOREFRONT_TOKEN, body, headers: { 'idempotency-key': tag }, signal }),
          );
          if (answer?.status === 201) held.push({ id: answer.body.id, sku, ttl: HOLD_TTL_SECONDS });
        } else if (k < weights.reserve + weights.read) {
          const many = skus.filter(() => rand() < 0.5);
          const read = many.length ? many : [sku];
          const q = read.map((s) => `sku=${enc(s)}`).join('&');
          await rec.call(id, read.map((s) => [s, { op: 'read' }]), send(STOREFRONT_TOKEN, 'GET', `/v1/availability?${q}&consistency=strong`));
        } else if (k < weights.reserve + weights.read + weights.sale) {
          const call = { op: 'sale', channel: 'amazon', order: tag, qty: 1 };
          const body = { channel: 'amazon', order_id: tag, lines: [{ sku, qty: 1 }] };
          await rec.call(id, [[sku, call]], send(ADMIN_TOKEN, 'POST', '/v1/sales', body));
        } else {
          const delta = 1 + Math.floor(rand() * 3);
          const body = { delta, reason: 'restock' };
          await rec.call(id, [[sku, { op: 'adjust', delta }]], send(ADMIN_TOKEN, 'POST', `/v1/skus/${enc(sku)}/adjustments`, body));
        }
      }
    }
  }

  async function round(n, skus, clients, calls, weights) {
    await Promise.all(Array.from({ length: clients }, (_, id) => client(n, id, skus, calls, weights)));
  }

  test(`${CLIENTS} clients contend for a few units of a few SKUs; every SKU's history is linearizable (seed ${SEED})`, async () => {
    // Round 1: a mix over four SKUs, one with a backorder allowance.
    const mixed = [await stock('LIN/MIX', 2, 0), await stock('LIN/MIX', 3, 0), await stock('LIN/MIX', 4, 1), await stock('LIN/MIX', 6, 0)];
    await round(1, mixed, CLIENTS, CALLS, { step: 0.45, reserve: 0.5, read: 0.3, sale: 0.1 });
    // Round 2: the last unit of two SKUs, wanted by everyone; rarely restocked, never sold elsewhere.
    const last = [await stock('LIN/LAST', 1, 0), await stock('LIN/LAST', 1, 0)];
    await round(2, last, CLIENTS, CALLS, { step: 0.5, reserve: 0.6, read: 0.37, sale: 0 });

    const histories = rec.histories;
    const ops = histories.flatMap((h) => h.ops);
    const odd = ops.filter((o) => o.outcome?.is === 'unexpected');
    assert.deepEqual(odd, [], 'every answer is one the contract names');
    // Contention is real: units were held, refused, committed and released, and each SKU was held and read.
    const kinds = new Set(ops.filter((o) => o.outcome).map((o) => o.outcome.is));
    for (const k of ['held', 'short', 'committed', 'released', 'read']) assert.ok(kinds.has(k), `no call answered ${k}`);
    for (const h of histories) {
      const seen = new Set(h.ops.filter((o) => o.outcome).map((o) => o.outcome.is));
      assert.ok(seen.has('held') && seen.has('read'), `${h.sku}: ${[...seen]}`);
    }
    const file = rec.write(path.join(ROOT, 'target', 'linearizability', `${runId}.json`));
    const pending = ops.filter((o) => o.outcome === null).length;
    console.log(`# recorded ${histories.length} histories, ${ops.length} calls (${pending} never answered) in ${file}`);

    // The check as `cargo test` built it (tests/linearizability.rs): nothing to compile after it.
    const args = ['test', '--quiet', '--test', 'linearizability', 'recorded_histories_are_linearizable', '--', '--nocapture'];
    const check = spawnSync('cargo', args, {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...env, STOCKEDGE_HISTORY_FILES: file },
    });
    for (const line of check.stdout.trim().split('\n')) if (/linearizable|histories,/i.test(line)) console.log(`# ${line}`);
    assert.equal(check.status, 0, `the check:\n${check.stdout}\n${check.stderr}`);
    assert.match(check.stdout, new RegExp(`^${histories.length} histories, ${ops.length} calls .*: ${histories.length} linearizable, 0 not$`, 'm'));
  });
});
