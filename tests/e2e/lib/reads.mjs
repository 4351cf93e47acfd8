// Reads the end-to-end tests share: a SKU's figures at one location, the open sync failures, and
// a run of the scheduled handler (the cron trigger) on demand.

import assert from 'node:assert/strict';

import { assertOk } from './expect.mjs';

const enc = encodeURIComponent;

/**
 * The row of `location` in `GET /v1/skus/{sku}` (`{ location, on_hand, reserved, committed,
 * available }`), through `a` (an `api()` or `useRuntime()` client); undefined when the SKU is
 * unknown (404) or has nothing there.
 */
export async function atLocation(a, sku, location = 'main') {
  const r = await a.admin('GET', `/v1/skus/${enc(sku)}`);
  if (r.status === 404) return undefined;
  return assertOk(r, 200, `GET /v1/skus/${sku}`).locations.find((l) => l.location === location);
}

/** The units of `sku` available at `location` (undefined as for `atLocation`). */
export async function availableAt(a, sku, location = 'main') {
  return (await atLocation(a, sku, location))?.available;
}

/** The open sync failures (`GET /v1/sync/failures`) that `pick` keeps (every one by default). */
export async function failuresOf(a, pick = () => true) {
  return assertOk(await a.admin('GET', '/v1/sync/failures'), 200, 'GET /v1/sync/failures').items.filter(pick);
}

/**
 * Runs the Worker's scheduled handler once, as its cron trigger does (`wrangler dev
 * --test-scheduled` serves `GET /__scheduled`), on the runtime at `url`; asserts it answered 200.
 */
export async function runCron(url) {
  const r = await fetch(`${url}/__scheduled?cron=${enc('*/2 * * * *')}`);
  const text = await r.text();
  assert.equal(r.status, 200, text);
  return text;
}
