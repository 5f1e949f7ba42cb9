// The HTTP client: unwraps the API envelope, turns errors into ApiError, and keeps
// the session alive. On a 401 TOKEN_EXPIRED / INVALID_TOKEN it calls
// POST /api/auth/refresh once (shared by concurrent requests) and retries the request;
// when that fails the session is over and listeners (the AuthProvider) send the user
// to /login. It also tracks whether the gateway answers at all: a request that gets no
// HTTP response (network error, or none within settings.timeoutMs) marks it
// unreachable, any response marks it reachable again (ConnectionBanner shows it).
import { tokens } from './tokens';
import type { Envelope, Page, Pagination, RefreshResponse } from './types';

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: Record<string, unknown>;
  /** Seconds from a Retry-After header, when the server sent one. */
  readonly retryAfter: number | null;

  constructor(
    status: number,
    code: string,
    message: string,
    details?: Record<string, unknown> | null,
    retryAfter: number | null = null,
  ) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details ?? {};
    this.retryAfter = retryAfter;
  }

  /** The request field a validation error is about (details.field). */
  get field(): string | null {
    const f = this.details.field;
    return typeof f === 'string' && f !== '' ? f : null;
  }

  /** The backend service that could not answer (details.service). */
  get service(): string | null {
    const s = this.details.service;
    return typeof s === 'string' && s !== '' ? s : null;
  }

  /** A service or the server could not be reached: worth a banner and a retry. */
  get unavailable(): boolean {
    return this.status === 503 || this.status === 504 || this.status === 0;
  }
}

export function isApiError(e: unknown): e is ApiError {
  return e instanceof ApiError;
}

type Query = Record<string, string | number | boolean | null | undefined>;

export interface RequestOptions {
  body?: unknown;
  query?: Query;
  /** Send the access token (default true). Public endpoints pass false. */
  auth?: boolean;
  signal?: AbortSignal;
  /** Extra request headers (e.g. Idempotency-Key). */
  headers?: Record<string, string>;
}

export interface ApiResult<T> {
  data: T;
  pagination?: Pagination;
  /** The X-Cache header of a cached list (HIT, MISS or BYPASS), if any. */
  cache?: string | null;
}

// ---- session-expiry listeners ---------------------------------------------------

type Listener = () => void;
const expiredListeners = new Set<Listener>();

/** Called when the session cannot be kept alive; returns an unsubscribe function. */
export function onSessionExpired(fn: Listener): () => void {
  expiredListeners.add(fn);
  return () => expiredListeners.delete(fn);
}

function sessionExpired(): void {
  tokens.clear();
  for (const fn of [...expiredListeners]) fn();
}

// ---- gateway reachability -------------------------------------------------------

/** Client settings; tests shorten them. */
export const clientSettings = {
  /** A request with no HTTP response after this long counts as unreachable. The
   * gateway answers 504 after its own deadline (TRIPDESK_REQUEST_TIMEOUT_MS, 5 s by
   * default), so only a gateway that is down, hung or cut off gets here. */
  timeoutMs: 15_000,
};

let reachable = true;
const reachListeners = new Set<Listener>();

/** False after a request got no HTTP response, until one gets any response. */
export function gatewayReachable(): boolean {
  return reachable;
}

/** Called whenever gatewayReachable() changes; returns an unsubscribe function. */
export function onReachabilityChange(fn: Listener): () => void {
  reachListeners.add(fn);
  return () => reachListeners.delete(fn);
}

function setReachable(value: boolean): void {
  if (reachable === value) return;
  reachable = value;
  for (const fn of [...reachListeners]) fn();
}

/** Forgets an unreachable gateway (tests start each case from a reachable one). */
export function resetReachability(): void {
  setReachable(true);
}

/** Asks the gateway for GET /api/health (public); true when it answered at all. */
export async function probeGateway(): Promise<boolean> {
  try {
    const res = await send('GET', '/api/health', {}, null);
    await res.arrayBuffer().catch(() => undefined);
    return true;
  } catch {
    return false;
  }
}

// ---- plumbing -------------------------------------------------------------------

const REFRESHABLE = new Set(['TOKEN_EXPIRED', 'INVALID_TOKEN']);

function buildUrl(path: string, query?: Query): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null || v === '') continue;
    params.set(k, String(v));
  }
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

function parseRetryAfter(res: Response): number | null {
  const h = res.headers.get('Retry-After');
  if (!h) return null;
  const n = Number(h);
  if (Number.isFinite(n)) return Math.max(0, Math.ceil(n));
  const when = Date.parse(h);
  return Number.isNaN(when) ? null : Math.max(0, Math.ceil((when - Date.now()) / 1000));
}

async function send(method: string, url: string, opts: RequestOptions, token: string | null) {
  const headers: Record<string, string> = { Accept: 'application/json', ...(opts.headers ?? {}) };
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = `Bearer ${token}`;
  // The caller's signal aborts the request as before; the timer aborts it too, and
  // that abort is reported as an unreachable server rather than a cancellation.
  const ctl = new AbortController();
  let timedOut = false;
  const onAbort = () => ctl.abort();
  if (opts.signal?.aborted) ctl.abort();
  opts.signal?.addEventListener('abort', onAbort);
  const timer = setTimeout(() => {
    timedOut = true;
    ctl.abort();
  }, clientSettings.timeoutMs);
  try {
    const res = await fetch(url, {
      method,
      headers,
      body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined,
      signal: ctl.signal,
      credentials: 'same-origin',
    });
    setReachable(true);
    return res;
  } catch (e) {
    if (!timedOut && opts.signal?.aborted) throw e;
    setReachable(false);
    if (timedOut) {
      throw new ApiError(0, 'NETWORK_TIMEOUT', 'The TripDesk server did not answer. Check your connection.');
    }
    throw new ApiError(0, 'NETWORK_ERROR', 'Cannot reach the TripDesk server. Check your connection.');
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onAbort);
  }
}

async function parse<T>(res: Response): Promise<ApiResult<T>> {
  let body: Envelope<T> | null = null;
  try {
    body = (await res.json()) as Envelope<T>;
  } catch {
    body = null;
  }
  if (body && typeof body === 'object' && 'success' in body) {
    if (body.success === true && res.ok) {
      return { data: body.data, pagination: body.pagination, cache: res.headers?.get?.('X-Cache') ?? null };
    }
    if (body.success === false && body.error) {
      throw new ApiError(
        res.status,
        body.error.code || `HTTP_${res.status}`,
        body.error.message || res.statusText || 'Request failed',
        body.error.details ?? null,
        parseRetryAfter(res),
      );
    }
  }
  if (res.ok) throw new ApiError(res.status, 'BAD_RESPONSE', 'The server sent an unexpected response.');
  const fallback: Record<number, string> = {
    503: 'The service is temporarily unavailable.',
    504: 'The service did not answer in time.',
  };
  throw new ApiError(
    res.status,
    `HTTP_${res.status}`,
    fallback[res.status] ?? `Request failed (HTTP ${res.status}).`,
    null,
    parseRetryAfter(res),
  );
}

// ---- refresh --------------------------------------------------------------------

let refreshing: Promise<boolean> | null = null;

async function doRefresh(): Promise<boolean> {
  const refreshToken = tokens.refresh();
  if (!refreshToken) return false;
  try {
    const res = await send('POST', '/api/auth/refresh', { body: { refreshToken } }, null);
    const { data } = await parse<RefreshResponse>(res);
    tokens.set(data);
    return true;
  } catch (e) {
    // An unreachable auth service is not an expired session: keep the tokens.
    if (isApiError(e) && e.unavailable) throw e;
    return false;
  }
}

/** Gets a new access token with the refresh token; concurrent callers share one call. */
export function refreshSession(): Promise<boolean> {
  if (!refreshing) refreshing = doRefresh().finally(() => (refreshing = null));
  return refreshing;
}

// ---- the request function -------------------------------------------------------

export async function request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<ApiResult<T>> {
  const auth = opts.auth !== false;
  const url = buildUrl(path, opts.query);

  // A new tab has the refresh token but no access token yet.
  if (auth && !tokens.access() && tokens.refresh()) {
    if (!(await refreshSession())) {
      sessionExpired();
      throw new ApiError(401, 'SESSION_EXPIRED', 'Your session has expired. Please sign in again.');
    }
  }

  let res = await send(method, url, opts, auth ? tokens.access() : null);
  if (auth && res.status === 401) {
    const code = await peekCode(res);
    if (code !== null && REFRESHABLE.has(code)) {
      if (await refreshSession()) {
        res = await send(method, url, opts, tokens.access());
        if (res.status !== 401) return parse<T>(res);
      }
      sessionExpired();
      throw new ApiError(401, 'SESSION_EXPIRED', 'Your session has expired. Please sign in again.');
    }
    if (code === 'UNAUTHORIZED') {
      sessionExpired();
      throw new ApiError(401, 'SESSION_EXPIRED', 'Please sign in to continue.');
    }
  }
  return parse<T>(res);
}

/** Reads the error code of a 401 without consuming the response. */
async function peekCode(res: Response): Promise<string | null> {
  try {
    const body = (await res.clone().json()) as Envelope<unknown>;
    return body && body.success === false && body.error ? body.error.code : null;
  } catch {
    return null;
  }
}

export const api = {
  async get<T>(path: string, opts?: RequestOptions): Promise<T> {
    return (await request<T>('GET', path, opts)).data;
  },
  async page<T>(path: string, opts?: RequestOptions): Promise<Page<T>> {
    const r = await request<T[]>('GET', path, opts);
    const items = Array.isArray(r.data) ? r.data : [];
    const pagination: Pagination = r.pagination ?? {
      page: 1,
      limit: items.length,
      totalDocs: items.length,
      totalPages: 1,
      hasNext: false,
      hasPrev: false,
    };
    return { items, pagination, cache: r.cache ?? null };
  },
  async post<T>(path: string, body?: unknown, opts?: RequestOptions): Promise<T> {
    return (await request<T>('POST', path, { ...opts, body })).data;
  },
  async put<T>(path: string, body?: unknown, opts?: RequestOptions): Promise<T> {
    return (await request<T>('PUT', path, { ...opts, body })).data;
  },
  async patch<T>(path: string, body?: unknown, opts?: RequestOptions): Promise<T> {
    return (await request<T>('PATCH', path, { ...opts, body })).data;
  },
  async delete<T>(path: string, opts?: RequestOptions): Promise<T> {
    return (await request<T>('DELETE', path, opts)).data;
  },
};
