// The JSON API, as the console calls it: the operator token from sessionStorage (never in a
// URL), JSON in and out, and every error answer turned into an ApiError carrying the problem
// document (`type`, `title`, `detail`, `errors`) the page shows.

const TOKEN_KEY = 'stockedge.operator-token';

/** The operator (admin) token of this browser tab: kept in sessionStorage only. */
export const session = {
  token: () => sessionStorage.getItem(TOKEN_KEY),
  signIn: (token) => sessionStorage.setItem(TOKEN_KEY, token),
  signOut: () => sessionStorage.removeItem(TOKEN_KEY),
};

/** An answer that was not 2xx: `status` and the problem document (or a stand-in for one). */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.title ?? `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }

  /**
   * The route itself does not exist on this Worker (an endpoint not built yet): `404 not-found`
   * from the router, which names no `resource` (an unknown alert or failure id does).
   */
  get routeMissing() {
    return this.status === 404 && this.problem.type === '/problems/not-found' && !('resource' in this.problem);
  }
}

/** Called when the token is refused (401), so that the shell can show the sign-in view. */
let onUnauthorized = () => {};
export function whenUnauthorized(fn) {
  onUnauthorized = fn;
}

/** A fresh Idempotency-Key for one operator action (a repeat of the same action reuses it). */
export function idempotencyKey() {
  return `console-${crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(36).slice(2)}`}`;
}

/**
 * One request. `body`: an object (sent as JSON) or a string / Blob (sent as is, with
 * `contentType`). Resolves to `{status, body}` (parsed JSON when the answer is JSON); rejects
 * with ApiError for any non-2xx answer and for a network failure (status 0).
 */
export async function call(method, path, { body, contentType, key, token = session.token() } = {}) {
  const headers = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (key) headers['idempotency-key'] = key;
  let payload;
  if (body !== undefined) {
    const raw = typeof body === 'string' || body instanceof Blob;
    payload = raw ? body : JSON.stringify(body);
    headers['content-type'] = contentType ?? (raw ? 'text/plain' : 'application/json');
  }
  let res;
  try {
    res = await fetch(path, { method, headers, body: payload });
  } catch (e) {
    throw new ApiError(0, { title: 'The Worker could not be reached', detail: String(e.message ?? e) });
  }
  const text = await res.text();
  let parsed = text;
  if (/json/.test(res.headers.get('content-type') ?? '') && text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
  }
  if (res.ok) return { status: res.status, body: parsed };
  const problem = parsed && typeof parsed === 'object' ? parsed : { title: `HTTP ${res.status}`, detail: text.slice(0, 300) };
  // Only the kept token's refusal signs out (a token being tried at sign-in is not kept yet).
  if (res.status === 401 && token && token === session.token()) onUnauthorized(problem);
  throw new ApiError(res.status, problem);
}

/** GET a JSON document. */
export async function get(path) {
  return (await call('GET', path)).body;
}

/** GET, or null when the route does not exist on this Worker (see ApiError.routeMissing). */
export async function getIfBuilt(path) {
  try {
    return await get(path);
  } catch (e) {
    if (e instanceof ApiError && e.routeMissing) return null;
    throw e;
  }
}

/**
 * Every item of a paged list (`items`, or the member `field`; `next` passed back as `after`), up
 * to `max` items. `complete` says whether the list ended.
 */
export async function getAll(path, { max = 5000, limit = 1000, field = 'items' } = {}) {
  const items = [];
  let after = null;
  const sep = path.includes('?') ? '&' : '?';
  do {
    const page = await get(`${path}${sep}limit=${limit}${after !== null ? `&after=${encodeURIComponent(after)}` : ''}`);
    items.push(...page[field]);
    after = page.next ?? null;
  } while (after !== null && items.length < max);
  return { items, complete: after === null };
}

/**
 * Wraps an action whose endpoint may not be on this Worker yet: a missing route resolves to a
 * note saying so instead of a bare 404.
 */
export const orNotBuilt = (fn) => async (...args) => {
  try {
    return await fn(...args);
  } catch (e) {
    if (e instanceof ApiError && e.routeMissing) return 'not available on this Worker yet';
    throw e;
  }
};

export const enc = encodeURIComponent;
