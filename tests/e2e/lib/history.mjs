// Records invoke/return histories of calls on SKUs for the linearizability checker
// (`src/history/`: the format is `src/history/record.rs`; `cargo run --bin check-history -- FILE`
// checks a file). Each call is timed on one monotonic clock (performance.now()): `invoke` just
// before the request is sent, `return` once its whole answer is read. An answer that says nothing
// certain about what the call did — none at all (a timeout, a dropped connection), wrangler's own
// "restarted mid-request", or a 5xx (which asks for a retry) — is recorded with `outcome: null`:
// the checker takes that call as pending forever (it may have taken effect, or not), as Knossos does.

import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

/** How long a call may take before the client gives up on it (it is then pending forever). */
export const CALL_TIMEOUT_MS = 20_000;

const problem = (answer) => answer.body?.type;

/** An answer no model answers with: its status and problem type (or the start of its text). */
function unexpected(answer) {
  return { is: 'unexpected', status: answer.status, detail: String(problem(answer) ?? answer.text).slice(0, 200) };
}

/** A reservation step refused as not held: the status it names. */
function notHeld(answer) {
  return problem(answer) === '/problems/reservation-not-held'
    ? { is: 'not_held', status: answer.body.reservation_status }
    : unexpected(answer);
}

/**
 * The outcome of one call on `sku` from its answer, per call (`call.op`), in the checker's terms
 * (src/history/record.rs `Outcome`); `null` when the answer leaves it unknown.
 */
export function outcomeOf(sku, call, answer) {
  if (answer === null || answer.proxyRestart || answer.status >= 500) return null;
  const b = answer.body;
  switch (call.op) {
    case 'reserve':
      if (answer.status === 201) return { is: 'held', hold: b.id };
      if (answer.status === 409 && problem(answer) === '/problems/insufficient-stock') {
        return { is: 'short', available: b.lines[0].available };
      }
      return unexpected(answer);
    case 'commit':
      if (answer.status === 200) return b.status === 'committed' ? { is: 'committed' } : unexpected(answer);
      return answer.status === 409 ? notHeld(answer) : unexpected(answer);
    case 'release':
      if (answer.status === 200) return { is: 'released', status: b.status };
      return answer.status === 409 ? notHeld(answer) : unexpected(answer);
    case 'extend':
      if (answer.status === 200) return { is: 'extended' };
      return answer.status === 409 ? notHeld(answer) : unexpected(answer);
    case 'sale': {
      const part = answer.status === 200 ? b.skus.find((s) => s.sku === sku) : undefined;
      if (!part) return unexpected(answer);
      return { is: 'sold', effect: part.effect, available: part.available, oversold: part.oversold, version: part.version };
    }
    case 'adjust':
      if (answer.status !== 200) return unexpected(answer);
      return { is: 'adjusted', on_hand: b.on_hand, available: b.available, version: b.version };
    case 'read': {
      const item = answer.status === 200 ? b.items.find((i) => i.sku === sku) : undefined;
      if (!item) return unexpected(answer);
      return { is: 'read', available: item.available, sellable: item.sellable, version: item.version };
    }
    default:
      throw new Error(`no outcome for call ${call.op}`);
  }
}

/** Collects the histories of one run, one per SKU, and writes them as one file. */
export class HistoryRecorder {
  #histories = new Map();

  /** Starts `sku`'s history at `initial` ({on_hand, backorder_limit, version}), read before any call on it. */
  begin(sku, initial) {
    this.#histories.set(sku, { sku, initial, ops: [] });
  }

  /**
   * Makes one request for `client` and records it as one call per SKU it concerns (`calls`: [sku,
   * call] pairs; a read of several SKUs is one call on each, over the same interval). `send(signal)`
   * makes the request (the harness's `request()`, resolving to its answer). Resolves to the answer,
   * or null when there was none.
   */
  async call(client, calls, send) {
    const invoke = performance.now();
    let answer = null;
    try {
      answer = await send(AbortSignal.timeout(CALL_TIMEOUT_MS));
    } catch {
      answer = null;
    }
    const returned = performance.now();
    for (const [sku, call] of calls) {
      const h = this.#histories.get(sku);
      if (!h) throw new Error(`no history begun for ${sku}`);
      const outcome = outcomeOf(sku, call, answer);
      const op = { client, invoke, return: answer === null ? null : returned, call, outcome };
      // What an answer that left the outcome unknown said, for reports.
      if (outcome === null) op.note = answer === null ? 'no answer' : `${answer.status} ${problem(answer) ?? answer.text.slice(0, 120)}`;
      h.ops.push(op);
    }
    return answer;
  }

  get histories() {
    return [...this.#histories.values()];
  }

  /** Writes `{"histories":[...]}` to `file` (directories made as needed). */
  write(file) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, JSON.stringify({ histories: this.histories }));
    return file;
  }
}
