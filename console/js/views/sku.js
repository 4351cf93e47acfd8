// SKU: search; stock per location (`GET /v1/skus/{sku}`); each channel listing with its rule,
// the quantity StockEdge intends, the last push, the live value read back and the buffer the
// advisor advises (`GET /v1/skus/{sku}/listings`, `GET /v1/reconciliation?sku=`,
// `GET /v1/channels/{c}/listings/{sku}/advice`); the journal as a timeline and
// a chart of available over time; whether the SKU is hot (flash-sale allotments), by an
// operator's policy or by itself above a hold rate (`GET /v1/skus/{sku}/policy`); set / adjust
// with a reason, confirmed, the set guarded by the version shown (`expected_version`).

import { ApiError, call, enc, get, getAll, getIfBuilt, idempotencyKey } from '../api.js';
import { availableChart, availableSeries } from '../chart.js';
import { badge, confirmAction, duration, fill, h, notAvailable, num, problemBox, table, when } from '../dom.js';

const ADJUST_REASONS = ['received', 'correction', 'damaged', 'shrinkage', 'restock', 'cycle_count'];
const JOURNAL_MAX = 10_000;
const TIMELINE_SHOWN = 100;
const STATUS_TONE = { in_sync: 'ok', pending: 'warn', failing: 'bad', disabled: 'off' };

function searchForm(current) {
  const input = h('input', { id: 'sku-search', name: 'sku', type: 'search', list: 'sku-options', value: current ?? '', required: true, autocomplete: 'off', spellcheck: 'false' });
  const options = h('datalist', { id: 'sku-options' });
  // Catalogue SKUs as suggestions (first page), without delaying the view.
  get('/v1/products?limit=1000')
    .then((p) => fill(options, p.items.map((x) => h('option', { value: x.sku }, x.title ?? ''))))
    .catch(() => {});
  return h(
    'form',
    {
      class: 'search',
      role: 'search',
      onsubmit: (ev) => {
        ev.preventDefault();
        const sku = input.value.trim();
        if (sku) location.hash = `#/sku/${enc(sku)}`;
      },
    },
    h('label', { for: 'sku-search' }, 'SKU'),
    input,
    options,
    h('button', { type: 'submit' }, 'Show'),
  );
}

function totals(state) {
  const fields = ['on_hand', 'reserved', 'committed', 'available', 'backordered', 'oversold', 'backorder_limit', 'version'];
  return h(
    'dl',
    { class: 'totals', 'aria-label': 'Totals' },
    fields.map((f) => h('div', { dataset: { field: f }, class: f === 'oversold' && state[f] > 0 ? 'bad' : null }, h('dt', {}, f.replace('_', ' ')), h('dd', {}, num(state[f])))),
  );
}

function locationsTable(state) {
  return table(
    'Per location',
    [
      { label: 'Location', value: (l) => l.location },
      { label: 'On hand', key: 'on_hand', value: (l) => num(l.on_hand) },
      { label: 'Reserved', key: 'reserved', value: (l) => num(l.reserved) },
      { label: 'Committed', key: 'committed', value: (l) => num(l.committed) },
      { label: 'Available', key: 'available', value: (l) => num(l.available) },
    ],
    state.locations,
    { rowAttrs: (l) => ({ dataset: { location: l.location } }), empty: 'No stock at any location.' },
  );
}

const ruleText = (r) =>
  r && Object.keys(r).length ? Object.entries(r).map(([k, v]) => `${k} ${v}`).join(', ') : 'as available';

/** The advised buffer of `sku`'s listing on `channel`, filled in when the advice answers (a
 * channel kind the advisor has no delays for, or a Worker without the endpoint: "—"). */
function adviceCell(channel, sku) {
  const cell = h('span', { class: 'muted' }, '…');
  getIfBuilt(`/v1/channels/${enc(channel)}/listings/${enc(sku)}/advice`)
    .then((a) => {
      if (!a) return fill(cell, '—');
      cell.className = a.meets_target ? '' : 'bad';
      cell.title =
        `${a.oversold_per_10k_orders.advised.toFixed(2)} oversold per 10,000 orders with it ` +
        `(${a.oversold_per_10k_orders.current.toFixed(2)} with the current buffer ${a.buffer.current}; ` +
        `target ${a.target_oversold_per_10k_orders}), from ${a.observed.days.toFixed(1)} days of journal`;
      fill(cell, num(a.buffer.advised));
    })
    .catch(() => fill(cell, '—'));
  return cell;
}

/** Whether the SKU is hot and why, filled in when the policy answers (a Worker without the
 * route: "not available"). */
function hotnessNote(sku) {
  const note = h('p', { dataset: { field: 'hotness' } }, h('span', { class: 'muted' }, 'Flash-sale allotments: …'));
  getIfBuilt(`/v1/skus/${enc(sku)}/policy`)
    .then((p) => {
      if (!p) return fill(note, notAvailable('Flash-sale allotments (GET /v1/skus/{sku}/policy)'));
      if (!p.hot) return fill(note, 'Flash-sale allotments: off (holds go to the SKU itself).');
      const how = `${p.allotments} allotments, blocks of ${num(p.block)} units, leases of ${num(p.lease_seconds)} s`;
      const why =
        p.source === 'automatic'
          ? h('span', {}, badge('hot by itself', 'warn'), ` since ${when(p.automatic_since)}, last demand ${when(p.last_demand_at)}`)
          : badge('hot: set by an operator', 'ok');
      fill(note, 'Flash-sale allotments: ', why, ` (${how}).`);
    })
    .catch((e) => fill(note, problemBox(e, 'Flash-sale allotments')));
  return note;
}

/** Listings of the SKU, with the latest live read per channel and the advised buffer beside
 * them. */
function listingsTable(sku, listings, live) {
  const latest = new Map();
  for (const r of live ?? []) {
    const prev = latest.get(r.channel);
    if (!prev || String(r.read_at) > String(prev.read_at)) latest.set(r.channel, r);
  }
  return table(
    'Per channel listing',
    [
      { label: 'Channel', value: (l) => `${l.channel}${l.channel_kind ? ` (${l.channel_kind})` : ''}` },
      { label: 'Rule', value: (l) => (l.rule === undefined ? '—' : ruleText(l.rule)) },
      { label: 'Intended', key: 'intended_quantity', value: (l) => num(l.intended_quantity) },
      { label: 'Last pushed', key: 'last_quantity', value: (l) => num(l.last_quantity) },
      { label: 'Pushed at', value: (l) => when(l.pushed_at) },
      {
        label: 'Live',
        key: 'live',
        value: (l) => {
          const r = latest.get(l.channel);
          if (!r) return live ? '—' : 'n/a';
          const drift = r.drift ? h('span', { class: 'bad' }, ` (drift ${r.drift > 0 ? '+' : ''}${r.drift})`) : '';
          return h('span', { title: `read ${r.read_at}` }, num(r.live), drift);
        },
      },
      { label: 'Advised buffer', key: 'advised_buffer', value: (l) => adviceCell(l.channel, sku) },
      { label: 'Lag', key: 'lag_ms', value: (l) => duration(l.lag_ms) },
      { label: 'Status', key: 'status', value: (l) => badge((l.status ?? '—').replace('_', ' '), STATUS_TONE[l.status] ?? 'off') },
      { label: 'Last error', value: (l) => l.last_error ?? '' },
    ],
    listings,
    { rowAttrs: (l) => ({ dataset: { channel: l.channel } }), empty: 'Not listed on any channel.' },
  );
}

/** The listings from `GET /v1/sync/status` on a Worker without the SKU listings endpoint. */
async function listingsFromStatus(sku) {
  const status = await get('/v1/sync/status');
  return status.items
    .filter((s) => s.sku === sku)
    .map((s) => ({
      ...s,
      rule: undefined,
      intended_quantity: null,
      status: s.last_error ? 'failing' : s.pending_version !== null && s.pending_version !== undefined ? 'pending' : 'in_sync',
    }));
}

const causeText = (c) =>
  Object.entries(c ?? {})
    .filter(([, v]) => v !== null && v !== undefined)
    .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(', ') : v}`)
    .join(' · ');

const deltaText = (d) =>
  Object.entries(d ?? {})
    .filter(([, v]) => v)
    .map(([k, v]) => `${k} ${v > 0 ? '+' : ''}${v}`)
    .join(', ') || 'no change';

function timeline(entries, complete) {
  const shown = entries.slice(-TIMELINE_SHOWN).reverse();
  const points = availableSeries(entries);
  return h(
    'div',
    {},
    h('figure', { class: 'chart-wrap' }, availableChart(points), h('figcaption', {}, complete ? 'Available over time, replayed from the journal.' : `Available over time from the first ${entries.length} journal entries (the journal is longer).`)),
    h(
      'ol',
      { class: 'timeline', 'aria-label': 'Journal, newest first' },
      shown.map((e) =>
        h(
          'li',
          { dataset: { seq: e.seq, op: e.op } },
          h('span', { class: 'op' }, e.op),
          ' ',
          when(e.at),
          h('span', { class: 'muted' }, ` #${e.seq} · v${e.version} · ${e.location ?? ''}`),
          h('div', {}, deltaText(e.deltas)),
          causeText(e.cause) ? h('div', { class: 'cause' }, causeText(e.cause)) : null,
        ),
      ),
    ),
    entries.length > TIMELINE_SHOWN ? h('p', { class: 'hint' }, `The latest ${TIMELINE_SHOWN} of ${entries.length} entries.`) : null,
  );
}

/** Set on hand (CAS on the version shown) or adjust by a delta, with a reason, confirmed.
 * `reload(note)` redraws the SKU with the new state and keeps `note` (the outcome) on the new form. */
function changeForm(sku, state, reload, note = null) {
  const locations = state.locations.length ? state.locations.map((l) => l.location) : ['main'];
  const mode = h('select', { id: 'change-mode', name: 'mode' }, h('option', { value: 'set' }, 'Set on hand to'), h('option', { value: 'adjust' }, 'Adjust on hand by'));
  const qty = h('input', { id: 'change-qty', name: 'quantity', type: 'number', step: '1', required: true, inputmode: 'numeric' });
  const loc = h('select', { id: 'change-location', name: 'location' }, locations.map((l) => h('option', { value: l, selected: l === 'main' }, l)));
  const reason = h('select', { id: 'change-reason', name: 'reason' }, ADJUST_REASONS.map((r) => h('option', { value: r, selected: r === 'cycle_count' }, r)));
  const out = h('div', { 'aria-live': 'polite' }, note);
  const form = h(
    'form',
    {
      class: 'card change',
      'aria-labelledby': 'change-title',
      onsubmit: async (ev) => {
        ev.preventDefault();
        fill(out);
        const n = Number(qty.value);
        if (!Number.isInteger(n) || (mode.value === 'set' && n < 0)) {
          fill(out, h('p', { class: 'problem', role: 'alert' }, 'Enter a whole number (at least 0 to set).'));
          return;
        }
        const at = state.locations.find((l) => l.location === loc.value);
        const question =
          mode.value === 'set'
            ? `Set on hand of ${sku} at ${loc.value} from ${at?.on_hand ?? 0} to ${n} (reason ${reason.value}), if the SKU is still at version ${state.version}?`
            : `Adjust on hand of ${sku} at ${loc.value} by ${n > 0 ? '+' : ''}${n} (reason ${reason.value})?`;
        if (!(await confirmAction('Change stock', question, mode.value === 'set' ? 'Set' : 'Adjust'))) return;
        try {
          const key = idempotencyKey();
          const r =
            mode.value === 'set'
              ? await call('PUT', `/v1/skus/${enc(sku)}/stock`, { key, body: { on_hand: n, location: loc.value, reason: reason.value, expected_version: state.version } })
              : await call('POST', `/v1/skus/${enc(sku)}/adjustments`, { key, body: { delta: n, location: loc.value, reason: reason.value } });
          const done = h('p', { class: 'ok-note' }, `Done: ${r.body.effect}, now version ${r.body.version}, available ${r.body.available}.`);
          fill(out, done);
          await reload(done);
        } catch (e) {
          const stale = e instanceof ApiError && e.problem.type === '/problems/version-conflict';
          fill(out, problemBox(e, stale ? 'Someone changed this SKU first: reload and check' : 'Not changed'));
        }
      },
    },
    h('h2', { id: 'change-title' }, 'Change stock'),
    h('p', { class: 'hint', dataset: { field: 'version-shown' } }, `Version shown: ${state.version}. Setting on hand is refused if the SKU moved since.`),
    h('div', { class: 'row' }, h('label', { for: 'change-mode' }, 'Change'), mode),
    h('div', { class: 'row' }, h('label', { for: 'change-qty' }, 'Quantity'), qty),
    h('div', { class: 'row' }, h('label', { for: 'change-location' }, 'Location'), loc),
    h('div', { class: 'row' }, h('label', { for: 'change-reason' }, 'Reason'), reason),
    h('button', { type: 'submit', class: 'primary' }, 'Review change…'),
    out,
  );
  return form;
}

export async function renderSku(page, sku) {
  fill(page, h('h1', {}, sku ? `SKU ${sku}` : 'SKU'), searchForm(sku));
  if (!sku) return;
  const body = h('div', { 'aria-busy': 'true' }, h('p', { class: 'loading' }, 'Loading…'));
  page.append(body);
  const reload = async (note) => {
    body.setAttribute('aria-busy', 'true');
    await load(note);
  };
  async function load(note = null) {
    let state;
    try {
      state = await get(`/v1/skus/${enc(sku)}`);
    } catch (e) {
      fill(body, problemBox(e, `SKU ${sku}`));
      body.removeAttribute('aria-busy');
      return;
    }
    const listingsSection = h('section', { 'aria-labelledby': 'listings-title' }, h('h2', { id: 'listings-title' }, 'Channels'), h('p', { class: 'loading' }, 'Loading…'));
    const journalSection = h('section', { 'aria-labelledby': 'journal-title' }, h('h2', { id: 'journal-title' }, 'Journal'), h('p', { class: 'loading' }, 'Loading…'));
    fill(
      body,
      h('section', { 'aria-labelledby': 'stock-title', class: 'stock' }, h('h2', { id: 'stock-title' }, 'Stock'), totals(state), locationsTable(state)),
      h(
        'section',
        { 'aria-labelledby': 'holds-title' },
        h('h2', { id: 'holds-title' }, 'Active holds'),
        h('p', { dataset: { field: 'holds' } }, state.reserved ? `${num(state.reserved)} units held by open reservations.` : 'No units held.', ' The per-hold list is not available from the API; each hold is in the journal (op reserve).'),
        hotnessNote(sku),
      ),
      listingsSection,
      changeForm(sku, state, reload, note),
      journalSection,
    );
    body.removeAttribute('aria-busy');
    const [listings, live, journal] = await Promise.allSettled([
      getIfBuilt(`/v1/skus/${enc(sku)}/listings`).then(async (r) => (r ? { items: r.items, full: true } : { items: await listingsFromStatus(sku), full: false })),
      getIfBuilt(`/v1/reconciliation?sku=${enc(sku)}&limit=1000`),
      getAll(`/v1/skus/${enc(sku)}/journal`, { max: JOURNAL_MAX, field: 'entries' }),
    ]);
    if (listings.status === 'fulfilled') {
      fill(
        listingsSection,
        h('h2', { id: 'listings-title' }, 'Channels'),
        listingsTable(sku, listings.value.items, live.status === 'fulfilled' ? live.value?.items : null),
        listings.value.full ? null : notAvailable('Rules and intended quantities (GET /v1/skus/{sku}/listings)'),
        live.status === 'fulfilled' && !live.value ? notAvailable('Live quantities read back from the channels (reconciliation)') : null,
      );
    } else fill(listingsSection, h('h2', { id: 'listings-title' }, 'Channels'), problemBox(listings.reason));
    if (journal.status === 'fulfilled') {
      fill(journalSection, h('h2', { id: 'journal-title' }, 'Journal'), timeline(journal.value.items, journal.value.complete));
    } else fill(journalSection, h('h2', { id: 'journal-title' }, 'Journal'), problemBox(journal.reason));
  }
  await load();
}

