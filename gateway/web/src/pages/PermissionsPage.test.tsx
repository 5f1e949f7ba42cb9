import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { PERMISSION_NAMES, ROLES, type PermissionSet } from '../api/types';
import { fail, mockApi, ok, renderAs, staticAuth } from '../test/utils';
import { PermissionsPage } from './PermissionsPage';

function roleSet(granted: string[]): PermissionSet {
  return Object.fromEntries(PERMISSION_NAMES.map((n) => [n, granted.includes(n)]));
}

const matrix = {
  version: 7,
  permissions: [...PERMISSION_NAMES],
  roles: {
    super_admin: roleSet([...PERMISSION_NAMES]),
    admin: roleSet(['canViewAllAgents', 'canApproveAgents', 'canViewAllBookings']),
    senior_agent: roleSet(['canViewAllBookings']),
    agent: roleSet([]),
    junior_agent: roleSet([]),
  },
};

const history = ok(
  [
    {
      version: 7,
      role: 'admin',
      changedBy: { _id: 'a9', email: 'asha@sunrise.travel', firstName: 'Asha', lastName: 'Rao' },
      changedAt: '2026-02-10T09:00:00.000Z',
      before: roleSet(['canViewAllAgents']),
      after: roleSet(['canViewAllAgents', 'canApproveAgents']),
    },
  ],
  { page: 1, limit: 10, totalDocs: 1, totalPages: 1, hasNext: false, hasPrev: false },
);

describe('PermissionsPage', () => {
  it('renders roles as columns and permissions as rows', async () => {
    mockApi({ 'GET /api/permissions': ok(matrix), 'GET /api/permissions/history': history });
    renderAs(staticAuth('super_admin'), <PermissionsPage />);
    const table = await screen.findByRole('table', { name: 'Permissions by role' });
    const headers = within(table.querySelector('thead')!).getAllByRole('columnheader').map((h) => h.textContent);
    expect(headers).toEqual(['Permission', 'Super admin', 'Admin', 'Senior agent', 'Agent', 'Junior agent']);
    expect(within(table).getAllByRole('switch')).toHaveLength(PERMISSION_NAMES.length * ROLES.length);
    expect(screen.getByRole('switch', { name: 'Admin: Approve agents' })).toHaveAttribute('aria-checked', 'true');
    expect(screen.getByRole('switch', { name: 'Agent: Approve agents' })).toHaveAttribute('aria-checked', 'false');
    // version history
    expect(await screen.findByText(/by Asha Rao/)).toBeInTheDocument();
    expect(screen.getByText('+ Approve agents')).toBeInTheDocument();
  });

  it('toggles a switch and saves only after "Are you sure?"', async () => {
    const api = mockApi({
      'GET /api/permissions': ok(matrix),
      'GET /api/permissions/history': history,
      'PUT /api/permissions/agent': ok({ role: 'agent' }),
    });
    renderAs(staticAuth('super_admin'), <PermissionsPage />);
    const user = userEvent.setup();
    const sw = await screen.findByRole('switch', { name: 'Agent: View all bookings' });
    const save = screen.getByRole('button', { name: /Save changes/ });
    expect(save).toBeDisabled();

    await user.click(sw);
    expect(sw).toHaveAttribute('aria-checked', 'true');
    expect(save).toHaveTextContent('Save changes (1)');

    // Cancel: nothing is sent.
    await user.click(save);
    let dialog = screen.getByRole('dialog', { name: 'Are you sure?' });
    expect(within(dialog).getByText(/View all bookings/)).toBeInTheDocument();
    await user.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    expect(api.called('PUT', '/api/permissions/agent')).toHaveLength(0);

    // Confirm: the role's permissions are sent.
    await user.click(save);
    dialog = screen.getByRole('dialog', { name: 'Are you sure?' });
    await user.click(within(dialog).getByRole('button', { name: 'Yes, save changes' }));
    await waitFor(() => expect(api.called('PUT', '/api/permissions/agent')).toHaveLength(1));
    // Only the changed permissions, with the version the edit was based on.
    expect(api.called('PUT', '/api/permissions/agent')[0].body).toEqual({ permissions: { canViewAllBookings: true }, version: 7 });
    expect(await screen.findByText('Saved permissions for Agent.')).toBeInTheDocument();
  });

  it('toggling back leaves nothing to save', async () => {
    mockApi({ 'GET /api/permissions': ok(matrix), 'GET /api/permissions/history': history });
    renderAs(staticAuth('super_admin'), <PermissionsPage />);
    const user = userEvent.setup();
    const sw = await screen.findByRole('switch', { name: 'Admin: View all agents' });
    await user.click(sw);
    expect(screen.getByRole('button', { name: /Save changes/ })).toHaveTextContent('Save changes (1)');
    await user.click(sw);
    expect(screen.getByRole('button', { name: /Save changes/ })).toBeDisabled();
  });

  it('shows why the server refused a change', async () => {
    mockApi({
      'GET /api/permissions': ok(matrix),
      'GET /api/permissions/history': history,
      'PUT /api/permissions/super_admin': fail(422, 'PERMISSION_LOCKED', 'Super admin must keep canChangeAnyRole'),
    });
    renderAs(staticAuth('super_admin'), <PermissionsPage />);
    const user = userEvent.setup();
    await user.click(await screen.findByRole('switch', { name: 'Super admin: Change any role' }));
    await user.click(screen.getByRole('button', { name: /Save changes/ }));
    await user.click(screen.getByRole('button', { name: 'Yes, save changes' }));
    const dialog = screen.getByRole('dialog');
    expect(await within(dialog).findByText(/Super admin must keep canChangeAnyRole/)).toBeInTheDocument();
  });

  it('is read-only for an admin', async () => {
    mockApi({ 'GET /api/permissions': ok(matrix), 'GET /api/permissions/history': history });
    renderAs(staticAuth('admin'), <PermissionsPage />);
    expect(await screen.findByRole('switch', { name: 'Agent: View all bookings' })).toBeDisabled();
    expect(screen.queryByRole('button', { name: /Save changes/ })).not.toBeInTheDocument();
  });

  it('locks the permissions super admin must keep and warns about defaults', async () => {
    mockApi({
      'GET /api/permissions': ok({ ...matrix, locked: ['canChangeAnyRole'], fallback: true }),
      'GET /api/permissions/history': history,
    });
    renderAs(staticAuth('super_admin'), <PermissionsPage />);
    expect(await screen.findByText('Showing the built-in default permissions')).toBeInTheDocument();
    expect(screen.getByRole('switch', { name: /Super admin: Change any role \(locked/ })).toBeDisabled();
    // Built-in defaults cannot be saved over.
    expect(screen.queryByRole('button', { name: /Save changes/ })).not.toBeInTheDocument();
  });

  it('chains versions across roles and stops at a conflict', async () => {
    const api = mockApi({
      'GET /api/permissions': ok(matrix),
      'GET /api/permissions/history': history,
      'PUT /api/permissions/admin': ok({ version: 8, roles: matrix.roles }),
      'PUT /api/permissions/agent': fail(409, 'VERSION_CONFLICT', 'The permission matrix was changed meanwhile; reload and retry'),
    });
    renderAs(staticAuth('super_admin'), <PermissionsPage />);
    const user = userEvent.setup();
    await user.click(await screen.findByRole('switch', { name: 'Admin: Process refunds' }));
    await user.click(screen.getByRole('switch', { name: 'Agent: Upload files' }));
    await user.click(screen.getByRole('switch', { name: 'Junior agent: Upload files' }));
    await user.click(screen.getByRole('button', { name: 'Save changes (3)' }));
    await user.click(screen.getByRole('button', { name: 'Yes, save changes' }));
    expect(await within(screen.getByRole('dialog')).findByText(/someone else changed the permissions/)).toBeInTheDocument();
    expect(api.called('PUT', '/api/permissions/admin')[0].body).toMatchObject({ version: 7 });
    expect(api.called('PUT', '/api/permissions/agent')[0].body).toMatchObject({ version: 8 });
    expect(api.called('PUT', '/api/permissions/junior_agent')).toHaveLength(0);
  });

  it('resets to the defaults after confirmation', async () => {
    const api = mockApi({
      'GET /api/permissions': ok(matrix),
      'GET /api/permissions/history': history,
      'POST /api/permissions/reset': ok({ version: 8, roles: matrix.roles }),
    });
    renderAs(staticAuth('super_admin'), <PermissionsPage />);
    const user = userEvent.setup();
    await user.click(await screen.findByRole('button', { name: 'Reset to defaults' }));
    const dialog = screen.getByRole('dialog', { name: 'Reset all permissions?' });
    expect(api.called('POST', '/api/permissions/reset')).toHaveLength(0);
    await user.click(within(dialog).getByRole('button', { name: 'Yes, reset to defaults' }));
    expect(await screen.findByText('All roles are back to the default permissions.')).toBeInTheDocument();
    expect(api.called('POST', '/api/permissions/reset')).toHaveLength(1);
  });
});
