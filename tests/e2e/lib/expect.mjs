// Assertions shared by the end-to-end tests.

import assert from 'node:assert/strict';

export const PROBLEM = 'application/problem+json';

/** Asserts a problem answer: status, content type application/problem+json and `type`. */
export function assertProblem(r, status, slug, what = '') {
  const ctx = `${what}: ${r.status} ${r.text}`;
  assert.equal(r.status, status, ctx);
  assert.equal((r.headers.get('content-type') ?? '').split(';')[0].trim(), PROBLEM, ctx);
  assert.equal(r.body?.type, `/problems/${slug}`, ctx);
  assert.equal(r.body.status, status, ctx);
  assert.equal(typeof r.body.detail, 'string', ctx);
  assert.equal(typeof r.body.title, 'string', ctx);
  return r.body;
}

/** Asserts a 2xx JSON answer with `status`. Returns the body. */
export function assertOk(r, status = 200, what = '') {
  const ctx = `${what}: ${r.status} ${r.text}`;
  assert.equal(r.status, status, ctx);
  assert.equal((r.headers.get('content-type') ?? '').split(';')[0].trim(), 'application/json', ctx);
  return r.body;
}

/** The fields named by a validation problem. */
export function fieldsOf(body) {
  return (body.errors ?? []).map((e) => e.field);
}

/** Reads a SKU's whole journal, following `next`. */
export async function readJournal(a, sku, pageSize = 1000) {
  const entries = [];
  let after = 0;
  for (let pages = 0; pages < 1000; pages++) {
    const r = await a.admin('GET', `/v1/skus/${encodeURIComponent(sku)}/journal?after=${after}&limit=${pageSize}`);
    assertOk(r, 200, `journal of ${sku}`);
    entries.push(...r.body.entries);
    if (r.body.next === undefined) return entries;
    after = r.body.next;
  }
  throw new Error(`journal of ${sku} did not end`);
}

/** Σ of each delta over journal entries. */
export function journalSums(entries) {
  const s = { on_hand: 0, reserved: 0, committed: 0 };
  for (const e of entries) {
    s.on_hand += e.deltas.on_hand;
    s.reserved += e.deltas.reserved;
    s.committed += e.deltas.committed;
  }
  return s;
}
