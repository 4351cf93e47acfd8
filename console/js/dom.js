// Building the page: one element helper, tables, problem boxes, number and time formats, and the
// confirmation dialog. Text is always set as text (never parsed as HTML).

import { ApiError } from './api.js';

/**
 * `h('a', {href: '#/x', class: 'n'}, 'text', child…)`: an element. Attributes starting with `on`
 * are listeners; `dataset`/`style` objects are merged; `null`/`false` children are skipped.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'class') el.className = v;
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** Replaces the children of `el`. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/**
 * A table: `columns` are `{label, value: (row) => node|string, key?}`; `key` (a field name) puts
 * `data-field` on the cell, `rowAttrs(row)` adds attributes to the row.
 */
export function table(caption, columns, rows, { rowAttrs = () => ({}), empty = 'Nothing here.' } = {}) {
  if (!rows.length) return h('p', { class: 'empty' }, empty);
  return h(
    'div',
    { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': caption },
    h(
      'table',
      {},
      h('caption', {}, caption),
      h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col' }, c.label)))),
      h(
        'tbody',
        {},
        rows.map((r) =>
          h('tr', rowAttrs(r), columns.map((c) => h('td', c.key ? { dataset: { field: c.key } } : {}, c.value(r)))),
        ),
      ),
    ),
  );
}

/** The problem of a failed call, as the page shows it: title, detail and each faulty field. */
export function problemBox(err, context = '') {
  const p = err instanceof ApiError ? err.problem : { title: 'Something went wrong', detail: String(err?.message ?? err) };
  const status = err instanceof ApiError && err.status ? ` (${err.status})` : '';
  return h(
    'div',
    { class: 'problem', role: 'alert', dataset: { problemType: p.type ?? '' } },
    h('strong', {}, `${context ? `${context}: ` : ''}${p.title ?? 'Error'}${status}`),
    p.detail ? h('p', {}, p.detail) : null,
    Array.isArray(p.errors) && p.errors.length
      ? h('ul', {}, p.errors.map((e) => h('li', {}, h('code', {}, e.field), ` ${e.message}`)))
      : null,
  );
}

/** The box shown where an endpoint of the contract is not on this Worker yet. */
export function notAvailable(what) {
  return h('p', { class: 'not-available', role: 'note' }, `${what}: not available on this Worker yet.`);
}

export const num = (n) => (n === null || n === undefined ? '—' : Number(n).toLocaleString('en'));

/** Milliseconds as a short duration (`850 ms`, `12 s`, `3 min`, `2 h`). */
export function duration(ms) {
  if (ms === null || ms === undefined) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

/** A timestamp (RFC 3339 or ms) as a `<time>` element in the browser's locale. */
export function when(t) {
  if (t === null || t === undefined || t === '') return '—';
  const d = new Date(typeof t === 'number' ? t : String(t));
  if (Number.isNaN(d.getTime())) return String(t);
  return h('time', { datetime: d.toISOString() }, d.toLocaleString('en-GB', { dateStyle: 'short', timeStyle: 'medium' }));
}

export const skuLink = (sku) => (sku ? h('a', { href: `#/sku/${encodeURIComponent(sku)}` }, sku) : '—');

/** A status label with a colour class (`ok`, `warn`, `bad`, `off`). */
export const badge = (text, tone) => h('span', { class: `badge ${tone}` }, text);

/**
 * Asks the operator to confirm `message` in the page's modal dialog; resolves true when they
 * press the confirming button (Escape or Cancel → false).
 */
export function confirmAction(title, message, confirmLabel = 'Confirm') {
  const dialog = document.getElementById('confirm');
  fill(dialog.querySelector('h2'), title);
  fill(dialog.querySelector('p'), message);
  dialog.querySelector('button[value="ok"]').textContent = confirmLabel;
  dialog.returnValue = '';
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true });
  });
}

/** A button that disables itself while `action` runs, and shows its error next to it. */
export function actionButton(label, action, attrs = {}) {
  const out = h('span', { class: 'action-result', 'aria-live': 'polite' });
  const btn = h('button', {
    type: 'button',
    ...attrs,
    onclick: async () => {
      btn.disabled = true;
      fill(out);
      try {
        const r = await action(out);
        if (typeof r === 'string') fill(out, r);
      } catch (e) {
        fill(out, problemBox(e));
      } finally {
        btn.disabled = false;
      }
    },
  }, label);
  return h('span', { class: 'action' }, btn, out);
}
