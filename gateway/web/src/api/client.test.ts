import { afterEach, describe, expect, it, vi } from 'vitest';
import { fail, mockApi, ok } from '../test/utils';
import { ApiError, api, onSessionExpired } from './client';
import { tokens } from './tokens';

afterEach(() => tokens.clear());

describe('api client', () => {
  it('unwraps data and pagination', async () => {
    const pagination = { page: 2, limit: 1, totalDocs: 3, totalPages: 3, hasNext: true, hasPrev: true };
    mockApi({ 'GET /api/agents': ok([{ _id: 'x' }], pagination) });
    tokens.set({ accessToken: 'a', refreshToken: 'r', expiresIn: 60 });
    const page = await api.page('/api/agents', { query: { page: 2, limit: 1, status: '' } });
    expect(page.items).toEqual([{ _id: 'x' }]);
    expect(page.pagination).toEqual(pagination);
  });

  it('drops empty query parameters', async () => {
    const m = mockApi({ 'GET /api/agents': ok([]) });
    tokens.set({ accessToken: 'a', refreshToken: 'r', expiresIn: 60 });
    await api.page('/api/agents', { query: { page: 1, status: '', role: undefined, search: 'ra vi' } });
    expect(m.calls[0].url).toBe('/api/agents?page=1&search=ra+vi');
  });

  it('refreshes an expired token once and retries', async () => {
    tokens.set({ accessToken: 'old', refreshToken: 'r1', expiresIn: 60 });
    const m = mockApi({
      'GET /api/auth/me': (c) =>
        c.headers.Authorization === 'Bearer new' ? ok({ me: true }) : fail(401, 'TOKEN_EXPIRED', 'The access token has expired'),
      'POST /api/auth/refresh': ok({ accessToken: 'new', refreshToken: 'r2', expiresIn: 900, agent: {} }),
    });
    const [a, b] = await Promise.all([api.get('/api/auth/me'), api.get('/api/auth/me')]);
    expect(a).toEqual({ me: true });
    expect(b).toEqual({ me: true });
    expect(m.called('POST', '/api/auth/refresh')).toHaveLength(1);
    expect(m.called('POST', '/api/auth/refresh')[0].body).toEqual({ refreshToken: 'r1' });
    expect(tokens.access()).toBe('new');
    expect(tokens.refresh()).toBe('r2');
  });

  it('ends the session when the refresh fails', async () => {
    tokens.set({ accessToken: 'old', refreshToken: 'r1', expiresIn: 60 });
    mockApi({
      'GET /api/agents': fail(401, 'INVALID_TOKEN', 'bad token'),
      'POST /api/auth/refresh': fail(401, 'INVALID_TOKEN', 'refresh token revoked'),
    });
    const expired = vi.fn();
    const off = onSessionExpired(expired);
    await expect(api.get('/api/agents')).rejects.toMatchObject({ status: 401, code: 'SESSION_EXPIRED' });
    off();
    expect(expired).toHaveBeenCalledTimes(1);
    expect(tokens.access()).toBeNull();
    expect(tokens.refresh()).toBeNull();
  });

  it('does not refresh on wrong credentials', async () => {
    tokens.set({ accessToken: 'a', refreshToken: 'r', expiresIn: 60 });
    const m = mockApi({ 'PUT /api/auth/password': fail(401, 'INVALID_CREDENTIALS', 'Current password is wrong') });
    await expect(api.put('/api/auth/password', {})).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
    expect(m.called('POST', '/api/auth/refresh')).toHaveLength(0);
    expect(tokens.access()).toBe('a');
  });

  it('marks 503 and 504 as unavailable and names the service', async () => {
    tokens.set({ accessToken: 'a', refreshToken: 'r', expiresIn: 60 });
    mockApi({
      'GET /api/agents': fail(503, 'SERVICE_UNAVAILABLE', 'The auth service is unavailable', { service: 'auth' }),
      'GET /api/bookings': fail(504, 'SERVICE_TIMEOUT', 'The booking service did not answer in time', { service: 'booking' }),
    });
    const e1 = await api.get('/api/agents').catch((e: ApiError) => e);
    expect(e1).toBeInstanceOf(ApiError);
    expect((e1 as ApiError).unavailable).toBe(true);
    expect((e1 as ApiError).service).toBe('auth');
    const e2 = (await api.get('/api/bookings').catch((e: ApiError) => e)) as ApiError;
    expect(e2.status).toBe(504);
    expect(e2.service).toBe('booking');
  });

  it('turns a network failure into a NETWORK_ERROR', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => Promise.reject(new TypeError('Failed to fetch'))));
    const e = (await api.get('/api/health', { auth: false }).catch((x: ApiError) => x)) as ApiError;
    expect(e.code).toBe('NETWORK_ERROR');
    expect(e.unavailable).toBe(true);
  });

  it('gets an access token first in a new tab that only has the refresh token', async () => {
    window.localStorage.setItem('tripdesk.refreshToken', 'r1');
    tokens.reload();
    const m = mockApi({
      'POST /api/auth/refresh': ok({ accessToken: 'fresh', refreshToken: 'r2', expiresIn: 900, agent: {} }),
      'GET /api/auth/me': ok({ ok: 1 }),
    });
    await api.get('/api/auth/me');
    expect(m.calls.map((c) => `${c.method} ${c.path}`)).toEqual(['POST /api/auth/refresh', 'GET /api/auth/me']);
    expect(m.calls[1].headers.Authorization).toBe('Bearer fresh');
  });
});
