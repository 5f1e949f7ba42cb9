import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { makeBooking } from '../../test/fixtures';
import { fail, mockApi, ok, renderAs, staticAuth, type MockCall } from '../../test/utils';
import { PaymentsSection } from './PaymentsSection';
import { RecordPaymentForm } from './RecordPaymentForm';

const BOOKING = '6b080aefdfe7af34aa0e68d2';
const payment = (over = {}) => ({
  _id: '6b080aefdfe7af34aa0e7001',
  booking: BOOKING,
  amount: 2500,
  currency: 'INR',
  paymentMethod: 'upi',
  paidAt: '2026-12-01T00:00:00.000Z',
  status: 'completed',
  refunded: 0,
  ...over,
});
const key = (c: MockCall) => c.headers['Idempotency-Key'];

async function fillAndSend(user: ReturnType<typeof userEvent.setup>, amount: string) {
  const field = screen.getByLabelText('Amount (INR)');
  await user.clear(field);
  await user.type(field, amount);
  await user.click(screen.getByRole('button', { name: 'Record payment' }));
}

describe('record payment form', () => {
  it('sends the same Idempotency-Key when the same submission is retried, a new one for the next', async () => {
    let n = 0;
    const api = mockApi({
      'POST /api/payments': () => (++n === 1 ? fail(503, 'SERVICE_UNAVAILABLE', 'Payment service unavailable', { service: 'payment' }) : { status: 201, body: { success: true, data: payment() } }),
    });
    const onRecorded = vi.fn();
    const user = userEvent.setup();
    renderAs(staticAuth('agent'), <RecordPaymentForm bookingId={BOOKING} currency="INR" outstanding={50000} onRecorded={onRecorded} />);
    await fillAndSend(user, '2500');
    expect(await screen.findByText(/temporarily unavailable/)).toBeInTheDocument();
    expect(onRecorded).not.toHaveBeenCalled();
    await user.click(screen.getByRole('button', { name: 'Record payment' }));
    await waitFor(() => expect(onRecorded).toHaveBeenCalledTimes(1));
    const posts = api.called('POST', '/api/payments');
    expect(posts).toHaveLength(2);
    expect(key(posts[0])).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(key(posts[1])).toBe(key(posts[0]));
    expect(posts[0].body).toEqual({ booking: BOOKING, amount: '2500', paymentMethod: 'upi', paidAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/) });
    // The next payment is a new submission.
    await fillAndSend(user, '100');
    await waitFor(() => expect(onRecorded).toHaveBeenCalledTimes(2));
    const third = api.called('POST', '/api/payments')[2];
    expect(key(third)).toBeTruthy();
    expect(key(third)).not.toBe(key(posts[0]));
  });

  it('a double click sends one request', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    const api = mockApi({});
    api.fn.mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
      api.calls.push({ method: init?.method ?? 'GET', path: String(input), url: String(input), body: JSON.parse(String(init?.body)), headers: init?.headers as Record<string, string> });
      await gate;
      return new Response(JSON.stringify({ success: true, data: payment() }), { status: 201, headers: { 'Content-Type': 'application/json' } });
    });
    const onRecorded = vi.fn();
    const user = userEvent.setup();
    renderAs(staticAuth('agent'), <RecordPaymentForm bookingId={BOOKING} currency="INR" onRecorded={onRecorded} />);
    await user.type(screen.getByLabelText('Amount (INR)'), '2500');
    const button = screen.getByRole('button', { name: 'Record payment' });
    await user.dblClick(button);
    release();
    await waitFor(() => expect(onRecorded).toHaveBeenCalledTimes(1));
    expect(api.calls).toHaveLength(1);
  });

  it('shows 422 OVERPAYMENT at the amount and 409 DUPLICATE_PAYMENT in the form; a changed amount gets a new key', async () => {
    let n = 0;
    const api = mockApi({
      'POST /api/payments': () =>
        ++n === 1
          ? fail(422, 'OVERPAYMENT', 'The amount exceeds the outstanding balance', { outstanding: 1500, outstandingMinor: 150000, currency: 'INR' })
          : fail(409, 'DUPLICATE_PAYMENT', 'A payment of this amount was recorded a moment ago', { payment: payment({ amount: 1500 }) }),
    });
    const user = userEvent.setup();
    renderAs(staticAuth('agent'), <RecordPaymentForm bookingId={BOOKING} currency="INR" outstanding={1500} onRecorded={vi.fn()} />);
    await fillAndSend(user, '9000');
    expect(await screen.findByText(/More than the outstanding balance of .*1,500\.00/)).toBeInTheDocument();
    expect(screen.getByLabelText('Amount (INR)')).toHaveAttribute('aria-invalid', 'true');
    await fillAndSend(user, '1500');
    expect(await screen.findByTestId('duplicate-payment')).toHaveTextContent('same amount was recorded for this booking in the last 5 minutes');
    const posts = api.called('POST', '/api/payments');
    expect(posts).toHaveLength(2);
    expect(key(posts[1])).not.toBe(key(posts[0]));
  });

  it('refuses a bad amount before sending', async () => {
    const api = mockApi({});
    const user = userEvent.setup();
    renderAs(staticAuth('agent'), <RecordPaymentForm bookingId={BOOKING} currency="INR" onRecorded={vi.fn()} />);
    await fillAndSend(user, '12.345');
    expect(await screen.findByText(/at most 2 decimals/)).toBeInTheDocument();
    await fillAndSend(user, '0');
    expect(await screen.findByText('The amount must be more than 0')).toBeInTheDocument();
    expect(api.called('POST', '/api/payments')).toHaveLength(0);
  });
});

describe('booking payments section', () => {
  const routes = (over = {}) => ({
    'GET /api/payments/booking/6b080aefdfe7af34aa0e68d2/summary': ok({
      booking: BOOKING,
      currency: 'INR',
      total: 50000,
      paid: 2500,
      refunded: 500,
      outstanding: 48000,
      paymentStatus: 'partially_paid',
    }),
    'GET /api/payments': ok([payment({ refunded: 500, status: 'partially_refunded' })], { page: 1, limit: 100, totalDocs: 1, totalPages: 1, hasNext: false, hasPrev: false }),
    ...over,
  });

  it('shows the balance and payments; the refund action only with canProcessRefunds', async () => {
    mockApi(routes());
    const { unmount } = renderAs(staticAuth('agent', {}), <PaymentsSection booking={makeBooking({ status: 'confirmed' })} />);
    const balance = await screen.findByTestId('payment-balance');
    expect(balance).toHaveTextContent('Partially paid');
    expect(balance).toHaveTextContent('48,000.00');
    expect(await screen.findByText('Partially refunded')).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Record payment' })).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: /^Refund/ })).not.toBeInTheDocument();
    unmount();

    mockApi(routes());
    renderAs(staticAuth('admin', { canProcessRefunds: true, canViewAllPayments: true }), <PaymentsSection booking={makeBooking({ status: 'confirmed', agent: 'other' })} />);
    await screen.findByText('Partially refunded');
    expect(screen.getByRole('button', { name: /^Refund payment of/ })).toBeInTheDocument();
  });

  it('refunds through the dialog with a reason and an Idempotency-Key', async () => {
    const api = mockApi({
      ...routes(),
      'POST /api/payments/6b080aefdfe7af34aa0e7001/refund': { status: 201, body: { success: true, data: { _id: 'r1', payment: 'p', booking: BOOKING, amount: 1000, currency: 'INR', reason: 'x' } } },
    });
    const user = userEvent.setup();
    renderAs(staticAuth('admin', { canProcessRefunds: true }), <PaymentsSection booking={makeBooking({ status: 'confirmed' })} />);
    await user.click(await screen.findByRole('button', { name: /^Refund payment of/ }));
    const dialog = screen.getByRole('dialog', { name: 'Refund this payment?' });
    const amount = screen.getByLabelText('Refund amount (INR)');
    expect(amount).toHaveValue('2000');
    await user.clear(amount);
    await user.type(amount, '2500');
    await user.click(screen.getByRole('button', { name: 'Refund' }));
    expect(await screen.findByText(/is left to refund/)).toBeInTheDocument();
    expect(screen.getByText('Say why the money is given back')).toBeInTheDocument();
    await user.clear(amount);
    await user.type(amount, '1000');
    await user.type(screen.getByLabelText('Reason'), 'Customer cancelled one night');
    await user.click(screen.getByRole('button', { name: 'Refund' }));
    expect(await screen.findByText(/Refund of .*1,000\.00 processed/)).toBeInTheDocument();
    expect(dialog).not.toBeInTheDocument();
    const post = api.called('POST', '/api/payments/6b080aefdfe7af34aa0e7001/refund');
    expect(post).toHaveLength(1);
    expect(post[0].body).toEqual({ amount: '1000', reason: 'Customer cancelled one night' });
    expect(key(post[0])).toBeTruthy();
  });

  it('offers recording only to the booking\'s agent or canViewAllPayments', async () => {
    mockApi(routes());
    const { unmount } = renderAs(staticAuth('senior_agent', { canViewAllBookings: true }), <PaymentsSection booking={makeBooking({ status: 'confirmed', agent: 'other' })} />);
    await screen.findByTestId('payment-balance');
    expect(screen.queryByRole('button', { name: 'Record payment' })).not.toBeInTheDocument();
    unmount();
    mockApi(routes());
    renderAs(staticAuth('admin', { canViewAllPayments: true }), <PaymentsSection booking={makeBooking({ status: 'confirmed', agent: 'other' })} />);
    await screen.findByTestId('payment-balance');
    expect(screen.getByRole('button', { name: 'Record payment' })).toBeInTheDocument();
  });

  it('lists every refund with its amount, reason, date and who processed it', async () => {
    const auth = staticAuth('admin', { canProcessRefunds: true, canViewAllAgents: true });
    const refunds = [
      { _id: '6b080aefdfe7af34aa0e7101', payment: '6b080aefdfe7af34aa0e7001', amount: 300, amountMinor: 30000, currency: 'INR', reason: 'Room downgrade', processedBy: auth.agent!._id, createdAt: '2026-12-02T09:30:00.000Z' },
      { _id: '6b080aefdfe7af34aa0e7102', payment: '6b080aefdfe7af34aa0e7001', amount: 200, amountMinor: 20000, currency: 'INR', reason: 'Late check-in', processedBy: '6b080aefdfe7af34aa0e6999', createdAt: '2026-12-03T09:30:00.000Z' },
    ];
    mockApi({
      ...routes(),
      'GET /api/payments/booking/6b080aefdfe7af34aa0e68d2/summary': ok({ booking: BOOKING, currency: 'INR', total: 50000, paid: 2500, refunded: 500, outstanding: 48000, paymentStatus: 'partially_paid', refunds }),
      'GET /api/agents/directory': ok([{ _id: '6b080aefdfe7af34aa0e6999', firstName: 'Asha', lastName: 'Rao', email: 'asha@example.com' }], { page: 1, limit: 20, totalDocs: 1, totalPages: 1, hasNext: false, hasPrev: false }),
    });
    renderAs(auth, <PaymentsSection booking={makeBooking({ status: 'confirmed' })} />);
    const table = await screen.findByTestId('refunds-table');
    const rows = within(table).getAllByRole('row').slice(1);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toHaveTextContent('300.00');
    expect(rows[0]).toHaveTextContent('Room downgrade');
    expect(rows[0]).toHaveTextContent('You');
    expect(rows[0]).toHaveTextContent(/2026/);
    expect(rows[0]).toHaveTextContent(/2,500\.00 paid/);
    expect(rows[1]).toHaveTextContent('Late check-in');
    expect(await within(rows[1]).findByText('Asha Rao')).toBeInTheDocument();
  });

  it('shows no refund list while nothing was refunded', async () => {
    mockApi(routes());
    renderAs(staticAuth('agent'), <PaymentsSection booking={makeBooking({ status: 'confirmed' })} />);
    await screen.findByText('Partially refunded');
    expect(screen.queryByTestId('refunds-table')).not.toBeInTheDocument();
  });

  it('hides the record button on a cancelled booking', async () => {
    mockApi(routes());
    renderAs(staticAuth('agent'), <PaymentsSection booking={makeBooking({ status: 'cancelled' })} />);
    await screen.findByTestId('payment-balance');
    expect(screen.queryByRole('button', { name: 'Record payment' })).not.toBeInTheDocument();
  });
});
