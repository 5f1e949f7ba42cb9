import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { Route, Routes } from 'react-router-dom';
import { describe, expect, it } from 'vitest';
import { rules } from '../../auth/access';
import { RequireAccess } from '../../auth/guards';
import { makeBooking } from '../../test/fixtures';
import { fail, mockApi, ok, renderAs, staticAuth } from '../../test/utils';
import { CommissionRatesPage } from './CommissionRatesPage';
import { CommissionsPage } from './CommissionsPage';
import { PaymentsPage } from './PaymentsPage';

const pg = (n: number) => ({ page: 1, limit: 20, totalDocs: n, totalPages: 1, hasNext: false, hasPrev: false });
const commission = (id: string, status: string, ref: string) => ({
  _id: id,
  booking: id,
  bookingReference: ref,
  agent: 'a2',
  currency: 'INR',
  net: 100000,
  rateBasisPoints: 500,
  amount: 5000,
  status,
  createdAt: '2026-12-01T10:00:00.000Z',
});
const C1 = '6b080aefdfe7af34aa0e7101';
const C2 = '6b080aefdfe7af34aa0e7102';
const C3 = '6b080aefdfe7af34aa0e7103';

describe('payments page', () => {
  it('sends the filters from the URL; the agent filter only with canViewAllPayments', async () => {
    const api = mockApi({ 'GET /api/payments': ok([], pg(0)) });
    const { unmount } = renderAs(staticAuth('agent'), <PaymentsPage />, '/payments?status=refunded&paymentMethod=upi,card&minAmount=100&dateFrom=2026-12-01&agent=6b080aefdfe7af34aa0e68d1');
    expect(await screen.findByText('No payments match these filters')).toBeInTheDocument();
    const q = new URL(api.called('GET', '/api/payments').at(-1)!.url, 'http://x').searchParams;
    expect(q.get('status')).toBe('refunded');
    expect(q.get('paymentMethod')).toBe('card,upi');
    expect(q.get('minAmount')).toBe('100');
    expect(q.get('dateFrom')).toBe('2026-12-01');
    const user = userEvent.setup();
    await user.click(screen.getByRole('button', { name: /Show filters/ }));
    expect(within(screen.getByRole('form', { name: 'Filters' })).queryByLabelText('Agent')).not.toBeInTheDocument();
    unmount();

    mockApi({ 'GET /api/payments': ok([], pg(0)), 'GET /api/agents': ok([], pg(0)) });
    renderAs(staticAuth('admin', { canViewAllPayments: true, canViewAllAgents: true }), <PaymentsPage />, '/payments');
    await screen.findByText('No payments yet');
    await user.click(screen.getByRole('button', { name: /Show filters/ }));
    expect(within(screen.getByRole('form', { name: 'Filters' })).getByLabelText('Agent')).toBeInTheDocument();
  });
});

describe('payments page booking filter', () => {
  it('finds the booking by its reference and filters by its id, showing the reference', async () => {
    const b1 = makeBooking({ _id: '6b080aefdfe7af34aa0e6901', bookingReference: 'TD-261201-AAAA1' });
    const b2 = makeBooking({ _id: '6b080aefdfe7af34aa0e6902', bookingReference: 'TD-261201-AAAB2', customerName: 'Meera Iyer' });
    const api = mockApi({ 'GET /api/payments': ok([], pg(0)), 'GET /api/bookings': ok([b1, b2], pg(2)) });
    const user = userEvent.setup();
    renderAs(staticAuth('agent'), <PaymentsPage />, '/payments');
    await screen.findByText('No payments yet');
    await user.click(screen.getByRole('button', { name: /Show filters/ }));
    const panel = screen.getByRole('form', { name: 'Filters' });
    const box = within(panel).getByRole('combobox', { name: 'Booking' });
    await user.type(box, 'aaab');
    const option = await screen.findByRole('option', { name: /TD-261201-AAAB2/ });
    expect(option).toHaveTextContent('Meera Iyer');
    await waitFor(() => expect(api.calls.some((c) => c.path === '/api/bookings' && new URL(c.url, 'http://x').searchParams.get('search') === 'aaab')).toBe(true));
    await user.keyboard('{ArrowDown}{ArrowDown}{ArrowDown}{Enter}');
    expect(box).toHaveValue('TD-261201-AAAB2');
    await user.click(within(panel).getByRole('button', { name: 'Apply filters' }));
    await waitFor(() => expect(new URL(api.called('GET', '/api/payments').at(-1)!.url, 'http://x').searchParams.get('booking')).toBe(b2._id));
    expect(within(screen.getByRole('list', { name: 'Active filters' })).getByText(/Booking: TD-261201-AAAB2/)).toBeInTheDocument();
  });

  it('shows the reference of a booking id that comes from the URL', async () => {
    const b = makeBooking({ _id: '6b080aefdfe7af34aa0e6903', bookingReference: 'TD-261201-URL03' });
    const api = mockApi({ 'GET /api/payments': ok([], pg(0)), [`GET /api/bookings/${b._id}`]: ok(b) });
    const user = userEvent.setup();
    renderAs(staticAuth('agent'), <PaymentsPage />, `/payments?booking=${b._id}`);
    await screen.findByText('No payments match these filters');
    expect(new URL(api.called('GET', '/api/payments').at(-1)!.url, 'http://x').searchParams.get('booking')).toBe(b._id);
    await user.click(screen.getByRole('button', { name: /Show filters/ }));
    const box = within(screen.getByRole('form', { name: 'Filters' })).getByRole('combobox', { name: 'Booking' });
    await waitFor(() => expect(box).toHaveValue('TD-261201-URL03'));
  });
});

describe('commissions page', () => {
  const routes = () => ({
    'GET /api/commissions': ok([commission(C1, 'pending', 'TD-1'), commission(C2, 'pending', 'TD-2'), commission(C3, 'approved', 'TD-3')], pg(3)),
    'GET /api/commissions/summary': ok({ byCurrency: { INR: { pending: 10000, approved: 5000, paid: 0, adjustments: 0, count: 3 } } }),
    'GET /api/agents': ok([], pg(0)),
  });

  it('shows an agent its commissions and totals without any action', async () => {
    mockApi(routes());
    renderAs(staticAuth('agent'), <CommissionsPage />, '/commissions');
    expect(await screen.findByText('TD-1')).toBeInTheDocument();
    expect(within(await screen.findByTestId('commission-totals')).getByText(/10,000\.00/)).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: /Approve/ })).not.toBeInTheDocument();
    expect(screen.queryByRole('checkbox')).not.toBeInTheDocument();
  });

  it('lets canApproveCommissions approve one, pay one with a reference, and bulk-approve the selected', async () => {
    const api = mockApi({
      ...routes(),
      [`PATCH /api/commissions/${C1}/approve`]: ok(commission(C1, 'approved', 'TD-1')),
      [`PATCH /api/commissions/${C3}/pay`]: ok(commission(C3, 'paid', 'TD-3')),
      [`PATCH /api/commissions/${C3}/reject`]: ok(commission(C3, 'rejected', 'TD-3')),
      'POST /api/commissions/bulk-approve': ok({ approved: 1, results: [{ id: C1, status: 409, code: 'INVALID_TRANSITION' }, { id: C2, status: 200 }] }),
    });
    const user = userEvent.setup();
    renderAs(staticAuth('admin', { canApproveCommissions: true }), <CommissionsPage />, '/commissions');
    await user.click(await screen.findByRole('button', { name: 'Approve commission of TD-1' }));
    await user.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Approve' }));
    expect(await screen.findByText('Commission approved.')).toBeInTheDocument();
    expect(api.called('PATCH', `/api/commissions/${C1}/approve`)).toHaveLength(1);

    await user.click(screen.getByRole('button', { name: 'Pay commission of TD-3' }));
    await user.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Mark paid' }));
    expect(await screen.findByText('Enter the payout reference')).toBeInTheDocument();
    await user.type(screen.getByLabelText('Payout reference'), 'NEFT-123');
    await user.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Mark paid' }));
    expect(await screen.findByText('Commission marked paid.')).toBeInTheDocument();
    expect(api.called('PATCH', `/api/commissions/${C3}/pay`)[0].body).toEqual({ payoutReference: 'NEFT-123' });

    await user.click(screen.getByRole('button', { name: 'Reject commission of TD-3' }));
    await user.type(screen.getByLabelText('Reason'), 'Booking paid by the agency directly');
    await user.click(within(screen.getByRole('dialog', { name: 'Reject this commission?' })).getByRole('button', { name: 'Reject' }));
    expect(await screen.findByText('Commission rejected.')).toBeInTheDocument();
    expect(api.called('PATCH', `/api/commissions/${C3}/reject`)[0].body).toEqual({ reason: 'Booking paid by the agency directly' });

    expect(screen.getByRole('button', { name: 'Approve selected (0)' })).toBeDisabled();
    await user.click(screen.getByRole('checkbox', { name: 'Select commission of TD-1' }));
    await user.click(screen.getByRole('checkbox', { name: 'Select commission of TD-2' }));
    await user.click(screen.getByRole('button', { name: 'Approve selected (2)' }));
    await user.click(within(screen.getByRole('dialog', { name: 'Approve 2 commissions?' })).getByRole('button', { name: 'Approve' }));
    expect(await screen.findByText('1 commission approved, 1 could not be (already moved on?).')).toBeInTheDocument();
    expect(api.called('POST', '/api/commissions/bulk-approve')[0].body).toEqual({ ids: [C1, C2] });
    // The header box selects every pending one of the page (not the approved TD-3).
    await user.click(screen.getByRole('checkbox', { name: 'Select every pending commission on this page' }));
    expect(screen.getByRole('button', { name: 'Approve selected (2)' })).toBeEnabled();
  });
});

describe('commission rates page', () => {
  const rates = { version: 3, roles: { super_admin: 0, admin: 0, senior_agent: 700, agent: 500, junior_agent: 300 }, agents: {} };
  const guarded = (
    <Routes>
      <Route
        path="/settings/commission-rates"
        element={
          <RequireAccess rule={rules.settings}>
            <CommissionRatesPage />
          </RequireAccess>
        }
      />
    </Routes>
  );

  it('is refused without canManageSettings', () => {
    const api = mockApi({ 'GET /api/commissions/rates': ok(rates) });
    renderAs(staticAuth('admin', { canApproveCommissions: true }), guarded, '/settings/commission-rates');
    expect(screen.getByRole('heading', { name: /don’t have access/ })).toBeInTheDocument();
    expect(api.calls).toHaveLength(0);
  });

  it('saves percentages as basis points with the version read, and offers a reload on VERSION_CONFLICT', async () => {
    let n = 0;
    const api = mockApi({
      'GET /api/commissions/rates': ok(rates),
      'PUT /api/commissions/rates': () => (++n === 1 ? ok({ ...rates, version: 4, roles: { ...rates.roles, agent: 550 } }) : fail(409, 'VERSION_CONFLICT', 'Rates changed')),
    });
    const user = userEvent.setup();
    renderAs(staticAuth('super_admin', { canManageSettings: true }), guarded, '/settings/commission-rates');
    const agentRate = await screen.findByLabelText('Agent');
    expect(agentRate).toHaveValue('5');
    await user.clear(agentRate);
    await user.type(agentRate, '101');
    await user.click(screen.getByRole('button', { name: 'Save rates' }));
    expect(await screen.findByText(/Enter a percentage from 0 to 100/)).toBeInTheDocument();
    expect(api.called('PUT', '/api/commissions/rates')).toHaveLength(0);
    await user.clear(agentRate);
    await user.type(agentRate, '5.5');
    await user.click(screen.getByRole('button', { name: 'Save rates' }));
    expect(await screen.findByText('Rates saved (version 4).')).toBeInTheDocument();
    expect(api.called('PUT', '/api/commissions/rates')[0].body).toEqual({ version: 3, roles: { ...rates.roles, agent: 550 }, agents: {} });
    await user.click(screen.getByRole('button', { name: 'Save rates' }));
    expect(await screen.findByText('Someone saved other rates meanwhile')).toBeInTheDocument();
    expect(api.called('PUT', '/api/commissions/rates')[1].body).toMatchObject({ version: 4 });
    await user.click(screen.getByRole('button', { name: 'Reload the rates' }));
    await waitFor(() => expect(api.called('GET', '/api/commissions/rates').length).toBeGreaterThan(1));
  });
});
