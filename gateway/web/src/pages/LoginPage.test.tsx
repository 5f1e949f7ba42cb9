import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { fail, makeAgent, mockApi, ok, renderApp } from '../test/utils';

const tokens = { accessToken: 'acc-1', refreshToken: 'ref-1', expiresIn: 900 };

describe('LoginPage', () => {
  it('rejects bad input before sending anything', async () => {
    const api = mockApi({});
    renderApp('/login');
    const user = userEvent.setup();
    await user.type(screen.getByLabelText('Email'), 'not-an-email');
    await user.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(await screen.findByText(/Enter a valid email address/)).toBeInTheDocument();
    expect(screen.getByText('Enter your password')).toBeInTheDocument();
    expect(screen.getByLabelText('Email')).toHaveAttribute('aria-invalid', 'true');
    expect(api.called('POST', '/api/auth/login')).toHaveLength(0);
  });

  it('asks for an email when it is empty', async () => {
    const api = mockApi({});
    renderApp('/login');
    await userEvent.setup().click(screen.getByRole('button', { name: 'Sign in' }));
    expect(await screen.findByText('Enter your email address')).toBeInTheDocument();
    expect(api.fn).not.toHaveBeenCalled();
  });

  it('shows the server message for wrong credentials', async () => {
    mockApi({ 'POST /api/auth/login': fail(401, 'INVALID_CREDENTIALS', 'Invalid email or password') });
    renderApp('/login');
    const user = userEvent.setup();
    await user.type(screen.getByLabelText('Email'), 'asha@sunrise.travel');
    await user.type(screen.getByLabelText('Password'), 'whatever');
    await user.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(await screen.findByText('Wrong email or password')).toBeInTheDocument();
    expect(screen.getByText('Invalid email or password')).toBeInTheDocument();
  });

  it('explains a pending account', async () => {
    mockApi({ 'POST /api/auth/login': fail(403, 'ACCOUNT_PENDING', 'Your account awaits approval by an admin') });
    renderApp('/login');
    const user = userEvent.setup();
    await user.type(screen.getByLabelText('Email'), 'new@sunrise.travel');
    await user.type(screen.getByLabelText('Password'), 'Secret-Pass-1');
    await user.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(await screen.findByText('Your account is awaiting approval')).toBeInTheDocument();
    expect(screen.getByText('Your account awaits approval by an admin')).toBeInTheDocument();
  });

  it('locks the button for Retry-After seconds on too many attempts', async () => {
    mockApi({
      'POST /api/auth/login': fail(429, 'TOO_MANY_ATTEMPTS', 'Too many failed sign-ins', undefined, { 'Retry-After': '30' }),
    });
    renderApp('/login');
    const user = userEvent.setup();
    await user.type(screen.getByLabelText('Email'), 'asha@sunrise.travel');
    await user.type(screen.getByLabelText('Password'), 'x');
    await user.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(await screen.findByText('Too many sign-in attempts')).toBeInTheDocument();
    expect(screen.getByText(/try again in 30 s/)).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Sign in' })).toBeDisabled();
  });

  it('shows a service banner when auth is unavailable', async () => {
    mockApi({
      'POST /api/auth/login': fail(503, 'SERVICE_UNAVAILABLE', 'The auth service is unavailable', { service: 'auth' }),
    });
    renderApp('/login');
    const user = userEvent.setup();
    await user.type(screen.getByLabelText('Email'), 'asha@sunrise.travel');
    await user.type(screen.getByLabelText('Password'), 'x');
    await user.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(await screen.findByTestId('service-banner')).toHaveTextContent('The Auth service is temporarily unavailable');
  });

  it('signs in, keeps the tokens and opens the overview', async () => {
    const api = mockApi({
      'POST /api/auth/login': ok({ ...tokens, agent: makeAgent({ role: 'agent' }) }),
      'GET /api/auth/me': ok({ agent: makeAgent({ role: 'agent' }), permissions: {} }),
    });
    renderApp('/login');
    const user = userEvent.setup();
    await user.type(screen.getByLabelText('Email'), '  asha@sunrise.travel ');
    await user.type(screen.getByLabelText('Password'), 'Secret-Pass-1');
    await user.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(await screen.findByRole('heading', { name: 'Welcome, Asha' })).toBeInTheDocument();
    expect(api.called('POST', '/api/auth/login')[0].body).toEqual({ email: 'asha@sunrise.travel', password: 'Secret-Pass-1' });
    expect(api.called('GET', '/api/auth/me')[0].headers.Authorization).toBe('Bearer acc-1');
    expect(window.sessionStorage.getItem('tripdesk.accessToken')).toBe('acc-1');
    expect(window.localStorage.getItem('tripdesk.refreshToken')).toBe('ref-1');
    await waitFor(() => expect(screen.queryByRole('link', { name: 'Agents' })).not.toBeInTheDocument());
  });
});
