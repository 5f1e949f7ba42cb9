import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { tokens } from '../api/tokens';
import { fail, makeAgent, mockApi, ok, renderAs, staticAuth } from '../test/utils';
import { ProfilePage } from './ProfilePage';

async function submit(current: string, next: string, confirm = next) {
  const user = userEvent.setup();
  await user.type(screen.getByLabelText('Current password'), current);
  await user.type(screen.getByLabelText('New password'), next);
  await user.type(screen.getByLabelText('Confirm new password'), confirm);
  await user.click(screen.getByRole('button', { name: 'Change password' }));
}

describe('ProfilePage', () => {
  it('changes the password and keeps the new tokens the server sends', async () => {
    tokens.set({ accessToken: 'old', refreshToken: 'old-r', expiresIn: 900 });
    const api = mockApi({
      'PUT /api/auth/password': ok({ accessToken: 'new', refreshToken: 'new-r', expiresIn: 900, agent: makeAgent() }),
    });
    renderAs(staticAuth('agent'), <ProfilePage />);
    await submit('Old-Pass-2026!', 'New-Pass-2026!');
    expect(await screen.findByText('Your password has been changed.')).toBeInTheDocument();
    expect(api.called('PUT', '/api/auth/password')[0].body).toEqual({ currentPassword: 'Old-Pass-2026!', newPassword: 'New-Pass-2026!' });
    expect(tokens.access()).toBe('new');
    expect(tokens.refresh()).toBe('new-r');
  });

  it('shows a wrong current password at its field', async () => {
    tokens.set({ accessToken: 'a', refreshToken: 'r', expiresIn: 900 });
    mockApi({
      'PUT /api/auth/password': fail(400, 'VALIDATION_ERROR', 'The current password is incorrect', { field: 'currentPassword' }),
    });
    renderAs(staticAuth('agent'), <ProfilePage />);
    await submit('Wrong-Pass-2026!', 'New-Pass-2026!');
    expect(await screen.findByText('The current password is incorrect')).toBeInTheDocument();
    expect(screen.getByLabelText('Current password')).toHaveAttribute('aria-invalid', 'true');
  });

  it('checks the new password before sending', async () => {
    const api = mockApi({});
    renderAs(staticAuth('agent'), <ProfilePage />);
    await submit('Old-Pass-2026!', 'nouppercase1!', 'nouppercase1!');
    expect(await screen.findByText('Include an uppercase letter')).toBeInTheDocument();
    expect(api.fn).not.toHaveBeenCalled();
  });
});
