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
for (const { sku, title, ...body } of demo) {
  const got = await fetch(`${url}/v1/skus/${encodeURIComponent(sku)}`, { headers: admin });
  if (got.status === 200) {
    console.log(`demo ${sku}: already there`);
    continue;
  }
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
