// The ERP path's figures (docs/erp.md; BENCHMARKS.md "Orders to the ERP" and "ERP snapshots"):
// commit → ERP document created, per ERP simulator, and how fast a snapshot is applied.
//
//   node bench/erp_orders.mjs [--orders N] [--snapshot-lines L]
//
// Starts its own runtime (fresh state) and the SAP Business One, Odoo, NetSuite and webhook-ERP
// loopback simulators (tests/sim/), connects each as the master of a location, then places N
// storefront checkouts (default 40) at each location, one at a time, and times from sending the
// commit (an upper bound of its commit) until the simulator holds the order's document (SAP B1 and
// NetSuite: created; Odoo: created and confirmed; webhook ERP: the signed order.created received),
// polled every 2 ms. No faults are injected. Prints p50/p90/max per ERP.
//
// Then snapshots: `POST /v1/erp/snapshots` with L lines (default 1,000, the most one takes), one
// per fresh SKU, three times — the first (every SKU's object created), a newer one changing every
// quantity (applied), the same again (answered `stale`, nothing written) — timing each answer.
// Prints SKUs per second for each.
import crypto from 'node:crypto';
import os from 'node:os';

import { api, percentile, start, unique, until } from '../tests/e2e/lib/worker.mjs';
import { startSapB1Sim } from '../tests/sim/sap_b1.mjs';
import { startOdooSim } from '../tests/sim/odoo.mjs';
import { startNetSuiteSim } from '../tests/sim/netsuite.mjs';
import { startErpWebhookSim } from '../tests/sim/erp_webhook.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const ORDERS = Number(arg('--orders', 40));
const SNAPSHOT_LINES = Number(arg('--snapshot-lines', 1000));
const enc = encodeURIComponent;

const NS_KEY = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
const HOOK_SECRET = crypto.randomBytes(24).toString('hex');
const [sap, odoo, ns, hook] = await Promise.all([
  startSapB1Sim({ items: [{ ItemCode: 'B0', warehouses: [{ WarehouseCode: '01', InStock: 1_000_000 }] }] }),
  startOdooSim({ quants: [{ product: 21, location: 8, quantity: 1_000_000 }] }),
  startNetSuiteSim({
    publicKey: NS_KEY.publicKey.export({ type: 'spki', format: 'pem' }),
    balances: [{ item: 300, location: 1, quantityonhand: 1_000_000, quantityavailable: 1_000_000 }],
  }),
  startErpWebhookSim({ secret: HOOK_SECRET }),
]);
const rt = await start({
  vars: {
    SIM_SAP_B1: JSON.stringify({ CompanyDB: 'SBODEMOUS', UserName: 'manager', Password: 'secret' }),
    SIM_ODOO_KEY: 'odoo-sim-key',
    SIM_NETSUITE: JSON.stringify({ client_id: 'ns-sim-client', certificate_id: 'ns-sim-cert', private_key: NS_KEY.privateKey.export({ type: 'pkcs8', format: 'pem' }) }),
    SIM_ERP_HOOK: HOOK_SECRET,
  },
});
const A = api(rt.url);
async function ok(r, status = 200) {
  if (r.status !== status) throw new Error(`${r.status} ${r.text}`);
  return r.body;
}
/**
 * A write sent with an Idempotency-Key, and sent again under it when wrangler's dev proxy answers
 * its own plain-text 503 ("Your worker restarted mid-request": its connection to the runtime was
 * reset, BENCHMARKS.md) — the key makes a repeat answer the first answer if the Worker had carried
 * it out. Counted in `resent`.
 */
let resent = 0;
async function write(role, method, path, body, status = 200) {
  const key = crypto.randomUUID();
  for (let attempt = 0; ; attempt++) {
    const r = await A[role](method, path, body, { 'Idempotency-Key': key });
    if (r.proxyRestart && attempt < 3) {
      resent += 1;
      continue;
    }
    return ok(r, status);
  }
}

try {
  const run = unique('erpb');
  const erps = {
    sap_b1: {
      sku: `${run}-SAP`, location: 'main', connection: `${run}-sap`,
      put: { kind: 'sap_b1', base_url: sap.url, credentials_secret: 'SIM_SAP_B1', settings: { card_code: 'C20000' } },
      mappings: (sku) => ({ items: { B0: sku }, warehouses: { '01': 'main' } }),
      has: (ref) => sap.ordersByRef(ref).length > 0,
    },
    odoo: {
      sku: `${run}-ODOO`, location: 'odoo', connection: `${run}-odoo`,
      put: { kind: 'odoo', base_url: odoo.url, credentials_secret: 'SIM_ODOO_KEY', settings: { partner_id: 3 } },
      mappings: (sku) => ({ items: { 21: sku }, warehouses: { 8: 'odoo' } }),
      has: (ref) => odoo.ordersByRef(ref)[0]?.state === 'sale',
    },
    netsuite: {
      sku: `${run}-NS`, location: 'netsuite', connection: `${run}-ns`,
      put: { kind: 'netsuite', base_url: ns.url, credentials_secret: 'SIM_NETSUITE', settings: { customer_id: '42' } },
      mappings: (sku) => ({ items: { 300: sku }, warehouses: { 1: 'netsuite' } }),
      has: (ref) => ns.ordersByReference(ref).length > 0,
    },
    webhook: {
      sku: `${run}-HOOK`, location: 'hook', connection: `${run}-hook`,
      // The webhook ERP is not polled: its stock is put before it masters the location.
      stock: 1_000_000,
      put: { kind: 'webhook', base_url: hook.endpoint, credentials_secret: 'SIM_ERP_HOOK' },
      mappings: (sku) => ({ items: { W0: sku }, warehouses: { WH1: 'hook' } }),
      has: (ref) => hook.ofReference(ref).some((d) => d.type === 'order.created'),
    },
  };
  for (const e of Object.values(erps)) {
    if (e.stock) await ok(await A.admin('PUT', `/v1/skus/${enc(e.sku)}/stock`, { on_hand: e.stock, location: e.location }));
    await ok(await A.admin('PUT', `/v1/erp/connections/${enc(e.connection)}`, e.put));
    await ok(await A.admin('PUT', `/v1/erp/connections/${enc(e.connection)}/mappings`, e.mappings(e.sku)));
    if (e.put.kind !== 'webhook') await ok(await A.admin('POST', `/v1/erp/polls/run?connection=${enc(e.connection)}`));
  }
  const checkout = async (e) => {
    const r = await write('storefront', 'POST', '/v1/reservations', { lines: [{ sku: e.sku, qty: 1, location: e.location }] }, 201);
    const order = unique('o');
    const t0 = performance.now();
    await write('storefront', 'POST', `/v1/reservations/${enc(r.id)}/commit`, { order_id: order });
    return { ref: `direct/${order}|${e.sku}`, t0 };
  };
  const results = {};
  for (const [name, e] of Object.entries(erps)) {
    // One warm-up order (the first call logs in and opens connections), not timed.
    const w = await checkout(e);
    if (!(await until(() => e.has(w.ref), { timeoutMs: 30_000, everyMs: 5 }))) throw new Error(`${name}: warm-up order never arrived`);
    const samples = [];
    for (let i = 0; i < ORDERS; i++) {
      const { ref, t0 } = await checkout(e);
      if (!(await until(() => e.has(ref), { timeoutMs: 30_000, everyMs: 2 }))) throw new Error(`${name}: order ${i} never arrived`);
      samples.push(Math.round(performance.now() - t0));
    }
    results[name] = { n: samples.length, p50_ms: percentile(samples, 50), p90_ms: percentile(samples, 90), max_ms: Math.max(...samples) };
    console.log(`${name.padEnd(8)} n=${samples.length} p50=${results[name].p50_ms}ms p90=${results[name].p90_ms}ms max=${results[name].max_ms}ms`);
  }

  // Snapshots: L fresh SKUs at one location, as the admin route takes them.
  const skus = Array.from({ length: SNAPSHOT_LINES }, (_, i) => `${run}-SNAP-${i}`);
  const snapshot = (id, sequence, qty) => ({
    snapshot: id, basis: 'available', as_of: { sequence },
    lines: skus.map((sku, i) => ({ sku, location: 'snap', quantity: qty(i) })),
  });
  const snapshots = {};
  for (const [name, body] of [
    ['first (objects created)', snapshot(`${run}-s1`, 1, (i) => 10 + (i % 7))],
    ['newer, every quantity changed', snapshot(`${run}-s2`, 2, (i) => 20 + (i % 5))],
    ['the same again (stale)', snapshot(`${run}-s2`, 2, (i) => 20 + (i % 5))],
  ]) {
    const t0 = performance.now();
    const answer = await write('admin', 'POST', '/v1/erp/snapshots', body);
    const ms = performance.now() - t0;
    const effects = {};
    for (const item of answer.items) effects[item.effect ?? 'refused'] = (effects[item.effect ?? 'refused'] ?? 0) + 1;
    snapshots[name] = { lines: skus.length, ms: Math.round(ms), skus_per_s: Math.round((skus.length * 1000) / ms), effects };
    console.log(`snapshot ${name}: ${skus.length} SKUs in ${Math.round(ms)} ms = ${snapshots[name].skus_per_s} SKUs/s ${JSON.stringify(effects)}`);
  }
  console.log(`requests sent again after the dev proxy's 503: ${resent}`);
  console.log(JSON.stringify({ measured_at: new Date().toISOString(), cpus: os.cpus().length, orders: ORDERS, results, snapshots, resent }));
} finally {
  await rt.stop();
  await Promise.all([sap.close(), odoo.close(), ns.close(), hook.close()]);
}
