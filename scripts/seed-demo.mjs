// Seeds demo SKUs into a running StockEdge, once: a SKU that already exists is left alone.
const url = process.argv[2] ?? 'http://127.0.0.1:8787';
const admin = { authorization: 'Bearer dev-admin', 'content-type': 'application/json' };
const demo = [
  { sku: 'TEE-BLK-M', on_hand: 40 },
  { sku: 'TEE-BLK-L', on_hand: 25 },
  { sku: 'MUG-01', on_hand: 12 },
  { sku: 'POSTER-A2', on_hand: 3, backorder_limit: 5 },
  { sku: 'LAST-ONE', on_hand: 1 },
];
for (const { sku, ...body } of demo) {
  const got = await fetch(`${url}/v1/skus/${encodeURIComponent(sku)}`, { headers: admin });
  if (got.status === 200) {
    console.log(`demo ${sku}: already there`);
    continue;
  }
  const put = await fetch(`${url}/v1/skus/${encodeURIComponent(sku)}/stock`, {
    method: 'PUT', headers: { ...admin, 'idempotency-key': `demo-seed-${sku}` }, body: JSON.stringify(body),
  });
  const state = await put.json();
  if (put.status !== 200) throw new Error(`seeding ${sku}: ${put.status} ${JSON.stringify(state)}`);
  console.log(`demo ${sku}: on_hand ${state.on_hand}, available ${state.available}`);
}
