// Overview: what needs attention (each count a link to the view that lists it) and each
// channel's sync health and lag. From `GET /v1/overview`; on a Worker without it, counted from
// the list endpoints (what they cannot tell is shown as "—").

import { get, getAll, getIfBuilt } from '../api.js';
import { badge, duration, fill, h, num, problemBox, table } from '../dom.js';

/** The counts the overview shows, in order: field of `attention`, label, view it links to. */
export const ATTENTION = [
  ['sync_failures', 'Sync failures', '#/failures'],
  ['dead_letters', 'Dead letters', '#/failures'],
  ['oversold', 'Open oversold alerts', '#/alerts'],
  ['unmatched_lines', 'Unmatched order lines', '#/failures'],
  ['drift', 'Drift (24 h)', '#/channels'],
  ['channels_auth_failing', 'Channels failing auth', '#/channels'],
  ['low_stock', 'Low stock', '#/alerts'],
];

const DAY_MS = 24 * 3_600_000;

/** The overview counted from the list endpoints, for a Worker without `GET /v1/overview`. */
async function overviewFromLists() {
  const [failures, alerts, unmatched, drift, channels, status] = await Promise.all([
    get('/v1/sync/failures'),
    getAll('/v1/alerts'),
    getAll('/v1/inbound/unmatched'),
    getAll('/v1/inbound/drift'),
    getAll('/v1/channels'),
    get('/v1/sync/status'),
  ]);
  const open = alerts.items.filter((a) => !a.acknowledged_at);
  const since = Date.now() - DAY_MS;
  const byChannel = new Map(channels.items.map((c) => [c.channel, { listings: 0, pending: 0, failures: 0, lag_ms: null }]));
  for (const s of status.items) {
    const c = byChannel.get(s.channel);
    if (!c) continue;
    c.listings += 1;
    if (s.pending_version !== null && s.pending_version !== undefined) c.pending += 1;
    c.lag_ms = Math.max(c.lag_ms ?? 0, s.lag_ms ?? 0);
  }
  for (const f of failures.items) {
    const c = byChannel.get(f.channel);
    if (c) c.failures += 1;
  }
  return {
    generated_at: Date.now(),
    partial: true,
    attention: {
      sync_failures: failures.items.length,
      dead_letters: null,
      alerts_open: open.length,
      alerts_open_by_kind: { oversold: open.filter((a) => a.kind === 'oversold').length },
      unmatched_lines: unmatched.items.length,
      drift: drift.items.filter((d) => Date.parse(d.received_at) >= since).length,
      channels_auth_failing: null,
      low_stock: null,
    },
    channels: channels.items.map((c) => ({ id: c.channel, kind: c.kind, enabled: c.enabled, auth_failing: null, ...byChannel.get(c.channel) })),
  };
}

/** The value of one attention count (the oversold one is by kind). */
function countOf(attention, key) {
  if (key === 'oversold') return attention.alerts_open_by_kind?.oversold ?? 0;
  return attention[key];
}

function channelStatus(c) {
  if (!c.enabled) return badge('disabled', 'off');
  if (c.auth_failing) return badge('auth failing', 'bad');
  if (c.failures) return badge('failing', 'bad');
  if (c.pending) return badge('pending', 'warn');
  return badge('in sync', 'ok');
}

export async function renderOverview(page) {
  const body = h('div', { 'aria-busy': 'true' }, h('p', { class: 'loading' }, 'Loading counts…'));
  fill(page, h('h1', {}, 'Overview'), body);
  let ov;
  try {
    ov = (await getIfBuilt('/v1/overview')) ?? (await overviewFromLists());
  } catch (e) {
    fill(body, problemBox(e, 'The overview could not be loaded'));
    body.removeAttribute('aria-busy');
    return;
  }
  const a = ov.attention;
  const cards = h(
    'ul',
    { class: 'counts', 'aria-label': 'Needs attention' },
    ATTENTION.map(([key, label, href]) => {
      const n = countOf(a, key);
      const tone = n === null || n === undefined ? 'unknown' : n > 0 ? 'attention' : 'clear';
      return h(
        'li',
        {},
        h(
          'a',
          { href, class: `count ${tone}`, dataset: { count: key }, title: n === null || n === undefined ? 'not available on this Worker yet' : null },
          h('span', { class: 'n' }, num(n)),
          h('span', { class: 'label' }, label),
        ),
      );
    }),
  );
  const channels = table(
    'Channels: sync health and lag',
    [
      { label: 'Channel', value: (c) => h('a', { href: `#/channels` }, c.id) },
      { label: 'Kind', value: (c) => c.kind },
      { label: 'Status', value: channelStatus },
      { label: 'Listings', key: 'listings', value: (c) => num(c.listings) },
      { label: 'Pending', key: 'pending', value: (c) => num(c.pending) },
      { label: 'Failures', key: 'failures', value: (c) => num(c.failures) },
      { label: 'Lag', key: 'lag_ms', value: (c) => duration(c.lag_ms) },
    ],
    ov.channels ?? [],
    { rowAttrs: (c) => ({ dataset: { channel: c.id } }), empty: 'No channels connected yet.' },
  );
  fill(
    body,
    h('section', { 'aria-labelledby': 'attention-title' }, h('h2', { id: 'attention-title' }, 'Needs attention'), cards),
    h('section', { 'aria-labelledby': 'channels-title' }, h('h2', { id: 'channels-title' }, 'Channels'), channels),
    h(
      'p',
      { class: 'hint' },
      ov.skus === undefined ? '' : `${num(ov.skus)} SKUs · `,
      'as of ',
      new Date(ov.generated_at).toLocaleTimeString('en-GB'),
      ov.partial ? ' · counted from the list endpoints (GET /v1/overview is not on this Worker)' : '',
    ),
  );
  body.removeAttribute('aria-busy');
  performance.mark('stockedge:overview-rendered');
}
