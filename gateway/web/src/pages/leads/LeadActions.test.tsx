import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import type { Lead } from '../../api/types';
import { makeLead } from '../../test/fixtures';
import { fail, mockApi, ok, renderAs, staticAuth } from '../../test/utils';
import { LeadActions } from './LeadActions';

const LEAD_ID = '6b080aefdfe7af34aa0e6900';
const statusButtons = () =>
  within(screen.getByRole('group', { name: 'Change status' }))
    .getAllByRole('button')
    .map((b) => b.textContent);

describe('lead status actions', () => {
  it.each<[Lead['status'], string[]]>([
    ['new', ['Mark contacted', 'Mark lost']],
    ['contacted', ['Mark qualified', 'Mark lost']],
    ['qualified', ['Move to proposal', 'Mark lost']],
    ['proposal', ['Move to negotiation', 'Mark lost']],
    ['negotiation', ['Mark lost']],
  ])('a %s lead offers %j', (status, expected) => {
    mockApi({});
    renderAs(staticAuth('agent'), <LeadActions lead={makeLead({ status })} onChanged={vi.fn()} />);
    expect(statusButtons()).toEqual(expected);
    expect(screen.getByRole('link', { name: 'Convert…' })).toHaveAttribute('href', `/leads/${LEAD_ID}/convert`);
  });

  it.each<Lead['status']>(['converted', 'lost'])('a %s lead offers nothing', (status) => {
    mockApi({});
    renderAs(staticAuth('admin', { canAssignLeads: true }), <LeadActions lead={makeLead({ status })} onChanged={vi.fn()} />);
    expect(screen.queryByRole('group', { name: 'Change status' })).not.toBeInTheDocument();
    expect(screen.queryByRole('link', { name: 'Convert…' })).not.toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Assign…' })).not.toBeInTheDocument();
  });

  it('moves the lead after confirmation, sending its version', async () => {
    const lead = makeLead({ status: 'contacted', version: 4 });
    const api = mockApi({ [`PATCH /api/leads/${LEAD_ID}/status`]: ok({ ...lead, status: 'qualified', version: 5 }) });
    const onChanged = vi.fn();
    renderAs(staticAuth('agent'), <LeadActions lead={lead} onChanged={onChanged} />);
    const user = userEvent.setup();
    await user.click(screen.getByRole('button', { name: 'Mark qualified' }));
    const dialog = screen.getByRole('dialog', { name: 'Mark qualified?' });
    expect(dialog).toHaveTextContent('moves from Contacted to Qualified');
    expect(api.called('PATCH', `/api/leads/${LEAD_ID}/status`)).toHaveLength(0);
    await user.click(within(dialog).getByRole('button', { name: 'Mark qualified' }));
    await waitFor(() => expect(onChanged).toHaveBeenCalledWith(expect.objectContaining({ status: 'qualified' })));
    expect(api.called('PATCH', `/api/leads/${LEAD_ID}/status`)[0].body).toEqual({ status: 'qualified', version: 4 });
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
  });

  it('asks for a reason when marking lost and sends it', async () => {
    const lead = makeLead({ status: 'proposal' });
    const api = mockApi({ [`PATCH /api/leads/${LEAD_ID}/status`]: ok({ ...lead, status: 'lost' }) });
    renderAs(staticAuth('agent'), <LeadActions lead={lead} onChanged={vi.fn()} />);
    const user = userEvent.setup();
    await user.click(screen.getByRole('button', { name: 'Mark lost' }));
    const dialog = screen.getByRole('dialog', { name: 'Mark lost?' });
    await user.type(within(dialog).getByLabelText('Reason (recommended)'), 'Chose another agency');
    await user.click(within(dialog).getByRole('button', { name: 'Mark lost' }));
    await waitFor(() => expect(api.called('PATCH', `/api/leads/${LEAD_ID}/status`)).toHaveLength(1));
    expect(api.called('PATCH', `/api/leads/${LEAD_ID}/status`)[0].body).toEqual({ status: 'lost', reason: 'Chose another agency', version: 1 });
  });

  it('explains a refused transition and reloads the lead', async () => {
    const lead = makeLead({ status: 'new' });
    mockApi({
      [`PATCH /api/leads/${LEAD_ID}/status`]: fail(422, 'INVALID_STATUS_TRANSITION', 'A lost lead cannot become contacted', { from: 'lost', to: 'contacted', allowed: [] }),
    });
    const onChanged = vi.fn();
    renderAs(staticAuth('agent'), <LeadActions lead={lead} onChanged={onChanged} />);
    const user = userEvent.setup();
    await user.click(screen.getByRole('button', { name: 'Mark contacted' }));
    const dialog = screen.getByRole('dialog', { name: 'Mark contacted?' });
    await user.click(within(dialog).getByRole('button', { name: 'Mark contacted' }));
    expect(await within(dialog).findByText(/A lost lead cannot become contacted\. It cannot change status any more\./)).toBeInTheDocument();
    expect(within(dialog).getByRole('button', { name: 'Mark contacted' })).toBeDisabled();
    expect(onChanged).toHaveBeenCalledWith(null);
  });

  it('offers assign only with canAssignLeads', () => {
    mockApi({});
    const { unmount } = renderAs(staticAuth('agent'), <LeadActions lead={makeLead()} onChanged={vi.fn()} />);
    expect(screen.queryByRole('button', { name: 'Assign…' })).not.toBeInTheDocument();
    unmount();
    renderAs(staticAuth('senior_agent', { canAssignLeads: true }), <LeadActions lead={makeLead()} onChanged={vi.fn()} />);
    expect(screen.getByRole('button', { name: 'Assign…' })).toBeInTheDocument();
  });

  it('assigns to an agent found by searching the directory (a senior agent too)', async () => {
    const other = { _id: '6b080adc27f9d7e0bb0c7777', firstName: 'Meera', lastName: 'Iyer', email: 'meera@sunrise.travel', role: 'agent' };
    const api = mockApi({
      'GET /api/agents/directory': (c) => ok(c.url.includes('search=mee') ? [other] : [], { page: 1, limit: 10, totalDocs: 1, totalPages: 1, hasNext: false, hasPrev: false }),
      [`PATCH /api/leads/${LEAD_ID}/assign`]: ok(makeLead({ assignedAgent: other._id, version: 2 })),
    });
    const onChanged = vi.fn();
    const onFlash = vi.fn();
    renderAs(staticAuth('senior_agent', { canAssignLeads: true }), <LeadActions lead={makeLead()} onChanged={onChanged} onFlash={onFlash} />);
    const user = userEvent.setup();
    await user.click(screen.getByRole('button', { name: 'Assign…' }));
    const dialog = screen.getByRole('dialog', { name: 'Assign this lead' });
    const assign = within(dialog).getByRole('button', { name: 'Assign' });
    expect(assign).toBeDisabled();
    await user.type(within(dialog).getByRole('combobox', { name: 'Agent' }), 'mee');
    await user.click(await within(dialog).findByRole('option', { name: /Meera Iyer/ }));
    expect(api.calls.some((c) => c.path === '/api/agents')).toBe(false); // never the full list
    await user.click(assign);
    await waitFor(() => expect(onChanged).toHaveBeenCalled());
    expect(api.called('PATCH', `/api/leads/${LEAD_ID}/assign`)[0].body).toEqual({ agentId: other._id });
    expect(onFlash).toHaveBeenCalledWith('The lead is now assigned to Meera Iyer.');
  });
});
