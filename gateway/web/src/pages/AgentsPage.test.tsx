import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { fail, makeAgent, mockApi, ok, renderAs, staticAuth } from '../test/utils';
import { AgentsPage } from './AgentsPage';

const pending = makeAgent({ _id: 'p1', firstName: 'Ravi', lastName: 'Menon', email: 'ravi@bluewave.in', role: 'agent', status: 'pending', lastLoginAt: null });
const active = makeAgent({ _id: 'a2', firstName: 'Meera', lastName: 'Iyer', email: 'meera@sunrise.travel', role: 'senior_agent', status: 'active' });
const page1 = { page: 1, limit: 20, totalDocs: 2, totalPages: 1, hasNext: false, hasPrev: false };
const admin = staticAuth('admin', { canViewAllAgents: true, canApproveAgents: true, canChangeAnyRole: true });

describe('AgentsPage', () => {
  it('lists agents and sends the filters', async () => {
    const api = mockApi({ 'GET /api/agents': (c) => (c.url.includes('status=pending') ? ok([pending], { ...page1, totalDocs: 1 }) : ok([pending, active], page1)) });
    renderAs(admin, <AgentsPage />, '/agents');
    expect(await screen.findByText('ravi@bluewave.in')).toBeInTheDocument();
    expect(screen.getByText('meera@sunrise.travel')).toBeInTheDocument();
    expect(screen.getByText('1–2 of 2 agents')).toBeInTheDocument();
    const user = userEvent.setup();
    await user.selectOptions(screen.getByLabelText('Status'), 'pending');
    await waitFor(() => expect(screen.queryByText('meera@sunrise.travel')).not.toBeInTheDocument());
    expect(api.calls.some((c) => c.url.includes('status=pending') && c.url.includes('page=1'))).toBe(true);
  });

  it('shows an empty state when nothing matches', async () => {
    mockApi({ 'GET /api/agents': ok([], { ...page1, totalDocs: 0, totalPages: 0 }) });
    renderAs(admin, <AgentsPage />, '/agents?search=zzz');
    expect(await screen.findByText('No agents match these filters')).toBeInTheDocument();
  });

  it('approves only after confirmation', async () => {
    const api = mockApi({
      'GET /api/agents': ok([pending, active], page1),
      'PATCH /api/agents/p1/approve': ok({ ...pending, status: 'active' }),
    });
    renderAs(admin, <AgentsPage />, '/agents');
    const user = userEvent.setup();
    await user.click(await screen.findByRole('button', { name: 'Approve' }));
    const dialog = screen.getByRole('dialog', { name: 'Approve this agent?' });
    expect(api.called('PATCH', '/api/agents/p1/approve')).toHaveLength(0);
    await user.click(within(dialog).getByRole('button', { name: 'Yes, approve' }));
    expect(await screen.findByText('Ravi Menon is approved and can now sign in.')).toBeInTheDocument();
    expect(api.called('PATCH', '/api/agents/p1/approve')).toHaveLength(1);
  });

  it('changes a role through the dialog and shows server errors there', async () => {
    const api = mockApi({
      'GET /api/agents': ok([pending, active], page1),
      'PATCH /api/agents/a2/role': fail(403, 'FORBIDDEN', 'You may not grant this role'),
    });
    renderAs(admin, <AgentsPage />, '/agents');
    const user = userEvent.setup();
    await user.click(await screen.findByRole('button', { name: 'Change role of Meera Iyer' }));
    const dialog = screen.getByRole('dialog', { name: 'Change role' });
    const confirm = within(dialog).getByRole('button', { name: 'Change role' });
    expect(confirm).toBeDisabled();
    // An admin without canCreateAdmin cannot hand out admin or super admin.
    const options = within(dialog).getAllByRole('option').map((o) => o.textContent);
    expect(options).toEqual(['Senior agent (current)', 'Agent', 'Junior agent']);
    await user.selectOptions(within(dialog).getByLabelText('New role'), 'agent');
    await user.click(confirm);
    expect(await within(dialog).findByText('You may not grant this role')).toBeInTheDocument();
    expect(api.called('PATCH', '/api/agents/a2/role')[0].body).toEqual({ role: 'agent' });
  });

  it('shows a banner when the auth service is down', async () => {
    mockApi({ 'GET /api/agents': fail(503, 'SERVICE_UNAVAILABLE', 'The auth service is unavailable', { service: 'auth' }) });
    renderAs(admin, <AgentsPage />, '/agents');
    expect(await screen.findByTestId('service-banner')).toHaveTextContent('The Auth service is temporarily unavailable');
    // The filters still work.
    expect(screen.getByLabelText('Status')).toBeEnabled();
  });
});
