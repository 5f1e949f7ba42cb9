import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { tokens } from '../api/tokens';
import { fail, makeAgent, mockApi, ok, renderApp } from '../test/utils';

describe('session', () => {
  it('sends a signed-out visitor to sign in', async () => {
    mockApi({});
    renderApp('/agents');
    expect(await screen.findByRole('heading', { name: 'Sign in' })).toBeInTheDocument();
  });

  it('resumes a session after a reload with the stored token', async () => {
    window.sessionStorage.setItem('tripdesk.accessToken', 'acc');
    window.localStorage.setItem('tripdesk.refreshToken', 'ref');
    tokens.reload();
    mockApi({ 'GET /api/auth/me': ok({ agent: makeAgent({ role: 'admin' }), permissions: { canViewAllAgents: true } }) });
    renderApp('/');
    expect(await screen.findByRole('heading', { name: 'Welcome, Asha' })).toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'System health' })).toBeInTheDocument();
  });

  it('goes to sign in with a notice when the refresh fails', async () => {
    window.sessionStorage.setItem('tripdesk.accessToken', 'expired');
    window.localStorage.setItem('tripdesk.refreshToken', 'revoked');
    tokens.reload();
    mockApi({
      'GET /api/auth/me': fail(401, 'TOKEN_EXPIRED', 'The access token has expired'),
      'POST /api/auth/refresh': fail(401, 'INVALID_TOKEN', 'Refresh token revoked'),
    });
    renderApp('/agents');
    expect(await screen.findByRole('heading', { name: 'Sign in' })).toBeInTheDocument();
    expect(screen.getByText('Your session has expired. Please sign in again.')).toBeInTheDocument();
    expect(window.localStorage.getItem('tripdesk.refreshToken')).toBeNull();
  });

  it('keeps the session and offers a retry when auth is unavailable', async () => {
    window.sessionStorage.setItem('tripdesk.accessToken', 'acc');
    window.localStorage.setItem('tripdesk.refreshToken', 'ref');
    tokens.reload();
    mockApi({ 'GET /api/auth/me': fail(503, 'SERVICE_UNAVAILABLE', 'The auth service is unavailable', { service: 'auth' }) });
    renderApp('/');
    expect(await screen.findByRole('heading', { name: 'Cannot check your session' }, { timeout: 6000 })).toBeInTheDocument();
    expect(screen.getByTestId('service-banner')).toBeInTheDocument();
    expect(window.localStorage.getItem('tripdesk.refreshToken')).toBe('ref');
  });
});

describe('sign out', () => {
  it('tells the server, forgets the tokens and returns to sign in', async () => {
    window.sessionStorage.setItem('tripdesk.accessToken', 'acc');
    window.localStorage.setItem('tripdesk.refreshToken', 'ref');
    tokens.reload();
    const api = mockApi({
      'GET /api/auth/me': ok({ agent: makeAgent({ role: 'agent' }), permissions: {} }),
      'POST /api/auth/logout': ok({}),
    });
    renderApp('/profile');
    await userEvent.setup().click(await screen.findByRole('button', { name: 'Sign out' }));
    expect(await screen.findByRole('heading', { name: 'Sign in' })).toBeInTheDocument();
    const call = api.called('POST', '/api/auth/logout')[0];
    expect(call.body).toEqual({ refreshToken: 'ref' });
    expect(call.headers.Authorization).toBe('Bearer acc');
    expect(window.localStorage.getItem('tripdesk.refreshToken')).toBeNull();
    expect(window.sessionStorage.getItem('tripdesk.accessToken')).toBeNull();
  });
});
