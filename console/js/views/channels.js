// Channels and listings: each connection (`GET /v1/channels`: account, the NAME of the Worker
// secret holding its credentials — never a value), its health (`GET /v1/overview`), live reads
// (`POST /v1/reconciliation/run`, `POST /v1/reconciliation/repair`), recent drift, and its
// listings (`GET /v1/channels/{id}/listings`) with a rule editor that previews the resulting
// quantities (`POST /v1/listings/preview`) before saving (`PUT /v1/channels/{id}/listings/{sku}`).

import { ApiError, call, enc, getAll, getIfBuilt, idempotencyKey, orNotBuilt } from '../api.js';
import { actionButton, badge, confirmAction, duration, fill, h, notAvailable, num, problemBox, skuLink, table, when } from '../dom.js';

/** The most listings a preview reads (100 per call). */
const PREVIEW_MAX = 2000;

const RULE_FIELDS = [
  ['buffer', 'Buffer (units held back)', 0, 1_000_000],
  ['percent', 'Percent of what is left', 0, 100],
  ['max_listed', 'Most listed', 0, 1_000_000_000],
  ['zero_at_or_below', 'List 0 at or below', 0, 1_000_000],
];

function health(c, h1) {
  if (!h1) return h('p', { class: 'hint' }, 'Health: not available (GET /v1/overview).');
  const tone = !c.enabled ? 'off' : h1.auth_failing || h1.failures ? 'bad' : h1.pending ? 'warn' : 'ok';
  const text = !c.enabled ? 'disabled' : h1.auth_failing ? 'auth failing' : h1.failures ? 'failing' : h1.pending ? 'pending' : 'in sync';
  return h(
    'dl',
    { class: 'totals small', 'aria-label': `Health of ${c.channel}` },
    h('div', {}, h('dt', {}, 'status'), h('dd', {}, badge(text, tone))),
    h('div', { dataset: { field: 'listings' } }, h('dt', {}, 'listings'), h('dd', {}, num(h1.listings))),
    h('div', { dataset: { field: 'pending' } }, h('dt', {}, 'pending'), h('dd', {}, num(h1.pending))),
    h('div', { dataset: { field: 'failures' } }, h('dt', {}, 'failures'), h('dd', {}, num(h1.failures))),
    h('div', { dataset: { field: 'lag_ms' } }, h('dt', {}, 'lag'), h('dd', {}, duration(h1.lag_ms))),
  );
}

function ruleEditor(channel, listings) {
  const inputs = Object.fromEntries(
    RULE_FIELDS.map(([k, , min, max]) => [k, h('input', { id: `rule-${channel}-${k}`, name: k, type: 'number', min, max, step: 1, inputmode: 'numeric' })]),
  );
  const scope = h(
    'select',
    { id: `rule-${channel}-scope`, name: 'scope' },
    h('option', { value: '' }, `All ${listings.length} listings`),
    listings.map((l) => h('option', { value: l.sku }, l.sku)),
  );
  const out = h('div', { 'aria-live': 'polite' });
  const rule = () => {
    const r = {};
    for (const [k] of RULE_FIELDS) if (inputs[k].value !== '') r[k] = Number(inputs[k].value);
    return r;
  };
  const inScope = () => listings.filter((l) => !scope.value || l.sku === scope.value);
  scope.addEventListener('change', () => {
    const l = listings.find((x) => x.sku === scope.value);
    for (const [k] of RULE_FIELDS) inputs[k].value = l?.rule?.[k] ?? '';
  });
  const preview = async () => {
    fill(out);
    try {
      // The preview pages (each SKU is read from its ledger): every page, SKU order.
      const items = [];
      let after = null;
      do {
        const q = `?limit=100${after === null ? '' : `&after=${enc(after)}`}`;
        const r = await call('POST', `/v1/listings/preview${q}`, { body: { channel, rule: rule() } });
        items.push(...r.body.items);
        after = r.body.next ?? null;
      } while (after !== null && items.length < PREVIEW_MAX);
      const skus = new Set(inScope().map((l) => l.sku));
      fill(
        out,
        table(
          'Quantities now and under the proposed rule',
          [
            { label: 'SKU', value: (i) => skuLink(i.sku) },
            { label: 'Available', value: (i) => num(i.available) },
            { label: 'Listed now', key: 'current_quantity', value: (i) => num(i.current_quantity) },
            { label: 'Proposed', key: 'proposed_quantity', value: (i) => h('strong', {}, num(i.proposed_quantity)) },
          ],
          items.filter((i) => skus.has(i.sku)),
          { rowAttrs: (i) => ({ dataset: { sku: i.sku } }) },
        ),
      );
    } catch (e) {
      fill(out, e instanceof ApiError && e.routeMissing ? notAvailable('The preview (POST /v1/listings/preview)') : problemBox(e, 'No preview'));
    }
  };
  const save = async () => {
    const targets = inScope();
    const r = rule();
    if (!(await confirmAction('Save listing rule', `Set the rule ${JSON.stringify(r)} on ${targets.length} listing(s) of ${channel}? Their quantities are pushed again.`, 'Save'))) return;
    try {
      for (const l of targets) {
        await call('PUT', `/v1/channels/${enc(channel)}/listings/${enc(l.sku)}`, { key: idempotencyKey(), body: { external: l.external, rule: r } });
        l.rule = r;
      }
      fill(out, h('p', { class: 'ok-note' }, `Saved on ${targets.length} listing(s).`));
    } catch (e) {
      fill(out, problemBox(e, 'Not saved'));
    }
  };
  return h(
    'form',
    { class: 'rule-editor', 'aria-label': `Listing rule for ${channel}`, onsubmit: (ev) => (ev.preventDefault(), preview()) },
    h('div', { class: 'row' }, h('label', { for: scope.id }, 'Apply to'), scope),
    RULE_FIELDS.map(([k, label]) => h('div', { class: 'row' }, h('label', { for: inputs[k].id }, label), inputs[k])),
    h('div', { class: 'buttons' }, h('button', { type: 'submit' }, 'Preview'), h('button', { type: 'button', class: 'primary', onclick: save }, 'Save rule…')),
    out,
  );
}

function listingsPanel(channel) {
  const body = h('div', {}, h('p', { class: 'loading' }, 'Loading…'));
  const details = h('details', { class: 'listings' }, h('summary', {}, 'Listings and rules'), body);
  let loaded = false;
  details.addEventListener('toggle', async () => {
    if (!details.open || loaded) return;
    loaded = true;
    try {
      const { items } = await getAll(`/v1/channels/${enc(channel)}/listings`);
      fill(
        body,
        table(
          `Listings of ${channel}`,
          [
            { label: 'SKU', value: (l) => skuLink(l.sku) },
            { label: 'Identity', value: (l) => l.identity },
            { label: 'Rule', value: (l) => (Object.keys(l.rule ?? {}).length ? JSON.stringify(l.rule) : 'as available') },
          ],
          items,
          { empty: 'No listings.' },
        ),
        items.length ? ruleEditor(channel, items) : null,
      );
    } catch (e) {
      fill(body, problemBox(e, 'Listings'));
    }
  });
  return details;
}

function channelCard(c, h1) {
  const settings = Object.entries(c.settings ?? {});
  return h(
    'article',
    { class: 'card channel', dataset: { channel: c.channel }, 'aria-labelledby': `ch-${c.channel}` },
    h('h2', { id: `ch-${c.channel}` }, c.channel, ' ', h('span', { class: 'muted' }, c.kind), ' ', c.enabled ? null : badge('disabled', 'off')),
    h(
      'dl',
      { class: 'facts' },
      h('dt', {}, 'Account'),
      h('dd', {}, c.account),
      h('dt', {}, 'Credentials secret (name)'),
      h('dd', {}, c.credentials_secret ? h('code', {}, c.credentials_secret) : '—'),
      settings.length ? [h('dt', {}, 'Settings'), h('dd', {}, h('code', {}, JSON.stringify(c.settings)))] : null,
      h('dt', {}, 'Connected'),
      h('dd', {}, when(c.created_at)),
    ),
    health(c, h1),
    h(
      'div',
      { class: 'toolbar' },
      actionButton('Read live quantities', orNotBuilt(async () => {
        const r = await call('POST', `/v1/reconciliation/run?channel=${enc(c.channel)}`, { key: idempotencyKey() });
        const run = r.body.runs?.[0];
        return run ? `read ${run.read}, drifted ${run.drifted}, repaired ${run.repaired}${run.error ? `, error: ${run.error}` : ''}` : 'nothing to read';
      })),
      actionButton('Repair drift', orNotBuilt(async () => {
        const r = await call('POST', `/v1/reconciliation/repair?channel=${enc(c.channel)}`, { key: idempotencyKey() });
        return `${r.body.repaired} repaired`;
      })),
    ),
    listingsPanel(c.channel),
  );
}

function driftSection(drift, recon) {
  const rows = [
    ...(recon ?? []).map((r) => ({ channel: r.channel, sku: r.sku, intended: r.intended, live: r.live, at: r.read_at, action: r.action, source: 'reconcile' })),
    ...drift.map((d) => ({ channel: d.channel, sku: d.sku, intended: d.listed, live: d.reported, at: d.received_at, action: d.action, source: 'webhook' })),
  ].sort((a, b) => String(b.at).localeCompare(String(a.at)));
  return h(
    'section',
    { 'aria-labelledby': 'drift-title' },
    h('h2', { id: 'drift-title' }, 'Drift: what channels show that StockEdge did not push'),
    table(
      'Drift, newest first',
      [
        { label: 'Channel', value: (r) => r.channel },
        { label: 'SKU', value: (r) => skuLink(r.sku) },
        { label: 'Intended', value: (r) => num(r.intended) },
        { label: 'Live', value: (r) => num(r.live) },
        { label: 'Found by', value: (r) => r.source },
        { label: 'Action', value: (r) => r.action ?? '—' },
        { label: 'At', value: (r) => when(r.at) },
      ],
      rows.slice(0, 200),
      { empty: 'No drift recorded.' },
    ),
    recon ? null : notAvailable('Live reads (GET /v1/reconciliation)'),
  );
}

export async function renderChannels(page) {
  const body = h('div', { 'aria-busy': 'true' }, h('p', { class: 'loading' }, 'Loading…'));
  fill(page, h('h1', {}, 'Channels and listings'), body);
  const [channels, overview, drift, recon] = await Promise.allSettled([
    getAll('/v1/channels'),
    getIfBuilt('/v1/overview'),
    getAll('/v1/inbound/drift', { max: 200 }),
    getIfBuilt('/v1/reconciliation?drifted=true&limit=200'),
  ]);
  if (channels.status === 'rejected') {
    fill(body, problemBox(channels.reason, 'Channels'));
    body.removeAttribute('aria-busy');
    return;
  }
  const healthOf = new Map(overview.status === 'fulfilled' && overview.value ? overview.value.channels.map((c) => [c.id, c]) : []);
  fill(
    body,
    channels.value.items.length
      ? channels.value.items.map((c) => channelCard(c, healthOf.get(c.channel)))
      : h('p', { class: 'empty' }, 'No channels connected yet (PUT /v1/channels/{id}).'),
    drift.status === 'fulfilled'
      ? driftSection(drift.value.items, recon.status === 'fulfilled' ? recon.value?.items : null)
      : problemBox(drift.reason, 'Drift'),
  );
  body.removeAttribute('aria-busy');
}
