// Where the session's tokens live: the access token in memory (mirrored to
// sessionStorage so a reload of the tab keeps it), the refresh token in localStorage
// (so a new tab or a restarted browser can get a fresh access token).
import type { TokenPair } from './types';

const ACCESS_KEY = 'tripdesk.accessToken';
const REFRESH_KEY = 'tripdesk.refreshToken';

function read(storage: Storage | undefined, key: string): string | null {
  try {
    return storage?.getItem(key) ?? null;
  } catch {
    return null;
  }
}

function write(storage: Storage | undefined, key: string, value: string | null): void {
  try {
    if (value === null) storage?.removeItem(key);
    else storage?.setItem(key, value);
  } catch {
    // Storage may be unavailable (private mode, quota): memory still works.
  }
}

const session = typeof window !== 'undefined' ? window.sessionStorage : undefined;
const local = typeof window !== 'undefined' ? window.localStorage : undefined;

let accessToken: string | null = read(session, ACCESS_KEY);

export const tokens = {
  access(): string | null {
    return accessToken;
  },
  refresh(): string | null {
    return read(local, REFRESH_KEY);
  },
  /** True when there is anything to resume a session with. */
  hasSession(): boolean {
    return accessToken !== null || this.refresh() !== null;
  },
  set(pair: TokenPair): void {
    accessToken = pair.accessToken;
    write(session, ACCESS_KEY, pair.accessToken);
    write(local, REFRESH_KEY, pair.refreshToken);
  },
  clear(): void {
    accessToken = null;
    write(session, ACCESS_KEY, null);
    write(local, REFRESH_KEY, null);
  },
  /** Re-reads storage (tests). */
  reload(): void {
    accessToken = read(session, ACCESS_KEY);
  },
};
