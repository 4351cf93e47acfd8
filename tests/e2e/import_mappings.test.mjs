// Saved column mappings against the real runtime: store a mapping, import an ERP's
// `;`-separated file with a byte-order mark and Windows line endings through it (dry run, apply,
// and as a background job), and the problems: an unknown location name (line and column), a
// mapped column the file lacks (422 naming it), an unknown mapping (404).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { atLocation } from './lib/reads.mjs';
import { unique, useRuntime } from './lib/worker.mjs';

const A = useRuntime();

function upload(query, csv) {
  return A.raw('POST', `/v1/imports?${query}`, {
    token: 'dev-admin',
    body: csv,
    headers: { 'content-type': 'text/csv' },
  });
}

async function onHand(sku, location = 'main') {
  return (await atLocation(A, sku, location))?.on_hand;
}

const ERP_MAPPING = {
  columns: { sku: 'Item No.', quantity: 'Qty On Hand', location: 'Warehouse' },
  locations: { 'Main WH': 'main', Overflow: 'overflow' },
  mode: 'set',
};

/** An ERP export: BOM, `;` between columns, CRLF, a quoted cell holding `;`. */
function erpFile(rows) {
  const lines = ['Item No.;Description;Qty On Hand;Warehouse', ...rows.map((r) => r.join(';'))];
  return `\uFEFF${lines.join('\r\n')}\r\n`;
}

describe('saved column mappings', () => {
  test('PUT, GET, list, DELETE; bad bodies name their fields', async () => {
    const name = unique('map');
    const put = await A.admin('PUT', `/v1/import-mappings/${name}`, ERP_MAPPING);
    assert.equal(put.status, 200, put.text);
    assert.equal(put.body.name, name);
    assert.deepEqual(put.body.columns, ERP_MAPPING.columns);
    assert.equal(put.body.delimiter, null, 'no delimiter named: read from the header line');
    const got = await A.admin('GET', `/v1/import-mappings/${name}`);
    assert.equal(got.status, 200);
    assert.deepEqual(got.body.locations, ERP_MAPPING.locations);
    const list = await A.admin('GET', '/v1/import-mappings');
    assert.ok(list.body.items.some((m) => m.name === name));

    const bad = await A.admin('PUT', `/v1/import-mappings/${name}`, { columns: { sku: 'x' }, delimiter: ':' });
    assert.equal(bad.status, 422);
    assert.deepEqual(bad.body.errors.map((e) => e.field).sort(), ['columns.quantity', 'delimiter']);

    const del = await A.admin('DELETE', `/v1/import-mappings/${name}`);
    assert.equal(del.status, 200, del.text);
    assert.equal((await A.admin('GET', `/v1/import-mappings/${name}`)).status, 404);
    assert.equal((await A.admin('DELETE', `/v1/import-mappings/${name}`)).status, 404);
  });

  test('an ERP file with BOM, ; and CRLF imports through its mapping without editing', async () => {
    const name = unique('erp');
    assert.equal((await A.admin('PUT', `/v1/import-mappings/${name}`, ERP_MAPPING)).status, 200);
    const [a, b, c] = [unique('ERP-A'), unique('ERP-B'), unique('ERP-C')];
    const file = erpFile([
      [a, '"Bolt; M8 zinc"', '120', 'Main WH'],
      [b, '"Nut ""M8"""', '4', 'Overflow'],
      [c, 'Washer', '7', 'Atlantis'],
    ]);

    const dry = await upload(`mapping=${name}&dry_run=true`, file);
    assert.equal(dry.status, 200, dry.text);
    assert.equal(await onHand(a), undefined, 'a dry run changes nothing');

    const r = await upload(`mapping=${name}`, file);
    assert.equal(r.status, 200, r.text);
    assert.equal(await onHand(a), 120);
    assert.equal(await onHand(b, 'overflow'), 4);
    assert.equal(await onHand(c), undefined);
    const unknown = r.body.rows.find((row) => row.status === 'error');
    assert.equal(unknown.line, 4);
    assert.equal(unknown.column, 'Warehouse');
    assert.match(unknown.message, /Atlantis/);

    // The mapping's mode is the default; the query's wins.
    const adj = await upload(`mapping=${name}&mode=adjust`, erpFile([[a, 'Bolt', '-20', 'Main WH']]));
    assert.equal(adj.status, 200, adj.text);
    assert.equal(await onHand(a), 100);
  });

  test('a mapped column the file lacks is 422 naming it; an unknown mapping is 404; mapping with format is 422', async () => {
    const name = unique('map');
    const mapping = { columns: { sku: 'Item No.', quantity: 'On Hand' } };
    assert.equal((await A.admin('PUT', `/v1/import-mappings/${name}`, mapping)).status, 200);
    const r = await upload(`mapping=${name}`, erpFile([['X-1', 'x', '1', 'Main WH']]));
    assert.equal(r.status, 422, r.text);
    assert.equal(r.body.errors[0].field, 'columns.quantity');
    assert.match(r.body.errors[0].message, /"On Hand"/);

    const missing = await upload(`mapping=${unique('none')}`, 'sku,quantity\nA,1\n');
    assert.equal(missing.status, 404, missing.text);
    const both = await upload(`mapping=${name}&format=csv`, 'sku,quantity\nA,1\n');
    assert.equal(both.status, 422, both.text);
    assert.equal(both.body.errors[0].field, 'mapping');
  });
});
