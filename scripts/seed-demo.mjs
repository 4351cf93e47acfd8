// Seeds demo SKUs into a running StockEdge, once: a SKU that already exists is left alone.
const url = process.argv[2] ?? 'http://127.0.0.1:8787';
const admin = { authorization: 'Bearer dev-admin', 'content-type': 'application/json' };
const demo = [
  { sku: 'TEE-BLK-M', title: 'T-shirt, black, M', on_hand: 40 },
  { sku: 'TEE-BLK-L', title: 'T-shirt, black, L', on_hand: 25 },
  { sku: 'MUG-01', title: 'Mug', on_hand: 12 },
  { sku: 'POSTER-A2', title: 'Poster A2 (backorderable)', on_hand: 3, backorder_limit: 5 },
  { sku: 'LAST-ONE', title: 'The last one', on_hand: 1 },
];
const created = [];
for (const { sku, title, ...body } of demo) {
  const got = await fetch(`${url}/v1/skus/${encodeURIComponent(sku)}`, { headers: admin });
  if (got.status === 200) {
    console.log(`demo ${sku}: already there`);
    continue;
  }
  created.push(sku);
  // The catalogue entry first (exports list catalogue products), then the stock.
  const product = await fetch(`${url}/v1/products/${encodeURIComponent(sku)}`, {
    method: 'PUT', headers: admin, body: JSON.stringify({ title }),
  });
  if (product.status >= 300) throw new Error(`catalogue ${sku}: ${product.status} ${await product.text()}`);
  const put = await fetch(`${url}/v1/skus/${encodeURIComponent(sku)}/stock`, {
    method: 'PUT', headers: { ...admin, 'idempotency-key': `demo-seed-${sku}` }, body: JSON.stringify(body),
  });
  const state = await put.json();
  if (put.status !== 200) throw new Error(`seeding ${sku}: ${put.status} ${JSON.stringify(state)}`);
  console.log(`demo ${sku}: on_hand ${state.on_hand}, available ${state.available}`);
}

// A little history for the console (http://127.0.0.1:8787/): stock received, marketplace sales
// and one sale that could not be covered (an oversold alert to acknowledge). Only for SKUs
// created by this run, so a restart adds nothing.
const history = [
  ['TEE-BLK-M', 'POST', '/v1/skus/TEE-BLK-M/adjustments', { delta: 10, reason: 'received' }],
  ['TEE-BLK-M', 'POST', '/v1/sales', { channel: 'amazon', order_id: 'demo-113-0000001', lines: [{ sku: 'TEE-BLK-M', qty: 3 }] }],
  ['MUG-01', 'POST', '/v1/skus/MUG-01/adjustments', { delta: -1, reason: 'damaged' }],
  ['MUG-01', 'POST', '/v1/sales', { channel: 'ebay', order_id: 'demo-27-0000001', lines: [{ sku: 'MUG-01', qty: 2 }] }],
  ['LAST-ONE', 'POST', '/v1/sales', { channel: 'ebay', order_id: 'demo-27-0000002', lines: [{ sku: 'LAST-ONE', qty: 2 }] }],
];
for (const [sku, method, path, body] of history) {
  if (!created.includes(sku)) continue;
  const r = await fetch(`${url}${path}`, {
    method, headers: { ...admin, 'idempotency-key': `demo-seed-${path}-${JSON.stringify(body)}`.slice(0, 255) }, body: JSON.stringify(body),
  });
  if (r.status !== 200) throw new Error(`demo history ${method} ${path}: ${r.status} ${await r.text()}`);
}
if (created.length) console.log('demo history: receipts, sales and one oversold sale (an alert) recorded');
