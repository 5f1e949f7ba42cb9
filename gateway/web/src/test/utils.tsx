// Test helpers: a fetch mock that answers API routes, and render helpers.
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { render } from '@testing-library/react';
import type { ReactElement, ReactNode } from 'react';
import { MemoryRouter } from 'react-router-dom';
import { vi } from 'vitest';
import { AppRoutes, Providers } from '../App';
import type { Agent, PermissionSet, Role } from '../api/types';
import { StaticAuthProvider, type AuthState } from '../auth/AuthContext';

export interface MockCall {
  method: string;
  path: string;
  url: string;
  body: unknown;
  headers: Record<string, string>;
}

type Reply = { status?: number; body: unknown; headers?: Record<string, string> };
type Handler = Reply | ((call: MockCall) => Reply);

export function ok(data: unknown, pagination?: unknown): Reply {
  return { status: 200, body: pagination ? { success: true, data, pagination } : { success: true, data } };
}

export function fail(status: number, code: string, message: string, details?: Record<string, unknown>, headers?: Record<string, string>): Reply {
  return { status, body: { success: false, error: { code, message, details } }, headers };
}

/** Replaces fetch; routes are "METHOD /path" (no query string). Unknown routes 404. */
export function mockApi(routes: Record<string, Handler>) {
  const calls: MockCall[] = [];
  const fn = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const method = (init?.method ?? 'GET').toUpperCase();
    const path = url.replace(/^https?:\/\/[^/]+/, '').split('?')[0];
    const body = typeof init?.body === 'string' ? JSON.parse(init.body) : undefined;
    const headers = (init?.headers ?? {}) as Record<string, string>;
    const call = { method, path, url, body, headers };
    calls.push(call);
    const h = routes[`${method} ${path}`];
    const reply: Reply = h === undefined ? fail(404, 'NOT_FOUND', 'No such route') : typeof h === 'function' ? h(call) : h;
    return new Response(JSON.stringify(reply.body), {
      status: reply.status ?? 200,
      headers: { 'Content-Type': 'application/json', ...(reply.headers ?? {}) },
    });
  });
  vi.stubGlobal('fetch', fn);
  return { fn, calls, called: (method: string, path: string) => calls.filter((c) => c.method === method && c.path === path) };
}

export function testQueryClient(): QueryClient {
  return new QueryClient({ defaultOptions: { queries: { retry: false, staleTime: Infinity }, mutations: { retry: false } } });
}

export function makeAgent(over: Partial<Agent> = {}): Agent {
  return {
    _id: 'a1',
    email: 'asha@sunrise.travel',
    firstName: 'Asha',
    lastName: 'Rao',
    phone: '+91 98765 43210',
    agencyName: 'Sunrise Travel',
    role: 'super_admin',
    status: 'active',
    createdAt: '2026-01-10T09:00:00.000Z',
    updatedAt: '2026-01-10T09:00:00.000Z',
    lastLoginAt: '2026-02-01T09:00:00.000Z',
    version: 1,
    ...over,
  };
}

/** Renders the whole app (real AuthProvider) at a path. */
export function renderApp(path: string) {
  return render(
    <MemoryRouter initialEntries={[path]}>
      <Providers client={testQueryClient()}>
        <AppRoutes />
      </Providers>
    </MemoryRouter>,
  );
}

export function staticAuth(role: Role, permissions: PermissionSet = {}, over: Partial<AuthState> = {}): AuthState {
  return {
    status: 'authenticated',
    agent: makeAgent({ role }),
    permissions,
    notice: null,
    error: null,
    login: vi.fn(),
    logout: vi.fn(async () => {}),
    retry: vi.fn(),
    clearNotice: vi.fn(),
    ...over,
  };
}

/** Renders an element with a fixed signed-in agent. */
export function renderAs(auth: AuthState, ui: ReactElement, path = '/') {
  const Wrapper = ({ children }: { children: ReactNode }) => (
    <MemoryRouter initialEntries={[path]}>
      <ProvidersWithStaticAuth auth={auth}>{children}</ProvidersWithStaticAuth>
    </MemoryRouter>
  );
  return render(ui, { wrapper: Wrapper });
}

function ProvidersWithStaticAuth({ auth, children }: { auth: AuthState; children: ReactNode }) {
  return (
    <QueryClientProvider client={testQueryClient()}>
      <StaticAuthProvider value={auth}>{children}</StaticAuthProvider>
    </QueryClientProvider>
  );
}
