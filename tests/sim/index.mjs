// Convenience entry point: every simulator, and `startAll()` to run them side by side.
//
//   import { startAll } from '../sim/index.mjs';
//   const sims = await startAll();            // {shopify, woocommerce, amazon, ebay, wholesale}
//   ...point StockEdge's channel settings.base_url at sims.shopify.url etc...
//   await sims.close();
//
// Started directly (`node tests/sim/index.mjs`), it starts all five and prints their URLs,
// for poking at them by hand with curl; Ctrl-C stops them.

import { startShopifySim } from './shopify.mjs';
import { startWooCommerceSim } from './woocommerce.mjs';
import { startAmazonSim } from './amazon.mjs';
import { startEbaySim } from './ebay.mjs';
import { startWholesaleSim } from './wholesale.mjs';

export * as lib from './lib.mjs';
export * as shopify from './shopify.mjs';
export * as woocommerce from './woocommerce.mjs';
export * as amazon from './amazon.mjs';
export * as ebay from './ebay.mjs';
export * as wholesale from './wholesale.mjs';
export * as sap_b1 from './sap_b1.mjs';
export { startSapB1Sim } from './sap_b1.mjs';
export * as odoo from './odoo.mjs';
export { startOdooSim } from './odoo.mjs';
export * as netsuite from './netsuite.mjs';
export { startNetSuiteSim } from './netsuite.mjs';
export * as erp_webhook from './erp_webhook.mjs';
export { startErpWebhookSim } from './erp_webhook.mjs';
export { startShopifySim, startWooCommerceSim, startAmazonSim, startEbaySim, startWholesaleSim };

/** Starts all five simulators (options per simulator, by name). */
export async function startAll(opts = {}) {
  const sims = {
    shopify: await startShopifySim(opts.shopify ?? {}),
    woocommerce: await startWooCommerceSim(opts.woocommerce ?? {}),
    amazon: await startAmazonSim(opts.amazon ?? {}),
    ebay: await startEbaySim(opts.ebay ?? {}),
    wholesale: await startWholesaleSim(opts.wholesale ?? {}),
  };
  return Object.assign(sims, {
    close: () => Promise.all(['shopify', 'woocommerce', 'amazon', 'ebay', 'wholesale'].map((k) => sims[k].close())),
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const sims = await startAll();
  for (const k of ['shopify', 'woocommerce', 'amazon', 'ebay', 'wholesale']) console.log(`${k.padEnd(12)} ${sims[k].url}`);
  process.on('SIGINT', async () => { await sims.close(); process.exit(0); });
}
