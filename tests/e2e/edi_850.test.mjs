// Wholesale purchase orders in, against the real runtime and the wholesale partner simulator
// (tests/sim/wholesale.mjs): an X12 850 becomes a sale once (sent twice → once), answered with an
// 855 whose ACK codes match availability (IA covered, IB backordered, IR unmatched), and the
// existing 846 push follows the sale; a malformed one is answered with a 997 and changes nothing;
// wrong credentials are 401, another partner's ISA06 is 403.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { unique, until, useRuntime } from './lib/worker.mjs';
import { build850, sendPurchaseOrder, startWholesaleSim } from '../sim/wholesale.mjs';

describe('wholesale purchase orders (X12 850)', () => {
  const A = useRuntime();
  let sim;
  const run = unique('po');
  const CH = `${run}-edi`;
  const ACME = { user: 'acme-edi', password: 'partner-pass' }; // .dev.vars SIM_EDI_ACME
  const BOLT = { token: 'bolt-edi-token-7f3a' }; // .dev.vars SIM_EDI_BOLT_TOKEN
  const [COVERED, SHORT] = [`${run}-BOLT`, `${run}-NUT`];
  const enc = encodeURIComponent;

  async function ok(r, status = 200) {
    assert.equal(r.status, status, r.text);
    return r.body;
  }

  async function state(sku) {
    return ok(await A.admin('GET', `/v1/skus/${enc(sku)}`));
  }

  before(async () => {
    sim = await startWholesaleSim();
    await ok(await A.admin('PUT', `/v1/channels/${CH}`, {
      kind: 'wholesale',
      account: 'acme.example',
      settings: {
        base_url: sim.url,
        partners: {
          ACME: { receiver_id: 'ACMEBUY', inbound_secret: 'SIM_EDI_ACME' },
          BOLT: { receiver_id: 'BOLTCO', inbound_secret: 'SIM_EDI_BOLT_TOKEN' },
        },
      },
    }), 201);
    for (const [sku, onHand, code] of [[COVERED, 10, 'AC-BOLT'], [SHORT, 1, 'AC-NUT']]) {
      await ok(await A.admin('PUT', `/v1/skus/${enc(sku)}/stock`, { on_hand: onHand }));
      await ok(await A.admin('PUT', `/v1/channels/${CH}/listings/${enc(sku)}`, { external: { partner_id: 'ACME', item_code: code } }), 201);
    }
  });
  after(async () => {
    await sim?.close();
  });

  function order(poNumber, lines) {
    return { poNumber, lines };
  }

  test('an 850 becomes a sale once, answered with an 855 whose ACKs match availability; the 846 follows', { timeout: 120_000 }, async () => {
    const po = `${run}-1`.slice(-22);
    const text = build850({
      senderId: 'ACMEBUY',
      controlNumber: 101,
      orders: [order(po, [
        { qty: 4, price: '12.50', ids: { IN: 'AC-BOLT' } },
        { qty: 3, price: '2.10', ids: { IN: 'AC-NUT', VN: SHORT } },
        { qty: 1, ids: { IN: 'AC-UNKNOWN' } },
      ])],
    });
    const r = await sendPurchaseOrder(A.url, CH, text, ACME);
    assert.equal(r.status, 200, r.text);
    assert.match(r.contentType, /^application\/edi-x12/);
    assert.equal(r.ack.type, '855', r.text);
    assert.equal(r.ack.isa.receiverId, 'ACMEBUY');
    const [ack] = r.ack.orders;
    assert.equal(ack.poNumber, po);
    assert.equal(ack.bak02, 'AC');
    assert.deepEqual(ack.lines.map((l) => l.acks), [
      [{ code: 'IA', qty: 4 }],
      [{ code: 'IA', qty: 1 }, { code: 'IB', qty: 2 }],
      [{ code: 'IR', qty: 1 }],
    ]);
    assert.equal((await state(COVERED)).available, 6);
    const short = await state(SHORT);
    assert.equal(short.available, 0);
    assert.equal(short.oversold, 2, 'the uncovered units are counted as oversold, not hidden');

    // The unmatched line is listed like an unmatched inbound line.
    const unmatched = (await ok(await A.admin('GET', `/v1/inbound/unmatched?channel=${enc(CH)}&limit=1000`))).items;
    assert.ok(unmatched.some((u) => u.order_id === po && u.line_id === '3' && u.qty === 1), JSON.stringify(unmatched));

    // Sent again (a partner's retry): acknowledged the same, applied once.
    const again = await sendPurchaseOrder(A.url, CH, build850({ senderId: 'ACMEBUY', controlNumber: 102, orders: [order(po, [
      { qty: 4, price: '12.50', ids: { IN: 'AC-BOLT' } },
      { qty: 3, price: '2.10', ids: { IN: 'AC-NUT', VN: SHORT } },
      { qty: 1, ids: { IN: 'AC-UNKNOWN' } },
    ])] }), ACME);
    assert.equal(again.status, 200, again.text);
    assert.deepEqual(again.ack.orders[0].lines.map((l) => l.acks), ack.lines.map((l) => l.acks));
    assert.notEqual(again.ack.isa.controlNumber, r.ack.isa.controlNumber, 'a new interchange, a new control number');
    assert.equal((await state(COVERED)).available, 6);
    assert.equal((await state(SHORT)).oversold, 2);

    // The sale changed stock: the partner's 846 follows by itself.
    assert.ok(await until(() => sim.quantity('AC-BOLT') === 6, { timeoutMs: 30_000, everyMs: 100 }), `846: ${sim.quantity('AC-BOLT')}`);
  });

  test('a malformed 850 is answered with a 997 rejecting it, and nothing is applied', async () => {
    const before = (await state(COVERED)).available;
    const text = build850({ senderId: 'ACMEBUY', controlNumber: 103, breakSegmentCount: true, orders: [order(`${run}-2`.slice(-22), [{ qty: 2, ids: { IN: 'AC-BOLT' } }])] });
    const r = await sendPurchaseOrder(A.url, CH, text, ACME);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.ack.type, '997', r.text);
    assert.deepEqual(r.ack.ak.ak1, ['PO', '103']);
    assert.deepEqual(r.ack.ak.ak5, ['R', '4']);
    assert.equal(r.ack.ak.ak9[0], 'R');
    assert.equal((await state(COVERED)).available, before, 'stock unchanged');
  });

  test('partners authenticate: a bearer partner is accepted; wrong credentials 401; another partner\'s ISA06 403', async () => {
    const po = `${run}-3`.slice(-22);
    const text = build850({ senderId: 'BOLTCO', controlNumber: 7, orders: [order(po, [{ qty: 1, ids: { VN: COVERED } }])] });
    const wrong = await sendPurchaseOrder(A.url, CH, text, { user: 'acme-edi', password: 'nope' });
    assert.equal(wrong.status, 401, wrong.text);
    assert.match(wrong.text, /unauthorized/);
    const none = await sendPurchaseOrder(A.url, CH, text, {});
    assert.equal(none.status, 401);
    const spoofed = await sendPurchaseOrder(A.url, CH, text, ACME);
    assert.equal(spoofed.status, 403, spoofed.text);
    // BOLT has no listing: its line by our SKU maps to no listing of BOLT's (ACME's is not its) → IR.
    const r = await sendPurchaseOrder(A.url, CH, text, BOLT);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.ack.type, '855');
    assert.deepEqual(r.ack.orders[0].lines[0].acks, [{ code: 'IR', qty: 1 }]);
    const unknown = await sendPurchaseOrder(A.url, `${run}-nothing`, text, BOLT);
    assert.equal(unknown.status, 404, unknown.text);
  });
});
