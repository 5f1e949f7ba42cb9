import { QueryClientProvider } from '@tanstack/react-query';
import { act, render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { api, clientSettings } from '../api/client';
import { tokens } from '../api/tokens';
import { fail, makeAgent, mockApi, ok, renderApp, testQueryClient } from '../test/utils';
import { ConnectionBanner } from './ConnectionBanner';

const DEFAULT_TIMEOUT = clientSettings.timeoutMs;

function signedIn() {
  window.sessionStorage.setItem('tripdesk.accessToken', 'acc');
  window.localStorage.setItem('tripdesk.refreshToken', 'ref');
  tokens.reload();
}

/** fetch as it fails when nothing listens on the gateway's port. */
function gatewayDown() {
  const fn = vi.fn(async () => {
    throw new TypeError('Failed to fetch');
  });
  vi.stubGlobal('fetch', fn);
  return fn;
}

/** fetch that never answers (a hung gateway) but honours an abort. */
function gatewayHung() {
  vi.stubGlobal(
    'fetch',
    vi.fn(
      (_input: RequestInfo | URL, init?: RequestInit) =>
        new Promise<Response>((_resolve, reject) => {
          init?.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
        }),
    ),
  );
}

const me = () => ok({ agent: makeAgent({ role: 'admin' }), permissions: {} });

afterEach(() => {
  clientSettings.timeoutMs = DEFAULT_TIMEOUT;
  vi.unstubAllGlobals();
});

describe('ConnectionBanner', () => {
  it('replaces an endless loading state with a banner when the gateway is down, and recovers on Retry', async () => {
    signedIn();
    gatewayDown();
    renderApp('/');
    const banner = await screen.findByTestId('connection-banner');
    expect(banner).toHaveTextContent('Cannot reach the TripDesk gateway');
    expect(await screen.findByRole('heading', { name: 'Cannot check your session' })).toBeInTheDocument();
    expect(screen.queryByText('Checking your session…')).not.toBeInTheDocument();

    const routes = mockApi({ 'GET /api/health': ok({ status: 'ok' }), 'GET /api/auth/me': me() });
    await userEvent.setup().click(screen.getByRole('button', { name: 'Retry' }));
    await waitFor(() => expect(screen.queryByTestId('connection-banner')).not.toBeInTheDocument());
    expect(routes.called('GET', '/api/health')).toHaveLength(1);
    // Back again, the page's data is fetched once more: no page is left waiting.
    expect(await screen.findByRole('heading', { name: 'Welcome, Asha' })).toBeInTheDocument();
  });

  it('shows the banner when a request gets no answer within the timeout', async () => {
    clientSettings.timeoutMs = 100;
    signedIn();
    gatewayHung();
    renderApp('/');
    expect(screen.getByText('Checking your session…')).toBeInTheDocument();
    expect(await screen.findByTestId('connection-banner')).toBeInTheDocument();
    expect(await screen.findByRole('heading', { name: 'Cannot check your session' })).toBeInTheDocument();
    expect(screen.queryByText('Checking your session…')).not.toBeInTheDocument();
  });

  it('checks again by itself and disappears once the gateway answers', async () => {
    gatewayDown();
    render(
      <QueryClientProvider client={testQueryClient()}>
        <ConnectionBanner probeIntervalMs={50} />
      </QueryClientProvider>,
    );
    expect(screen.queryByTestId('connection-banner')).not.toBeInTheDocument();
    await act(async () => {
      await expect(api.get('/api/agents')).rejects.toMatchObject({ status: 0, code: 'NETWORK_ERROR' });
    });
    expect(screen.getByTestId('connection-banner')).toBeInTheDocument();
    const routes = mockApi({ 'GET /api/health': ok({ status: 'ok' }) });
    await waitFor(() => expect(screen.queryByTestId('connection-banner')).not.toBeInTheDocument());
    expect(routes.called('GET', '/api/health').length).toBeGreaterThanOrEqual(1);
  });

  it('stays hidden when the gateway answers, even with an error', async () => {
    signedIn();
    mockApi({ 'GET /api/auth/me': fail(503, 'SERVICE_UNAVAILABLE', 'The auth service is unavailable', { service: 'auth' }) });
    renderApp('/');
    expect(await screen.findByRole('heading', { name: 'Cannot check your session' }, { timeout: 6000 })).toBeInTheDocument();
    expect(screen.queryByTestId('connection-banner')).not.toBeInTheDocument();
  });

  it('lets a caller cancel a request without marking the gateway unreachable', async () => {
    gatewayHung();
    const ctl = new AbortController();
    const p = api.get('/api/agents', { signal: ctl.signal });
    ctl.abort();
    await expect(p).rejects.toMatchObject({ name: 'AbortError' });
    render(
      <QueryClientProvider client={testQueryClient()}>
        <ConnectionBanner />
      </QueryClientProvider>,
    );
    expect(screen.queryByTestId('connection-banner')).not.toBeInTheDocument();
  });
});
