// Failures: pushes that failed for good, with the platform's answer (`GET /v1/sync/failures`),
// retry one (`POST /v1/sync/failures/{id}/retry`) or all of a channel's
// (`POST /v1/sync/failures/retry?channel=`); dead letters (from the overview); inbound order
// lines that matched no listing (`GET /v1/inbound/unmatched`), each mappable to a SKU
// (`POST /v1/inbound/unmatched/{id}/map`), which creates the listing and applies the line once.

import { ApiError, call, enc, get, getAll, getIfBuilt, idempotencyKey, orNotBuilt } from '../api.js';
import { actionButton, fill, h, notAvailable, num, problemBox, skuLink, table, when } from '../dom.js';

/**
 * The column of a failure's retry button (`POST /v1/sync/failures/{id}/retry`, then `reload`),
 * named for assistive technology by `label(failure)`.
 */
const retryColumn = (reload, label) => ({
  label: 'Action',
  value: (f) =>
    actionButton('Retry', async () => {
      await call('POST', `/v1/sync/failures/${f.id}/retry`, { key: idempotencyKey() });
      await reload();
    }, { 'aria-label': label(f) }),
});

function failuresSection(failures, reload) {
  const channels = [...new Set(failures.map((f) => f.channel).filter(Boolean))].sort();
  return h(
    'section',
    { 'aria-labelledby': 'failures-title' },
    h('h2', { id: 'failures-title' }, `Sync failures (${failures.length})`),
    channels.length
      ? h(
          'div',
          { class: 'toolbar' },
          channels.map((c) =>
            actionButton(`Retry all for ${c}`, orNotBuilt(async () => {
              const r = await call('POST', `/v1/sync/failures/retry?channel=${enc(c)}`, { key: idempotencyKey() });
              await reload();
              return `${r.body.retried} retried`;
            }), { dataset: { retryChannel: c } }),
          ),
        )
      : null,
    table(
      'Pushes that failed for good',
      [
        { label: 'Id', value: (f) => String(f.id) },
        { label: 'Channel', value: (f) => f.channel ?? '—' },
        { label: 'SKU', value: (f) => skuLink(f.sku) },
        { label: 'Version', value: (f) => num(f.version) },
        { label: 'Platform answer', key: 'reason', value: (f) => h('span', { class: 'reason' }, f.reason) },
        { label: 'At', value: (f) => when(f.at) },
        retryColumn(reload, (f) => `Retry failure ${f.id} (${f.sku} on ${f.channel})`),
      ],
      failures,
      { rowAttrs: (f) => ({ dataset: { failureId: f.id, sku: f.sku } }), empty: 'No sync failures.' },
    ),
  );
}

/**
 * The line's platform (`identity.ids.platform`). Shopify order lines carry no inventory item, so
 * mapping one needs the listing's `external` identity from the operator.
 */
const platformOf = (line) => line.identity?.ids?.platform ?? null;

/**
 * Dead letters: changes whose queue retries ran out before any channel was known (failures with
 * no `channel`); the overview counts them.
 */
function deadLetterSection(dead, counted, reload) {
  return h(
    'section',
    { 'aria-labelledby': 'dead-title' },
    h('h2', { id: 'dead-title' }, `Dead letters (${dead.length})`),
    counted === null ? h('p', { class: 'hint' }, 'The overview’s dead-letter count is not on this Worker yet; listed here: failures with no channel.') : null,
    table(
      'Changes whose queue retries ran out',
      [
        { label: 'Id', value: (f) => String(f.id) },
        { label: 'SKU', value: (f) => skuLink(f.sku) },
        { label: 'Version', value: (f) => num(f.version) },
        { label: 'Reason', key: 'reason', value: (f) => h('span', { class: 'reason' }, f.reason) },
        { label: 'At', value: (f) => when(f.at) },
        retryColumn(reload, (f) => `Retry dead letter ${f.id} (${f.sku})`),
      ],
      dead,
      { rowAttrs: (f) => ({ dataset: { failureId: f.id, sku: f.sku } }), empty: 'No dead letters.' },
    ),
  );
}

function mapForm(line, reload) {
  const id = `map-${line.id}`;
  const input = h('input', { id, name: 'sku', required: true, value: line.sku ?? '', autocomplete: 'off', spellcheck: 'false' });
  const shopify = platformOf(line) === 'shopify';
  const item = shopify ? h('input', { id: `${id}-item`, name: 'inventory_item_id', type: 'number', min: 1, required: true, inputmode: 'numeric' }) : null;
  const loc = shopify ? h('input', { id: `${id}-location`, name: 'location_id', type: 'number', min: 1, required: true, inputmode: 'numeric' }) : null;
  const out = h('span', { 'aria-live': 'polite' });
  return h(
    'form',
    {
      class: 'inline',
      onsubmit: async (ev) => {
        ev.preventDefault();
        fill(out);
        try {
          const body = { sku: input.value.trim() };
          if (shopify) body.external = { inventory_item_id: Number(item.value), location_id: Number(loc.value) };
          const r = await call('POST', `/v1/inbound/unmatched/${line.id}/map`, { key: idempotencyKey(), body });
          fill(out, `mapped to ${r.body.listing?.sku ?? input.value}`);
          await reload();
        } catch (e) {
          fill(out, e instanceof ApiError && e.routeMissing ? notAvailable('Mapping (POST /v1/inbound/unmatched/{id}/map)') : problemBox(e, 'Not mapped'));
        }
      },
    },
    h('label', { for: id }, 'Map to SKU'),
    input,
    shopify ? [h('label', { for: item.id }, 'Shopify inventory item id'), item, h('label', { for: loc.id }, 'location id'), loc] : null,
    h('button', { type: 'submit' }, 'Map'),
    out,
  );
}

function unmatchedSection(lines, reload) {
  return h(
    'section',
    { 'aria-labelledby': 'unmatched-title' },
    h('h2', { id: 'unmatched-title' }, `Unmatched order lines (${lines.length})`),
    h('p', { class: 'hint' }, 'Lines of orders that map to no listing. Mapping one creates the listing for its channel identity and applies the line once.'),
    table(
      'Order lines that map to no listing',
      [
        { label: 'Id', value: (u) => String(u.id) },
        { label: 'Channel', value: (u) => u.channel },
        { label: 'Order', value: (u) => u.order_id },
        { label: 'Line', value: (u) => u.line_id },
        { label: 'Kind', value: (u) => u.kind },
        { label: 'Qty', value: (u) => num(u.qty) },
        { label: 'SKU sent', value: (u) => u.sku ?? '—' },
        { label: 'Received', value: (u) => when(u.received_at) },
        { label: 'Map', value: (u) => mapForm(u, reload) },
      ],
      lines,
      { rowAttrs: (u) => ({ dataset: { unmatchedId: u.id, orderId: u.order_id } }), empty: 'No unmatched lines.' },
    ),
  );
}

export async function renderFailures(page) {
  const body = h('div', { 'aria-busy': 'true' }, h('p', { class: 'loading' }, 'Loading…'));
  fill(page, h('h1', {}, 'Failures'), body);
  async function load() {
    const [failures, unmatched, overview] = await Promise.allSettled([
      get('/v1/sync/failures'),
      getAll('/v1/inbound/unmatched'),
      getIfBuilt('/v1/overview'),
    ]);
    const items = failures.status === 'fulfilled' ? failures.value.items : [];
    const dead = overview.status === 'fulfilled' && overview.value ? overview.value.attention.dead_letters : null;
    fill(
      body,
      failures.status === 'fulfilled' ? failuresSection(items.filter((f) => f.channel), load) : problemBox(failures.reason, 'Sync failures'),
      deadLetterSection(items.filter((f) => !f.channel), dead, load),
      unmatched.status === 'fulfilled' ? unmatchedSection(unmatched.value.items, load) : problemBox(unmatched.reason, 'Unmatched lines'),
    );
    body.removeAttribute('aria-busy');
  }
  await load();
}
