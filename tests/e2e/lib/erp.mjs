// What the ERP e2e files share: admin calls under /v1/erp checked against openapi.json, a SKU's
// available at `main`, and running a connection's poll until its stretch is read.

import assert from 'node:assert/strict';

import { assertOk } from './expect.mjs';
import { validateResponse } from './openapi.mjs';
import { availableAt } from './reads.mjs';

const enc = encodeURIComponent;

/** `a`: the runtime's API client (`useRuntime()`). */
export function erpClient(a) {
  async function call(method, path, body) {
    const r = await a.admin(method, path, body);
    const template = path.split('?')[0]
      .replace(/^\/v1\/erp\/connections\/[^/]+\/mappings$/, '/v1/erp/connections/{id}/mappings')
      .replace(/^\/v1\/erp\/connections\/[^/]+$/, '/v1/erp/connections/{id}');
    validateResponse(method, template, r.status, r.headers.get('content-type'), r.text, r.headers);
    return r;
  }

  /** Units of `s` available at `main` (the location the tests' connections master). */
  const available = (s) => availableAt(a, s);

  /** Runs `connection`'s poll until a run reports its stretch finished (at most 10 runs). */
  async function pollUntilFinished(connection) {
    const runs = [];
    for (let i = 0; i < 10; i++) {
      const r = assertOk(await call('POST', `/v1/erp/polls/run?connection=${enc(connection)}`), 200, 'poll');
      runs.push(r.runs[0]);
      if (r.runs[0].finished) return runs;
    }
    assert.fail(`the stretch never finished: ${JSON.stringify(runs)}`);
  }

  return { call, available, pollUntilFinished };
}
