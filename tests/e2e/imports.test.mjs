// Bulk stock files against the real runtime: import in each format (set, adjust, dry run,
// re-import with the same Idempotency-Key), read back, export and compare.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { atLocation } from './lib/reads.mjs';
import { api, start, unique } from './lib/worker.mjs';

let rt;
let A;

before(async () => {
  rt = await start();
  A = api(rt.url);
});
after(async () => {
  await rt?.discard();
});

function upload(query, csv, headers = {}) {
  return A.raw('POST', `/v1/imports?${query}`, {
    token: 'dev-admin',
    body: csv,
    headers: { 'content-type': 'text/csv', ...headers },
  });
}

async function onHand(sku, location = 'main') {
  return (await atLocation(A, sku, location))?.on_hand;
}

function rowsByStatus(report) {
  const out = {};
  for (const r of report.rows) out[r.status] = (out[r.status] ?? 0) + 1;
  return out;
}

describe('plain CSV', () => {
  test('set, dry run, adjust, re-import with the same key', async () => {
    const [a, b] = [unique('IMP-A'), unique('IMP-B')];
    const csv = `sku,quantity,location\n${a},10,main\n${b},4,east\n`;

    const dry = await upload('format=csv&mode=set&dry_run=true', csv);
    assert.equal(dry.status, 200, dry.text);
    assert.equal(dry.body.dry_run, true);
    assert.deepEqual(rowsByStatus(dry.body), { applied: 2 });
    assert.equal(await onHand(a), undefined, 'a dry run changes nothing');

    const set = await upload('format=csv&mode=set', csv, { 'idempotency-key': `imp-${a}` });
    assert.equal(set.status, 200, set.text);
    assert.equal(await onHand(a), 10);
    assert.equal(await onHand(b, 'east'), 4);
    const journal = await A.admin('GET', `/v1/skus/${a}/journal`);
    const entry = journal.body.entries.at(-1);
    assert.equal(entry.op, 'import');
    assert.equal(entry.cause.reason, 'cycle_count');
    assert.equal(entry.cause.import_id, set.body.import_id);

    // The same file, the same key: nothing applied twice.
    const again = await upload('format=csv&mode=set', csv, { 'idempotency-key': `imp-${a}` });
    assert.equal(again.status, 200, again.text);
    assert.equal(await onHand(a), 10);

    const adjust = await upload('format=csv&mode=adjust', `sku,quantity\n${a},-3\n`, { 'idempotency-key': `adj-${a}` });
    assert.equal(adjust.status, 200, adjust.text);
    assert.equal(await onHand(a), 7);
    const adjustAgain = await upload('format=csv&mode=adjust', `sku,quantity\n${a},-3\n`, { 'idempotency-key': `adj-${a}` });
    assert.equal(adjustAgain.status, 200);
    assert.equal(await onHand(a), 7, 're-posting an adjustment with its key applies it once');

    const unchanged = await upload('format=csv&mode=set&dry_run=true', `sku,quantity\n${a},7\n`);
    assert.deepEqual(rowsByStatus(unchanged.body), { unchanged: 1 });
  });

  test('a keyed re-import answers its first report byte for byte, flagged, whatever changed since', async () => {
    const a = unique('IMP-R');
    const csv = `sku,quantity\n${a},5\n`;
    const key = `imp-replay-${a}`;
    const first = await upload('format=csv&mode=set', csv, { 'idempotency-key': key });
    assert.equal(first.status, 200, first.text);
    assert.equal(first.headers.get('idempotent-replayed'), null, 'a first answer is not flagged');
    assert.equal(await onHand(a), 5);

    // The stock moves on; the repeat neither recomputes the report nor applies the file again.
    assert.equal((await A.admin('PUT', `/v1/skus/${a}/stock`, { on_hand: 9 })).status, 200);
    const again = await upload('format=csv&mode=set', csv, { 'idempotency-key': key });
    assert.equal(again.status, 200, again.text);
    assert.equal(again.text, first.text, 'the first report, byte for byte');
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    assert.equal(await onHand(a), 9, 'nothing applied twice');

    const other = await upload('format=csv&mode=set', `sku,quantity\n${a},6\n`, { 'idempotency-key': key });
    assert.equal(other.status, 422, other.text);
    assert.equal(other.body.type, '/problems/idempotency-key-reused');
    assert.equal(await onHand(a), 9);
  });

  test('row errors name line and column; malformed files are refused whole', async () => {
    const s = unique('IMP-E');
    const r = await upload('format=csv&mode=set', `sku,quantity\n${s},5\nbad sku,1\n${s}-2,many\n`);
    assert.equal(r.status, 200, r.text);
    const errors = r.body.rows.filter((x) => x.status === 'error');
    assert.deepEqual(errors.map((e) => e.line), [3, 4]);
    assert.ok(errors.every((e) => e.message), JSON.stringify(errors));
    assert.equal(await onHand(s), 5, 'good rows still apply');

    const unknown = await upload('mode=set', 'foo,bar\n1,2\n');
    assert.equal(unknown.status, 422);
    assert.equal(unknown.body.type, '/problems/validation-failed');
    assert.equal(unknown.body.errors[0].field, 'header');

    const badMode = await upload('format=csv&mode=replace', 'sku,quantity\nA,1\n');
    assert.equal(badMode.status, 422);
    assert.equal(badMode.body.errors[0].field, 'mode');
  });
});

describe('platform exports', () => {
  test('Shopify product CSV: variants with SKUs, image rows skipped, policy → backorders', async () => {
    const [m, l] = [unique('TEE-M'), unique('TEE-L')];
    const csv = [
      'Handle,Title,Option1 Name,Option1 Value,Variant SKU,Variant Inventory Tracker,Variant Inventory Qty,Variant Inventory Policy,Image Src',
      `tee,Tee,Size,M,${m},shopify,12,deny,https://cdn.example/a.jpg`,
      `tee,,Size,L,${l},shopify,5,continue,`,
      'tee,,,,,,,,https://cdn.example/b.jpg',
    ].join('\n');
    const r = await upload('mode=set', csv);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.format, 'shopify');
    assert.deepEqual(rowsByStatus(r.body), { applied: 2, skipped: 1 });
    const got = await A.admin('GET', `/v1/skus/${l}`);
    assert.equal(got.body.available, 5);
    assert.ok(got.body.backorder_limit > 0, 'continue selling → a backorder allowance');
  });

  test('WooCommerce product CSV: empty Stock means not tracked, variations by Parent', async () => {
    const [parent, v1, simple] = [unique('WC-P'), unique('WC-V'), unique('WC-S')];
    const csv = [
      'ID,Type,SKU,Name,Published,"In stock?",Stock,"Backorders allowed?",Parent',
      `11,variable,${parent},Hoodie,1,1,,0,`,
      `12,variation,${v1},Hoodie - M,1,1,9,0,${parent}`,
      `13,simple,${simple},Sticker,1,1,,0,`,
    ].join('\n');
    const r = await upload('format=woocommerce&mode=set', csv);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(rowsByStatus(r.body), { applied: 1, skipped: 2 });
    assert.equal(await onHand(v1), 9);
    assert.equal(await onHand(simple), undefined, 'an unmanaged product is not set to zero');
  });

  test('Shopify inventory CSV: quantities per location', async () => {
    const s = unique('INV');
    const csv = [
      'Handle,Title,Option1 Name,Option1 Value,Option2 Name,Option2 Value,Option3 Name,Option3 Value,SKU,HS Code,COO,Location,Incoming,Unavailable,Committed,Available,On hand',
      `mug,Mug,,,,,,,${s},,,Main Warehouse,0,0,0,6,6`,
      `mug,Mug,,,,,,,${s},,,Pop-up Store,0,0,0,2,2`,
    ].join('\n');
    const r = await upload('format=shopify-inventory&mode=set', csv);
    assert.equal(r.status, 200, r.text);
    assert.equal(await onHand(s, 'main-warehouse'), 6);
    assert.equal(await onHand(s, 'pop-up-store'), 2);
  });
});

describe('exports', () => {
  test('every format writes back what was imported', async () => {
    const s = unique('EXP');
    const imp = await upload('format=csv&mode=set', `sku,quantity\n${s},21\n`);
    assert.equal(imp.status, 200, imp.text);
    // A hold lowers available, not on_hand.
    const hold = await A.storefront('POST', '/v1/reservations', { lines: [{ sku: s, qty: 1 }] });
    assert.equal(hold.status, 201, hold.text);

    const plain = await A.admin('GET', '/v1/exports?format=csv');
    assert.equal(plain.status, 200);
    assert.match(plain.headers.get('content-type'), /text\/csv/);
    assert.match(plain.headers.get('content-disposition'), /attachment; filename=/);
    const line = plain.text.split(/\r?\n/).find((x) => x.startsWith(`${s},`));
    assert.ok(line, plain.text.slice(0, 500));
    assert.match(line, /^[^,]+,21\b/);

    const woo = await A.admin('GET', '/v1/exports?format=woocommerce');
    assert.equal(woo.status, 200);
    assert.ok(woo.text.split(/\r?\n/).some((x) => x.includes(s) && x.includes(',20')), 'WooCommerce Stock is what can be sold');

    for (const format of ['shopify', 'shopify-inventory']) {
      const r = await A.admin('GET', `/v1/exports?format=${format}`);
      assert.equal(r.status, 200, format);
      assert.ok(r.text.includes(s), `${format} lists the SKU`);
    }

    // Round trip: the plain export re-imports as "unchanged".
    const back = await upload('format=csv&mode=set&dry_run=true', plain.text);
    assert.equal(back.status, 200, back.text);
    const mine = back.body.rows.find((x) => x.sku === s);
    assert.equal(mine.status, 'unchanged');

    const bad = await A.admin('GET', '/v1/exports?format=xlsx');
    assert.equal(bad.status, 422);
    assert.equal(bad.body.errors[0].field, 'format');
  });
});
