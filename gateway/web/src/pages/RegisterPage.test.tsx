import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { fail, makeAgent, mockApi, renderApp } from '../test/utils';

async function fillForm(password = 'Strong-Pass-2026') {
  const user = userEvent.setup();
  await user.type(screen.getByLabelText('First name'), 'Ravi');
  await user.type(screen.getByLabelText('Last name'), 'Menon');
  await user.type(screen.getByLabelText('Work email'), 'ravi@sunrise.travel');
  await user.type(screen.getByLabelText('Phone'), '+91 98765 43210');
  await user.type(screen.getByLabelText('Agency name'), 'Sunrise Travel');
  await user.type(screen.getByLabelText('Password'), password);
  await user.type(screen.getByLabelText('Confirm password'), password);
  await user.click(screen.getByRole('button', { name: 'Create account' }));
}

describe('RegisterPage', () => {
  it('enforces the password policy before sending', async () => {
    const api = mockApi({});
    renderApp('/register');
    await fillForm('short1!');
    expect(await screen.findByText('Use at least 10 characters')).toBeInTheDocument();
    expect(api.fn).not.toHaveBeenCalled();
  });

  it('tells the agent that an admin must approve the account', async () => {
    const api = mockApi({
      'POST /api/auth/register': { status: 201, body: { success: true, data: { agent: makeAgent({ status: 'pending', role: 'agent', email: 'ravi@sunrise.travel' }) } } },
    });
    renderApp('/register');
    await fillForm();
    expect(await screen.findByText(/registration has been received/)).toBeInTheDocument();
    expect(screen.getByText(/An admin must approve your account/)).toBeInTheDocument();
    expect(api.called('POST', '/api/auth/register')[0].body).toEqual({
      firstName: 'Ravi',
      lastName: 'Menon',
      email: 'ravi@sunrise.travel',
      phone: '+91 98765 43210',
      agencyName: 'Sunrise Travel',
      password: 'Strong-Pass-2026',
    });
  });

  it('accepts the agent as the response data itself', async () => {
    mockApi({
      'POST /api/auth/register': { status: 201, body: { success: true, data: makeAgent({ status: 'pending', role: 'agent', email: 'ravi@sunrise.travel' }) } },
    });
    renderApp('/register');
    await fillForm();
    expect(await screen.findByText(/An admin must approve your account/)).toBeInTheDocument();
    expect(screen.getByText('ravi@sunrise.travel')).toBeInTheDocument();
  });

  it('shows a server validation error at its field', async () => {
    mockApi({ 'POST /api/auth/register': fail(400, 'VALIDATION_ERROR', 'Phone number is not valid', { field: 'phone' }) });
    renderApp('/register');
    await fillForm();
    expect(await screen.findByText('Phone number is not valid')).toBeInTheDocument();
    expect(screen.getByLabelText('Phone')).toHaveAttribute('aria-invalid', 'true');
  });

  it('shows a taken email at the email field', async () => {
    mockApi({ 'POST /api/auth/register': fail(409, 'EMAIL_TAKEN', 'Email already registered') });
    renderApp('/register');
    await fillForm();
    expect(await screen.findByText('An account with this email already exists')).toBeInTheDocument();
  });
});
