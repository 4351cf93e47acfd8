// Wholesale (EDI) partner simulator: receives ASC X12 846 Inventory Inquiry/Advice documents.
//
// Built from the X12 envelope and 846 structure as published in partner implementation guides
// (stored copies: Stedi guides for X12 846 release 4010/4030, e.g.
// https://www.stedi.com/app/guides/view/turn-5/inventory-inquiryadvice/01GQ85ENZ864HX2WKHYYM4RQAQ,
// and the 4040 846 table https://ws2.segment.co.il/Public/EDI-Segment/x12-4040/846/846.htm):
//  - ISA is fixed-width: 16 elements of widths 2,10,2,10,2,15,2,15,6,4,1,5,9,1,1,1 — 106
//    characters including the segment terminator; the element separator is the 4th character,
//    ISA16 is the component separator, the 106th character is the segment terminator.
//  - Envelope pairs: ISA/IEA (IEA01 = number of functional groups, IEA02 = ISA13), GS/GE
//    (GE01 = number of transaction sets, GE02 = GS06), ST/SE (SE01 = number of segments from ST
//    to SE inclusive, SE02 = ST02). GS01 for an 846 is "IB".
//  - 846 heading: ST*846, BIA (mandatory, second segment), optional CUR/DTM/REF/PER/N1…; detail
//    LIN loop (LIN, PID, …, QTY loop); summary CTT (CTT01 = number of LIN segments) optional.
//  - QTY01 code 33 = "Quantity Available for Sale (stock quantity)"; QTY02 is the quantity.
// Where the standard leaves room (duplicates, non-integer quantities, which qualifier is the
// item code) the choice is written next to the code and listed in README.md.

import {
  startSim, createClock, WriteLog, FaultInjector, json, basicAuth, parseVersion, VERSION_HEADER,
  router, safeEqual,
} from './lib.mjs';

const ISA_WIDTHS = [2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1];

class X12Error extends Error {
  constructor(reason, segment = null, index = null) { super(reason); this.segment = segment; this.index = index; }
}

/**
 * Parses and validates an X12 interchange carrying 846 transaction sets.
 * Returns {isa, groups, items: [{code, qualifier, quantity, transactionSet}]} or throws X12Error.
 */
export function parse846(text, { requiredQtyQualifier = '33', keyQualifiers = null } = {}) {
  let src = String(text);
  if (src.charCodeAt(0) === 0xfeff) src = src.slice(1);
  if (!src.startsWith('ISA')) throw new X12Error('document must start with an ISA segment', 'ISA', 0);
  if (src.length < 106) throw new X12Error('ISA segment must be exactly 106 characters', 'ISA', 0);
  const el = src[3];
  const comp = src[104];
  const term = src[105];
  const isaParts = src.slice(0, 105).split(el);
  if (isaParts.length !== 17 || isaParts.slice(1).some((p, i) => p.length !== ISA_WIDTHS[i])) {
    throw new X12Error('ISA segment must be exactly 106 characters: 16 fixed-width elements followed by the segment terminator', 'ISA', 0);
  }
  if (/[A-Za-z0-9]/.test(term) || term === el || term === comp) throw new X12Error('invalid segment terminator in ISA position 106', 'ISA', 0);
  if (/[A-Za-z0-9 ]/.test(el)) throw new X12Error('invalid element separator', 'ISA', 0);
  const isa = {
    authQualifier: isaParts[1], securityQualifier: isaParts[3],
    senderQualifier: isaParts[5], senderId: isaParts[6].trim(),
    receiverQualifier: isaParts[7], receiverId: isaParts[8].trim(),
    date: isaParts[9], time: isaParts[10], version: isaParts[12], controlNumber: isaParts[13],
    ackRequested: isaParts[14], usage: isaParts[15], componentSeparator: comp,
  };
  if (!/^\d{6}$/.test(isa.date) || !/^\d{4}$/.test(isa.time)) throw new X12Error('ISA09/ISA10 must be YYMMDD/HHMM', 'ISA', 0);
  if (!/^\d{9}$/.test(isa.controlNumber)) throw new X12Error('ISA13 interchange control number must be 9 digits', 'ISA', 0);
  if (!['0', '1'].includes(isa.ackRequested)) throw new X12Error('ISA14 must be 0 or 1', 'ISA', 0);
  if (!['P', 'T'].includes(isa.usage)) throw new X12Error('ISA15 must be P or T', 'ISA', 0);

  const segs = src.slice(106).split(term).map((s) => s.replace(/^[\r\n]+/, '')).filter((s, i, a) => !(i === a.length - 1 && s.trim() === ''));
  const segments = segs.map((s, i) => {
    const e = s.split(el);
    if (!/^[A-Z0-9]{2,3}$/.test(e[0])) throw new X12Error(`malformed segment "${s.slice(0, 20)}"`, e[0] || null, i + 1);
    return { id: e[0], e, index: i + 1 };
  });

  let p = 0;
  const peek = () => segments[p];
  const need = (id) => {
    const s = segments[p];
    if (!s) throw new X12Error(`missing ${id} segment (unexpected end of interchange)`, id, null);
    if (s.id !== id) throw new X12Error(`expected ${id} segment, found ${s.id}`, s.id, s.index);
    p++;
    return s;
  };

  const groups = [];
  const items = [];
  while (peek() && peek().id === 'GS') {
    const gs = need('GS');
    if (gs.e.length < 9) throw new X12Error('GS must have 8 elements', 'GS', gs.index);
    if (gs.e[1] !== 'IB') throw new X12Error(`GS01 must be IB (Inventory Inquiry/Advice), got ${gs.e[1]}`, 'GS', gs.index);
    if (!/^\d{1,9}$/.test(gs.e[6])) throw new X12Error('GS06 group control number must be 1-9 digits', 'GS', gs.index);
    const group = { controlNumber: gs.e[6], sender: gs.e[2], receiver: gs.e[3], version: gs.e[8], transactionSets: [] };
    while (peek() && peek().id === 'ST') {
      const st = need('ST');
      if (st.e[1] !== '846') throw new X12Error(`ST01 must be 846, got ${st.e[1]}`, 'ST', st.index);
      if (!/^[A-Za-z0-9]{4,9}$/.test(st.e[2] ?? '')) throw new X12Error('ST02 transaction set control number must be 4-9 characters', 'ST', st.index);
      const startP = p - 1;
      const bia = need('BIA');
      if (!/^\d{2}$/.test(bia.e[1] ?? '')) throw new X12Error('BIA01 transaction set purpose code is required', 'BIA', bia.index);
      if (!bia.e[2]) throw new X12Error('BIA02 report type code is required', 'BIA', bia.index);
      if (!bia.e[3]) throw new X12Error('BIA03 reference identification is required', 'BIA', bia.index);
      if (!/^\d{8}$/.test(bia.e[4] ?? '')) throw new X12Error('BIA04 date must be CCYYMMDD', 'BIA', bia.index);
      const ts = { controlNumber: st.e[2], reference: bia.e[3], date: bia.e[4], items: [] };
      let current = null;
      let linCount = 0;
      let ctt = null;
      const closeLoop = () => {
        if (current && requiredQtyQualifier && current.quantity === undefined) {
          throw new X12Error(`LIN loop for item ${current.code} has no QTY*${requiredQtyQualifier}`, 'LIN', current.index);
        }
        if (current) ts.items.push(current);
        current = null;
      };
      while (peek() && peek().id !== 'SE') {
        const s = segments[p++];
        if (['ST', 'GE', 'GS', 'IEA', 'ISA'].includes(s.id)) throw new X12Error(`missing SE before ${s.id}`, s.id, s.index);
        if (s.id === 'LIN') {
          closeLoop();
          linCount++;
          if (!s.e[2] || !s.e[3]) throw new X12Error('LIN02/LIN03 (product ID qualifier and ID) are required', 'LIN', s.index);
          const ids = {};
          for (let k = 2; k + 1 < s.e.length; k += 2) {
            if (!s.e[k]) continue;
            if (!s.e[k + 1]) throw new X12Error(`LIN${String(k + 1).padStart(2, '0')} is empty for qualifier ${s.e[k]}`, 'LIN', s.index);
            ids[s.e[k]] = s.e[k + 1];
          }
          // Choice: the item code is the first product ID pair (LIN02/LIN03), unless
          // `keyQualifiers` names the qualifiers to prefer (e.g. ['VN'] to key by the seller's SKU).
          const qualifier = (keyQualifiers ?? []).find((q) => ids[q] !== undefined) ?? s.e[2];
          current = { code: ids[qualifier], qualifier, ids, index: s.index };
        } else if (s.id === 'QTY') {
          if (!current) throw new X12Error('QTY segment outside a LIN loop', 'QTY', s.index);
          const q = s.e[1];
          const v = s.e[2];
          if (!q || v === undefined || v === '') throw new X12Error('QTY01 and QTY02 are required', 'QTY', s.index);
          if (!/^-?\d+(\.\d+)?$/.test(v)) throw new X12Error(`QTY02 must be numeric, got "${v}"`, 'QTY', s.index);
          if (q === requiredQtyQualifier || (!requiredQtyQualifier && q === '33')) {
            // Choice: stock quantities must be whole, non-negative numbers.
            if (!/^\d+$/.test(v)) throw new X12Error(`QTY*${q} quantity must be a non-negative integer, got "${v}"`, 'QTY', s.index);
            current.quantity = Number(v);
            current.unit = s.e[3] ?? null;
          }
        } else if (s.id === 'CTT') {
          closeLoop();
          ctt = { count: Number(s.e[1]), index: s.index };
        }
      }
      closeLoop();
      const se = need('SE');
      const count = p - startP;
      if (String(count) !== se.e[1]) throw new X12Error(`SE01 segment count is ${se.e[1]} but the transaction set has ${count} segments`, 'SE', se.index);
      if (se.e[2] !== st.e[2]) throw new X12Error(`SE02 (${se.e[2]}) does not match ST02 (${st.e[2]})`, 'SE', se.index);
      if (ctt && ctt.count !== linCount) throw new X12Error(`CTT01 is ${ctt.count} but the transaction set has ${linCount} LIN segments`, 'CTT', ctt.index);
      group.transactionSets.push(ts);
      for (const it of ts.items) items.push({ code: it.code, qualifier: it.qualifier, ids: it.ids, quantity: it.quantity, unit: it.unit, transactionSet: ts.controlNumber, reference: ts.reference });
    }
    const ge = need('GE');
    if (group.transactionSets.length === 0) throw new X12Error('functional group has no transaction set', 'GE', ge.index);
    if (String(group.transactionSets.length) !== ge.e[1]) throw new X12Error(`GE01 is ${ge.e[1]} but the group has ${group.transactionSets.length} transaction sets`, 'GE', ge.index);
    if (ge.e[2] !== gs.e[6]) throw new X12Error(`GE02 (${ge.e[2]}) does not match GS06 (${gs.e[6]})`, 'GE', ge.index);
    groups.push(group);
  }
  if (groups.length === 0) throw new X12Error('interchange has no functional group (GS)', peek()?.id ?? null, peek()?.index ?? null);
  const iea = need('IEA');
  if (String(groups.length) !== iea.e[1]) throw new X12Error(`IEA01 is ${iea.e[1]} but the interchange has ${groups.length} functional groups`, 'IEA', iea.index);
  if (iea.e[2] !== isa.controlNumber) throw new X12Error(`IEA02 (${iea.e[2]}) does not match ISA13 (${isa.controlNumber})`, 'IEA', iea.index);
  if (p < segments.length) throw new X12Error(`data after IEA (${segments[p].id})`, segments[p].id, segments[p].index);
  return { isa, groups, items };
}

const pad = (s, n) => String(s).padEnd(n, ' ').slice(0, n);

/**
 * Builds a valid 846 interchange (for tests and to show the expected shape).
 * items: [{code, qualifier = 'SK', quantity, unit = 'EA'}]
 */
export function build846({
  senderId = 'STOCKEDGE', receiverId = 'PARTNER', controlNumber = 1, groupControl = controlNumber,
  setControl = '0001', items = [], reference = 'INV0001', date = new Date(), elementSep = '*',
  segmentTerm = '~', componentSep = '>', usage = 'P', newline = '\n',
} = {}) {
  const d = date.toISOString();
  const yymmdd = d.slice(2, 4) + d.slice(5, 7) + d.slice(8, 10);
  const ccyymmdd = d.slice(0, 4) + d.slice(5, 7) + d.slice(8, 10);
  const hhmm = d.slice(11, 13) + d.slice(14, 16);
  const ctl = String(controlNumber).padStart(9, '0');
  const E = elementSep;
  const isa = ['ISA', '00', pad('', 10), '00', pad('', 10), 'ZZ', pad(senderId, 15), 'ZZ', pad(receiverId, 15), yymmdd, hhmm, 'U', '00401', ctl, '0', usage, componentSep].join(E);
  const body = [
    ['ST', '846', setControl],
    ['BIA', '00', 'MM', reference, ccyymmdd],
    ...items.flatMap((it, i) => [
      it.ids ? ['LIN', '', ...Object.entries(it.ids).flat()] : ['LIN', String(i + 1), it.qualifier ?? 'SK', it.code],
      ['QTY', it.qtyQualifier ?? '33', String(it.quantity), it.unit ?? 'EA'],
    ]),
    ['CTT', String(items.length)],
  ];
  body.push(['SE', String(body.length + 1), setControl]);
  const segs = [
    ['GS', 'IB', senderId, receiverId, ccyymmdd, hhmm, String(groupControl), 'X', '004010'],
    ...body,
    ['GE', '1', String(groupControl)],
    ['IEA', '1', ctl],
  ];
  return isa + segmentTerm + newline + segs.map((s) => s.join(E) + segmentTerm).join(newline) + newline;
}

/**
 * Starts the wholesale partner simulator.
 *
 * @param opts {port, partners: [{id, username?, password?, senderId?}] (when any partner has a
 *   username, Basic auth is required), requiredQtyQualifier = '33', keyQualifiers = null (first
 *   LIN pair; e.g. ['VN'] keys by seller SKU, ['IN','VN'] by the partner's code when present),
 *   rejectDuplicates = true, faults, clock}
 */
export async function startWholesaleSim(opts = {}) {
  const clock = opts.clock ?? createClock();
  const log = new WriteLog(clock);
  const faults = new FaultInjector(opts.faults ?? {});
  const partners = opts.partners ?? [];
  const authRequired = partners.some((x) => x.username);
  const requiredQtyQualifier = opts.requiredQtyQualifier ?? '33';
  const keyQualifiers = opts.keyQualifiers ?? null;
  const rejectDuplicates = opts.rejectDuplicates ?? true;
  const quantities = new Map(); // code -> {quantity, qualifier, partner, at}
  const interchanges = [];
  const seen = new Set();

  function receive(ctx) {
    let partner = null;
    if (authRequired) {
      const b = basicAuth(ctx.headers.authorization);
      partner = b ? partners.find((x) => x.username === b.user && safeEqual(x.password, b.pass)) : null;
      if (!partner) return json(401, { status: 'rejected', reason: 'authentication required' }, { 'www-authenticate': 'Basic realm="edi"' });
    }
    const ct = String(ctx.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (!['text/plain', 'application/edi-x12'].includes(ct)) {
      return json(415, { status: 'rejected', reason: `Content-Type must be text/plain or application/edi-x12, got '${ct}'` });
    }
    let doc;
    try {
      doc = parse846(ctx.text(), { requiredQtyQualifier, keyQualifiers });
    } catch (e) {
      if (!(e instanceof X12Error)) throw e;
      interchanges.push({ at: clock.iso(), status: 'rejected', reason: e.message });
      return json(400, { status: 'rejected', reason: e.message, segment: e.segment, segmentIndex: e.index });
    }
    if (partner?.senderId && doc.isa.senderId !== partner.senderId) {
      return json(403, { status: 'rejected', reason: `ISA06 sender '${doc.isa.senderId}' is not the one agreed with partner ${partner.id}` });
    }
    const dupKey = `${doc.isa.senderId}|${doc.isa.controlNumber}`;
    const summary = {
      interchangeControlNumber: doc.isa.controlNumber,
      sender: doc.isa.senderId,
      receiver: doc.isa.receiverId,
      functionalGroups: doc.groups.length,
      transactionSets: doc.groups.reduce((s, g) => s + g.transactionSets.length, 0),
      items: doc.items.map(({ code, qualifier, ids, quantity }) => ({ code, qualifier, ids, quantity })),
    };
    // Choice: a repeated interchange control number from the same sender is acknowledged but not
    // applied again (a late retry must not overwrite newer stock).
    if (rejectDuplicates && seen.has(dupKey)) {
      interchanges.push({ at: clock.iso(), status: 'duplicate', ...summary });
      return json(200, { status: 'duplicate', ...summary });
    }
    seen.add(dupKey);
    const version = parseVersion(ctx.headers[VERSION_HEADER]);
    for (const it of doc.items) {
      const prev = quantities.get(it.code)?.quantity ?? null;
      quantities.set(it.code, { quantity: it.quantity, qualifier: it.qualifier, partner: partner?.id ?? null, at: clock.iso() });
      log.record(it.code, {
        value: it.quantity,
        version,
        reference: `${doc.isa.controlNumber}/${it.transactionSet}`,
        previous: prev,
        qualifier: it.qualifier,
        ids: it.ids,
        sku: it.ids.VN ?? null,
        biaReference: it.reference,
        partner: partner?.id ?? null,
        sender: doc.isa.senderId,
        requestId: ctx.requestId,
      });
    }
    interchanges.push({ at: clock.iso(), status: 'accepted', ...summary });
    return json(200, { status: 'accepted', ...summary });
  }

  const handler = router([['POST', '/edi/846', receive]], { notFound: () => json(404, { status: 'rejected', reason: 'not found' }) });

  const sim = await startSim(handler, {
    port: opts.port ?? 0,
    name: 'wholesale',
    clock,
    log,
    faults,
    state: () => ({
      quantities: Object.fromEntries([...quantities].map(([k, v]) => [k, v.quantity])),
      items: Object.fromEntries(quantities),
      interchanges,
    }),
    errorResponse: (kind, ctx, fault) => {
      const h = kind === '429' || kind === '503' ? { 'retry-after': String(fault.retryAfterSeconds) } : {};
      return json(Number(kind), { status: 'error', reason: kind === '429' ? 'too many requests' : kind === '503' ? 'service unavailable' : 'internal error' }, h);
    },
    onReset: () => { quantities.clear(); seen.clear(); interchanges.length = 0; },
  });

  return Object.assign(sim, {
    endpoint: `${sim.url}/edi/846`,
    quantity: (code) => quantities.get(code)?.quantity,
    interchanges,
    authHeader: (partnerId) => {
      const p = partners.find((x) => x.id === partnerId) ?? partners[0];
      return p?.username ? `Basic ${Buffer.from(`${p.username}:${p.password}`).toString('base64')}` : undefined;
    },
  });
}

// ---------------------------------------------------------------------------------------------
// The partner's side of purchase orders: it sends an X12 850 (004010) to StockEdge's
// `POST /v1/edi/850?channel=` and reads the 855 (or 997) that answers it. Shapes from the X12
// 004010 850/855/997 segment tables (BEG, PO1, CTT; BAK, ACK; AK1–AK9) as partner
// implementation guides publish them.

/**
 * Builds an 850 interchange: one transaction set per order.
 * orders: [{poNumber, date = 'CCYYMMDD', lines: [{lineId?, qty, unit = 'EA', price = '1.00', ids: {IN?, VN?, …}}]}]
 * `breakSegmentCount` writes a wrong SE01 (a malformed envelope, for tests).
 */
export function build850({
  senderId = 'PARTNER', receiverId = 'STOCKEDGE', controlNumber = 1, groupControl = controlNumber,
  orders = [], usage = 'T', newline = '\n', breakSegmentCount = false, date = new Date(),
} = {}) {
  const d = date.toISOString();
  const yymmdd = d.slice(2, 4) + d.slice(5, 7) + d.slice(8, 10);
  const ccyymmdd = d.slice(0, 4) + d.slice(5, 7) + d.slice(8, 10);
  const hhmm = d.slice(11, 13) + d.slice(14, 16);
  const ctl = String(controlNumber).padStart(9, '0');
  const isa = ['ISA', '00', pad('', 10), '00', pad('', 10), 'ZZ', pad(senderId, 15), 'ZZ', pad(receiverId, 15), yymmdd, hhmm, 'U', '00401', ctl, '0', usage, '>'].join('*');
  const sets = orders.map((o, n) => {
    const st02 = String(n + 1).padStart(4, '0');
    const body = [
      ['ST', '850', st02],
      ['BEG', '00', 'SA', o.poNumber, '', o.date ?? ccyymmdd],
      ...o.lines.map((l, i) => ['PO1', l.lineId ?? String(i + 1), String(l.qty), l.unit ?? 'EA', l.price ?? '1.00', '', ...Object.entries(l.ids).flat()]),
      ['CTT', String(o.lines.length)],
    ];
    body.push(['SE', String(body.length + 1 + (breakSegmentCount ? 1 : 0)), st02]);
    return body;
  });
  const segs = [
    ['GS', 'PO', senderId, receiverId, ccyymmdd, hhmm, String(groupControl), 'X', '004010'],
    ...sets.flat(),
    ['GE', String(sets.length), String(groupControl)],
    ['IEA', '1', ctl],
  ];
  return isa + '~' + newline + segs.map((s) => s.join('*') + '~').join(newline) + newline;
}

/**
 * Reads an 855 or 997 interchange (delimiters from its ISA): {type, isa: {senderId, receiverId,
 * controlNumber}, orders: [{poNumber, bak02, lines: [{lineId, qty, acks: [{code, qty}]}]}],
 * ak: {ak3, ak4, ak5, ak9}}. Checks SE01/SE02, GE01/GE02 and IEA01/IEA02.
 */
export function parseAcknowledgment(text) {
  const src = String(text);
  if (!src.startsWith('ISA') || src.length < 106) throw new X12Error('not an X12 interchange', 'ISA', 0);
  const el = src[3];
  const term = src[105];
  const isaParts = src.slice(0, 105).split(el);
  const segs = src.slice(106).split(term).map((s) => s.replace(/^[\r\n]+/, '')).filter((s) => s.trim() !== '').map((s) => s.split(el));
  const out = {
    type: null,
    isa: { senderId: isaParts[6].trim(), receiverId: isaParts[8].trim(), controlNumber: isaParts[13] },
    orders: [],
    ak: {},
  };
  let count = 0;
  let st02 = null;
  let sets = 0;
  let gs06 = null;
  for (const s of segs) {
    const [id] = s;
    if (st02 !== null) count += 1;
    if (id === 'GS') gs06 = s[6];
    else if (id === 'ST') { out.type = s[1]; st02 = s[2]; count = 1; sets += 1; }
    else if (id === 'SE') {
      if (Number(s[1]) !== count || s[2] !== st02) throw new X12Error(`SE ${s.join(el)} does not close ST ${st02} of ${count} segments`, 'SE');
      st02 = null;
    } else if (id === 'GE') {
      if (Number(s[1]) !== sets || s[2] !== gs06) throw new X12Error('GE does not match its GS', 'GE');
    } else if (id === 'IEA') {
      if (s[2] !== out.isa.controlNumber || s[1] !== '1') throw new X12Error('IEA does not match the ISA', 'IEA');
    } else if (id === 'BAK') out.orders.push({ poNumber: s[3], bak02: s[2], date: s[4], lines: [] });
    else if (id === 'PO1') out.orders.at(-1).lines.push({ lineId: s[1], qty: Number(s[2]), acks: [] });
    else if (id === 'ACK') out.orders.at(-1).lines.at(-1).acks.push({ code: s[1], qty: Number(s[2]) });
    else if (['AK1', 'AK2', 'AK3', 'AK4', 'AK5', 'AK9'].includes(id)) out.ak[id.toLowerCase()] = s.slice(1);
  }
  return out;
}

/** Sends an 850 as a trading partner would: `{status, contentType, text, ack}` (ack parsed when X12). */
export async function sendPurchaseOrder(baseUrl, channel, text, { user, password, token } = {}) {
  const headers = { 'content-type': 'application/edi-x12' };
  if (token) headers.authorization = `Bearer ${token}`;
  else if (user) headers.authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const res = await fetch(`${baseUrl}/v1/edi/850?channel=${encodeURIComponent(channel)}`, { method: 'POST', headers, body: text });
  const body = await res.text();
  const contentType = res.headers.get('content-type') ?? '';
  return { status: res.status, contentType, text: body, ack: contentType.startsWith('application/edi-x12') ? parseAcknowledgment(body) : null };
}
