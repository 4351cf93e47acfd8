// `fetch` for the end-to-end tests, with a backstop against answers that stall in wrangler's dev
// stack: a read (GET or HEAD) unanswered for READ_STALL_MS is sent again once. Writes are never
// sent again here. The known cause, wrangler's dev proxy parking a read whose connection the
// runtime had just closed, is patched (patches/wrangler+4.86.0.patch, docs/testing.md).

/**
 * How long a read (GET or HEAD, without a caller's own signal) may go unanswered before it is
 * sent again. Under `wrangler dev` an answer the Worker has already written can stall in the dev
 * stack: a loaded CI machine once held a `GET /v1/skus/…` that the Worker answered in 57 ms (its
 * request log line) for 300 s, until the client gave up, failing the test and costing five
 * minutes. A read changes nothing, so asking again is safe; writes are never resent here.
 */
export const READ_STALL_MS = 45_000;
/** Reads that stalled and were sent again in this process (printed at exit). */
let stalledReads = 0;
process.on('exit', () => {
  if (stalledReads) process.stderr.write(`# reads sent again after a stall in the dev stack: ${stalledReads}\n`);
});

/**
 * `fetch` and the answer's text, with the read-stall guard above: a GET or HEAD without its own
 * `signal` is sent again once if it is unanswered after [`READ_STALL_MS`]. Resolves to
 * `{ res, text }`.
 */
export async function exchange(target, init, signal) {
  const method = init.method.toUpperCase();
  const read = (method === 'GET' || method === 'HEAD') && !signal;
  for (let attempt = 1; ; attempt++) {
    const guard = read && attempt === 1 ? AbortSignal.timeout(READ_STALL_MS) : signal;
    try {
      const res = await fetch(target, { ...init, signal: guard });
      return { res, text: await res.text() };
    } catch (e) {
      if (!(read && attempt === 1 && e.name === 'TimeoutError')) throw e;
      stalledReads++;
      process.stderr.write(`# ${method} ${new URL(target).pathname} unanswered after ${READ_STALL_MS} ms: sent again\n`);
    }
  }
}
