// Orders to the ERP: commit → ERP document created, per ERP simulator (docs/erp.md "Orders to the
// ERP"; the figures are in BENCHMARKS.md "Orders to the ERP").
//
//   node bench/erp_orders.mjs [--orders N]
//
// Starts its own runtime (fresh state) and the SAP Business One and Odoo loopback simulators
// (tests/sim/), connects each as the master of a location, then places N storefront checkouts
// (default 40) at each location, one at a time, and times from sending the commit (an upper bound
// of its commit) until the simulator holds the order's document (SAP B1: created; Odoo: created and
// confirmed), polled every 2 ms. No faults are injected. Prints p50/p90/max per ERP.
import os from 'node:os';

import { api, percentile, start, unique, until } from '../tests/e2e/lib/worker.mjs';
import { startSapB1Sim } from '../tests/sim/sap_b1.mjs';
import { startOdooSim } from '../tests/sim/odoo.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const ORDERS = Number(arg('--orders', 40));
const enc = encodeURIComponent;

const [sap, odoo] = await Promise.all([
  startSapB1Sim({ items: [{ ItemCode: 'B0', warehouses: [{ WarehouseCode: '01', InStock: 1_000_000 }] }] }),
  startOdooSim({ quants: [{ product: 21, location: 8, quantity: 1_000_000 }] }),
]);
const rt = await start({
  vars: { SIM_SAP_B1: JSON.stringify({ CompanyDB: 'SBODEMOUS', UserName: 'manager', Password: 'secret' }), SIM_ODOO_KEY: 'odoo-sim-key' },
});
const A = api(rt.url);
async function ok(r, status = 200) {
  if (r.status !== status) throw new Error(`${r.status} ${r.text}`);
  return r.body;
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
  };
  for (const e of Object.values(erps)) {
    await ok(await A.admin('PUT', `/v1/erp/connections/${enc(e.connection)}`, e.put));
    await ok(await A.admin('PUT', `/v1/erp/connections/${enc(e.connection)}/mappings`, e.mappings(e.sku)));
    await ok(await A.admin('POST', `/v1/erp/polls/run?connection=${enc(e.connection)}`));
  }
  const checkout = async (e) => {
    const r = await ok(await A.storefront('POST', '/v1/reservations', { lines: [{ sku: e.sku, qty: 1, location: e.location }] }), 201);
    const order = unique('o');
    const t0 = performance.now();
    await ok(await A.storefront('POST', `/v1/reservations/${enc(r.id)}/commit`, { order_id: order }));
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
  console.log(JSON.stringify({ measured_at: new Date().toISOString(), cpus: os.cpus().length, orders: ORDERS, results }));
} finally {
  await rt.stop();
  await Promise.all([sap.close(), odoo.close()]);
}
