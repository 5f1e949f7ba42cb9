// The signed-in agent and their permissions (GET /api/auth/me), sign-in and sign-out.
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { isApiError, onSessionExpired } from '../api/client';
import { authApi } from '../api/endpoints';
import { tokens } from '../api/tokens';
import type { Agent, LoginRequest, MeResponse, PermissionSet } from '../api/types';

export type AuthStatus = 'loading' | 'anonymous' | 'authenticated' | 'unavailable';

export interface AuthState {
  status: AuthStatus;
  agent: Agent | null;
  permissions: PermissionSet;
  /** Why the user was sent back to sign in, if the session ended by itself. */
  notice: string | null;
  /** The error that keeps the session from being checked (status "unavailable"). */
  error: unknown;
  login(body: LoginRequest): Promise<MeResponse>;
  logout(): Promise<void>;
  retry(): void;
  clearNotice(): void;
}

const AuthContext = createContext<AuthState | null>(null);
export const ME_KEY = ['auth', 'me'] as const;

export function AuthProvider({ children }: { children: ReactNode }) {
  const qc = useQueryClient();
  const [hasSession, setHasSession] = useState(() => tokens.hasSession());
  const [notice, setNotice] = useState<string | null>(null);

  const me = useQuery({
    queryKey: ME_KEY,
    queryFn: () => authApi.me(),
    enabled: hasSession,
    staleTime: 60_000,
    retry: (count, err) => isApiError(err) && err.unavailable && count < 1,
    refetchInterval: (q) => (q.state.status === 'error' ? 5_000 : false),
  });

  useEffect(
    () =>
      onSessionExpired(() => {
        setHasSession(false);
        setNotice('Your session has expired. Please sign in again.');
        qc.clear();
      }),
    [qc],
  );

  // A 401 that was not a refreshable token error (or an empty session): sign out.
  const meError = me.error;
  useEffect(() => {
    if (isApiError(meError) && meError.status === 401) {
      tokens.clear();
      setHasSession(false);
    }
  }, [meError]);

  const login = useCallback(
    async (body: LoginRequest) => {
      await authApi.login(body);
      let data: MeResponse;
      try {
        data = await authApi.me();
      } catch (e) {
        tokens.clear(); // signed in but the profile is unreadable: do not half-keep the session
        throw e;
      }
      qc.setQueryData(ME_KEY, data);
      setNotice(null);
      setHasSession(true);
      return data;
    },
    [qc],
  );

  const logout = useCallback(async () => {
    await authApi.logout();
    setHasSession(false);
    setNotice(null);
    qc.clear();
  }, [qc]);

  const retry = useCallback(() => void me.refetch(), [me]);
  const clearNotice = useCallback(() => setNotice(null), []);

  let status: AuthStatus;
  if (!hasSession) status = 'anonymous';
  else if (me.data) status = 'authenticated';
  else if (me.isError) status = isApiError(me.error) && me.error.status === 401 ? 'anonymous' : 'unavailable';
  else status = 'loading';

  const value = useMemo<AuthState>(
    () => ({
      status,
      agent: status === 'authenticated' ? (me.data?.agent ?? null) : null,
      permissions: status === 'authenticated' ? (me.data?.permissions ?? {}) : {},
      notice,
      error: status === 'unavailable' ? me.error : null,
      login,
      logout,
      retry,
      clearNotice,
    }),
    [status, me.data, me.error, notice, login, logout, retry, clearNotice],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthState {
  const ctx = useContext(AuthContext);
  if (!ctx) throw new Error('useAuth must be used inside <AuthProvider>');
  return ctx;
}

/** For tests and previews: a fixed auth state. */
export function StaticAuthProvider({ value, children }: { value: AuthState; children: ReactNode }) {
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}
