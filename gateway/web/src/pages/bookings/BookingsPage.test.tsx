import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { Route, Routes, useLocation } from 'react-router-dom';
import { describe, expect, it } from 'vitest';
import { formatDay } from '../../lib/format';
import { makeBooking } from '../../test/fixtures';
import { fail, mockApi, ok, renderAs, staticAuth } from '../../test/utils';
import { BookingsPage } from './BookingsPage';

const page = (n: number, total = n) => ({ page: 1, limit: 20, totalDocs: total, totalPages: Math.ceil(total / 20), hasNext: false, hasPrev: false });

/** Shows the current query string so a test can read the URL. */
function Location() {
  const l = useLocation();
  return <output data-testid="location">{l.search}</output>;
}

const ui = (
  <Routes>
    <Route
      path="/bookings"
      element={
        <>
          <BookingsPage />
          <Location />
        </>
      }
    />
  </Routes>
);

const agent = staticAuth('agent');
const url = () => new URLSearchParams(screen.getByTestId('location').textContent ?? '');

function listCalls(api: ReturnType<typeof mockApi>) {
  return api.called('GET', '/api/bookings').map((c) => new URL(c.url, 'http://x').searchParams);
}

describe('bookings filter panel and the URL', () => {
  it('reads a bookmarked URL into the request, the chips and the panel', async () => {
    const api = mockApi({ 'GET /api/bookings': ok([makeBooking()], page(1)) });
    renderAs(agent, ui, '/bookings?status=confirmed,completed&startDateFrom=2026-03-01&minAmount=50000&sortBy=startDate&sortOrder=asc&page=2&status2=x');
    expect(await screen.findByText('TD-261126-JCFN1')).toBeInTheDocument();
    const q = listCalls(api).at(-1)!;
    expect(q.get('status')).toBe('confirmed,completed');
    expect(q.get('startDateFrom')).toBe('2026-03-01');
    expect(q.get('minAmount')).toBe('50000');
    expect(q.get('sortBy')).toBe('startDate');
    expect(q.get('sortOrder')).toBe('asc');
    expect(q.get('page')).toBe('2');
    expect(q.has('status2')).toBe(false);
    const chips = screen.getByRole('list', { name: 'Active filters' });
    expect(within(chips).getByText('Status: Confirmed, Completed')).toBeInTheDocument();
    expect(within(chips).getByText(`Trip start: from ${formatDay('2026-03-01')}`)).toBeInTheDocument();
    expect(within(chips).getByText('Total amount: at least 50000')).toBeInTheDocument();
    // The panel opens on the same values.
    const user = userEvent.setup();
    await user.click(screen.getByRole('button', { name: /Show filters/ }));
    const panel = screen.getByRole('form', { name: 'Filters' });
    expect(within(panel).getByRole('checkbox', { name: 'Confirmed' })).toBeChecked();
    expect(within(panel).getByRole('checkbox', { name: 'Pending' })).not.toBeChecked();
    expect(within(panel).getByLabelText('Trip start From')).toHaveValue('2026-03-01');
    expect(within(panel).getByLabelText('Total amount Min')).toHaveValue(50000);
    expect(screen.getByLabelText('Sort by')).toHaveValue('startDate');
  });

  it('drops values the API would refuse instead of failing', async () => {
    const api = mockApi({ 'GET /api/bookings': ok([], page(0)) });
    renderAs(agent, ui, '/bookings?status=bogus,pending&startDateFrom=yesterday&minAmount=-5&agent=nope&limit=7');
    expect(await screen.findByText('No bookings match these filters')).toBeInTheDocument();
    const q = listCalls(api).at(-1)!;
    expect(q.get('status')).toBe('pending');
    expect(q.has('startDateFrom')).toBe(false);
    expect(q.has('minAmount')).toBe(false);
    expect(q.has('agent')).toBe(false);
    expect(q.get('limit')).toBe('20');
  });

  it('applies the panel to the URL and the request, back on page 1', async () => {
    const api = mockApi({ 'GET /api/bookings': ok([makeBooking()], page(1)) });
    renderAs(agent, ui, '/bookings?page=3');
    const user = userEvent.setup();
    await user.click(await screen.findByRole('button', { name: /Show filters/ }));
    const panel = screen.getByRole('form', { name: 'Filters' });
    await user.click(within(panel).getByRole('checkbox', { name: 'Honeymoon' }));
    await user.click(within(panel).getByRole('checkbox', { name: 'Urgent' }));
    await user.type(within(panel).getByLabelText('Destination'), 'Bali');
    await user.type(within(panel).getByLabelText('Trip start From'), '2026-03-01');
    await user.type(within(panel).getByLabelText('Trip start To'), '2026-06-01');
    await user.type(within(panel).getByLabelText('Total amount Max'), '200000');
    // Nothing is requested before Apply.
    expect(listCalls(api).some((q) => q.has('tripType'))).toBe(false);
    await user.click(within(panel).getByRole('button', { name: 'Apply filters' }));
    await waitFor(() => expect(url().get('tripType')).toBe('honeymoon'));
    expect(url().get('priority')).toBe('urgent');
    expect(url().get('destination')).toBe('Bali');
    expect(url().get('startDateFrom')).toBe('2026-03-01');
    expect(url().get('startDateTo')).toBe('2026-06-01');
    expect(url().get('maxAmount')).toBe('200000');
    expect(url().has('page')).toBe(false);
    await waitFor(() => expect(listCalls(api).some((q) => q.get('tripType') === 'honeymoon' && q.get('maxAmount') === '200000' && q.get('page') === '1')).toBe(true));
    // A chip removes its filter from the URL.
    await user.click(screen.getByRole('button', { name: 'Remove filter Priority: Urgent' }));
    await waitFor(() => expect(url().has('priority')).toBe(false));
    expect(url().get('tripType')).toBe('honeymoon');
  });

  it('refuses a range the wrong way round before touching the URL', async () => {
    mockApi({ 'GET /api/bookings': ok([makeBooking()], page(1)) });
    renderAs(agent, ui, '/bookings');
    const user = userEvent.setup();
    await user.click(await screen.findByRole('button', { name: /Show filters/ }));
    const panel = screen.getByRole('form', { name: 'Filters' });
    await user.type(within(panel).getByLabelText('Total amount Min'), '5000');
    await user.type(within(panel).getByLabelText('Total amount Max'), '100');
    await user.type(within(panel).getByLabelText('Created From'), '2026-05-02');
    await user.type(within(panel).getByLabelText('Created To'), '2026-05-01');
    await user.click(within(panel).getByRole('button', { name: 'Apply filters' }));
    expect(within(panel).getByText('The maximum must not be below the minimum')).toBeInTheDocument();
    expect(within(panel).getByText('The end must not be before the start')).toBeInTheDocument();
    expect(within(panel).getByLabelText('Total amount Max')).toHaveAttribute('aria-invalid', 'true');
    expect(url().toString()).toBe('');
  });

  it('keeps search, sort and page size in the URL', async () => {
    const api = mockApi({ 'GET /api/bookings': ok([makeBooking()], page(1)) });
    renderAs(agent, ui, '/bookings');
    const user = userEvent.setup();
    await user.type(await screen.findByLabelText('Search bookings'), 'goa');
    await waitFor(() => expect(url().get('search')).toBe('goa'));
    await user.selectOptions(screen.getByLabelText('Sort by'), 'totalAmount');
    await user.selectOptions(screen.getByLabelText('Order'), 'asc');
    await user.selectOptions(screen.getByLabelText('Per page'), '50');
    await waitFor(() => expect(url().get('limit')).toBe('50'));
    expect(url().get('sortBy')).toBe('totalAmount');
    expect(url().get('sortOrder')).toBe('asc');
    await waitFor(() =>
      expect(listCalls(api).some((q) => q.get('search') === 'goa' && q.get('sortBy') === 'totalAmount' && q.get('sortOrder') === 'asc' && q.get('limit') === '50')).toBe(true),
    );
  });

  it('shows a banner when the booking service is down, and the filters stay usable', async () => {
    mockApi({ 'GET /api/bookings': fail(503, 'SERVICE_UNAVAILABLE', 'The booking service is unavailable', { service: 'booking' }) });
    renderAs(agent, ui, '/bookings?status=pending');
    expect(await screen.findByTestId('service-banner', {}, { timeout: 8000 })).toHaveTextContent('The Booking service is temporarily unavailable');
    expect(screen.getByRole('button', { name: /Show filters/ })).toBeEnabled();
    expect(screen.getByLabelText('Search bookings')).toBeEnabled();
  });
});
