// Import: upload a stock CSV (`POST /v1/imports`), see the dry-run report (rows, the change per
// SKU and location, errors with line and column), apply it, and follow a job's progress
// (`GET /v1/imports/{id}`) with a progress bar.

import { call, enc, get, idempotencyKey } from '../api.js';
import { fill, h, num, problemBox, skuLink, table } from '../dom.js';

const FORMATS = [
  ['', 'Detect from the header'],
  ['csv', 'Plain CSV (sku,quantity[,location])'],
  ['shopify', 'Shopify product CSV'],
  ['shopify-inventory', 'Shopify inventory CSV'],
  ['woocommerce', 'WooCommerce product CSV'],
];
const POLL_MS = 1000;

function summary(report) {
  const s = report.summary ?? {};
  return h(
    'dl',
    { class: 'totals', 'aria-label': 'Summary' },
    ['rows', 'applied', 'unchanged', 'skipped', 'superseded', 'errors', 'changes'].map((k) =>
      h('div', { dataset: { field: k }, class: k === 'errors' && s[k] ? 'bad' : null }, h('dt', {}, k), h('dd', {}, num(s[k]))),
    ),
  );
}

/** `3 → 10 (+7)`; `new → 4` for a SKU (or location) that has no stock yet. */
function change(r) {
  if (r.after === undefined || r.after === null) return '';
  if (r.before === undefined || r.before === null) return `new → ${num(r.after)}`;
  const d = r.after - r.before;
  return `${num(r.before)} → ${num(r.after)} (${d > 0 ? '+' : ''}${d})`;
}

function rowsTable(rows, dryRun) {
  const errors = rows.filter((r) => r.status === 'error');
  return h(
    'div',
    {},
    errors.length
      ? h(
          'section',
          { 'aria-labelledby': 'import-errors', class: 'problem' },
          h('h3', { id: 'import-errors' }, `Errors (${errors.length})`),
          h('ul', {}, errors.map((r) => h('li', { dataset: { line: r.line } }, `line ${r.line}${r.column ? `, column ${r.column}` : ''}: ${r.message}`))),
        )
      : null,
    table(
      dryRun ? 'What the file would change' : 'What the file changed',
      [
        { label: 'Line', value: (r) => String(r.line) },
        { label: 'Status', key: 'status', value: (r) => r.status },
        { label: 'SKU', value: (r) => skuLink(r.sku) },
        { label: 'Location', value: (r) => r.location ?? '' },
        { label: 'Quantity', value: (r) => num(r.quantity) },
        { label: 'Change', key: 'change', value: change },
        { label: 'Message', value: (r) => (r.column ? `column ${r.column}: ` : '') + (r.message ?? '') },
      ],
      rows,
      { rowAttrs: (r) => ({ dataset: { line: r.line, sku: r.sku ?? '' } }) },
    ),
  );
}

/** Follows a queued job until done, moving the progress bar; resolves to the final job. */
async function follow(job, bar, label) {
  let j = job;
  while (true) {
    const p = j.progress ?? {};
    bar.max = Math.max(1, p.chunks ?? 1);
    bar.value = p.chunks_done ?? 0;
    fill(label, `${j.status}: ${num(p.chunks_done)} of ${num(p.chunks)} chunks (${num(p.rows)} rows, ${num(p.skus)} SKUs)`);
    if (j.status === 'done') return j;
    await new Promise((r) => setTimeout(r, POLL_MS));
    j = await get(`/v1/imports/${enc(j.import_id)}?limit=5000`);
  }
}

export async function renderImport(page) {
  const file = h('input', { id: 'import-file', name: 'file', type: 'file', accept: '.csv,text/csv', required: true });
  const format = h('select', { id: 'import-format', name: 'format' }, FORMATS.map(([v, l]) => h('option', { value: v }, l)));
  const mode = h('select', { id: 'import-mode', name: 'mode' }, h('option', { value: 'set' }, 'Set the quantities'), h('option', { value: 'adjust' }, 'Add the quantities'));
  const out = h('div', { 'aria-live': 'polite', id: 'import-report' });
  const applyBtn = h('button', { type: 'button', class: 'primary', disabled: true, id: 'import-apply' }, 'Apply');
  let checked = null; // {text, query} of the last dry run
  const query = (dryRun) => `?dry_run=${dryRun}&mode=${mode.value}${format.value ? `&format=${format.value}` : ''}`;

  async function send(dryRun) {
    const f = file.files?.[0];
    if (!f || (!dryRun && !checked)) {
      fill(out, h('p', { class: 'problem', role: 'alert' }, 'Choose a CSV file and run a dry run first.'));
      return;
    }
    // Apply sends exactly the text the dry run checked.
    const text = dryRun ? await f.text() : checked.text;
    fill(out, h('p', { class: 'loading' }, dryRun ? 'Checking…' : 'Applying…'));
    try {
      const r = await call('POST', `/v1/imports${dryRun ? query(true) : checked.query}`, { body: text, contentType: 'text/csv', key: dryRun ? undefined : checked.key });
      let report = r.body;
      const heading = h('h2', {}, dryRun ? 'Dry run: nothing changed yet' : 'Applied');
      if (r.status === 202) {
        const bar = h('progress', { id: 'import-progress', max: 1, value: 0, 'aria-label': 'Import progress' });
        const label = h('p', { 'aria-live': 'polite' });
        fill(out, heading, h('label', { for: 'import-progress' }, `Job ${report.import_id}`), bar, label);
        report = await follow(report, bar, label);
        out.append(summary(report), rowsTable(report.rows ?? [], dryRun));
      } else {
        fill(out, heading, h('p', { class: 'hint' }, `${report.import_id} · format ${report.format} (${report.basis} counts) · mode ${report.mode}`), summary(report), rowsTable(report.rows ?? [], dryRun));
      }
      if (dryRun) {
        checked = { text, query: query(false), key: idempotencyKey() };
        applyBtn.disabled = (report.summary?.rows ?? 0) === 0;
      } else {
        applyBtn.disabled = true;
      }
    } catch (e) {
      fill(out, problemBox(e, dryRun ? 'The file was not checked' : 'The file was not applied'));
    }
  }

  // A changed file or option needs a new dry run before it can be applied.
  for (const input of [file, format, mode]) {
    input.addEventListener('change', () => {
      checked = null;
      applyBtn.disabled = true;
    });
  }
  applyBtn.addEventListener('click', () => send(false));
  fill(
    page,
    h('h1', {}, 'Import stock'),
    h(
      'form',
      { class: 'card', 'aria-labelledby': 'import-title', onsubmit: (ev) => (ev.preventDefault(), send(true)) },
      h('h2', { id: 'import-title' }, 'Upload a CSV'),
      h('div', { class: 'row' }, h('label', { for: 'import-file' }, 'CSV file'), file),
      h('div', { class: 'row' }, h('label', { for: 'import-format' }, 'Format'), format),
      h('div', { class: 'row' }, h('label', { for: 'import-mode' }, 'Mode'), mode),
      h('div', { class: 'buttons' }, h('button', { type: 'submit', id: 'import-dry-run' }, 'Dry run'), applyBtn),
      h('p', { class: 'hint' }, 'A dry run reports every row and changes nothing; Apply sends the same file once (a repeat applies nothing twice).'),
    ),
    out,
  );
}
