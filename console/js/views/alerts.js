// Alerts: every alert (`GET /v1/alerts`: oversold, and low stock, dead letters, channel auth,
// drift, poll behind where the Worker raises them), open ones first, newest first; acknowledge
// (`POST /v1/alerts/{id}/acknowledge`).

import { call, getAll, idempotencyKey } from '../api.js';
import { actionButton, badge, fill, h, num, problemBox, skuLink, table, when } from '../dom.js';

/** What an alert is about: its SKU, else its `subject` (a channel for channel-level kinds). */
const subjectOf = (a) => (a.sku ? skuLink(a.sku) : (a.subject ?? a.channel ?? '—'));

function detail(a) {
  if (a.kind === 'oversold') {
    return `${num(a.units)} units oversold (total ${num(a.oversold_total)}) by ${a.op}${a.order_id ? ` of order ${a.order_id}` : ''}`;
  }
  // Other kinds describe themselves in `detail` (an object: counts, thresholds, the platform's answer).
  const d = a.detail;
  if (d && typeof d === 'object') {
    return Object.entries(d)
      .map(([k, v]) => `${k.replaceAll('_', ' ')}: ${typeof v === 'object' ? JSON.stringify(v) : v}`)
      .join(' · ');
  }
  return d ?? '';
}

export async function renderAlerts(page) {
  const body = h('div', { 'aria-busy': 'true' }, h('p', { class: 'loading' }, 'Loading…'));
  const openOnly = h('input', { id: 'open-only', type: 'checkbox' });
  fill(page, h('h1', {}, 'Alerts'), h('div', { class: 'toolbar' }, openOnly, h('label', { for: 'open-only' }, 'Open alerts only')), body);
  let all = [];
  function draw() {
    const rows = all
      .filter((a) => !openOnly.checked || !a.acknowledged_at)
      .sort((x, y) => Number(Boolean(x.acknowledged_at)) - Number(Boolean(y.acknowledged_at)) || y.id - x.id);
    const open = all.filter((a) => !a.acknowledged_at).length;
    fill(
      body,
      h('p', { dataset: { count: 'alerts_open' } }, `${num(open)} open of ${num(all.length)}.`),
      table(
        'Alerts',
        [
          { label: 'Id', value: (a) => String(a.id) },
          { label: 'Kind', key: 'kind', value: (a) => badge(a.kind.replace('_', ' '), a.acknowledged_at ? 'off' : 'bad') },
          { label: 'About', value: subjectOf },
          { label: 'Channel', value: (a) => a.channel ?? '—' },
          { label: 'What', value: detail },
          { label: 'Raised', value: (a) => when(a.raised_at) },
          {
            label: 'Acknowledged',
            key: 'acknowledged_at',
            value: (a) =>
              a.acknowledged_at
                ? when(a.acknowledged_at)
                : actionButton('Acknowledge', async () => {
                    const r = await call('POST', `/v1/alerts/${a.id}/acknowledge`, { key: idempotencyKey() });
                    Object.assign(a, r.body);
                    draw();
                  }, { 'aria-label': `Acknowledge alert ${a.id}` }),
          },
        ],
        rows,
        { rowAttrs: (a) => ({ dataset: { alertId: a.id, kind: a.kind } }), empty: 'No alerts.' },
      ),
    );
  }
  openOnly.addEventListener('change', draw);
  try {
    all = (await getAll('/v1/alerts', { max: 10_000 })).items;
    draw();
  } catch (e) {
    fill(body, problemBox(e, 'Alerts'));
  }
  body.removeAttribute('aria-busy');
}
