import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { Route, Routes } from 'react-router-dom';
import { describe, expect, it } from 'vitest';
import { formatDayRange } from '../../lib/format';
import { makeBooking, makeCustomer } from '../../test/fixtures';
import { fail, mockApi, ok, renderAs, staticAuth } from '../../test/utils';
import { BookingDetailPage } from './BookingDetailPage';
import { BookingFormPage } from './BookingFormPage';

const CUSTOMER = makeCustomer();

const ui = (
  <Routes>
    <Route path="/bookings/new" element={<BookingFormPage />} />
    <Route path="/bookings/:id/edit" element={<BookingFormPage />} />
    <Route path="/bookings/:id" element={<BookingDetailPage />} />
  </Routes>
);
const agent = staticAuth('agent');

async function fillTrip(user: ReturnType<typeof userEvent.setup>, over: Record<string, string> = {}) {
  const v = { 'Trip title': 'Goa again', Destination: 'Goa', 'Start date': '2026-12-12', 'End date': '2026-12-16', 'Total amount': '45000', ...over };
  for (const [label, value] of Object.entries(v)) {
    const input = screen.getByLabelText(label);
    await user.clear(input);
    if (value) await user.type(input, value);
  }
}

describe('booking form', () => {
  it('refuses invalid input before sending anything', async () => {
    const api = mockApi({});
    renderAs(agent, ui, '/bookings/new');
    const user = userEvent.setup();
    await user.clear(screen.getByLabelText('Adults'));
    await user.type(screen.getByLabelText('Adults'), '0');
    await user.clear(screen.getByLabelText('Currency'));
    await user.type(screen.getByLabelText('Currency'), 'rupees');
    await user.type(screen.getByLabelText('Start date'), '2026-12-16');
    await user.type(screen.getByLabelText('End date'), '2026-12-12');
    await user.click(screen.getByRole('button', { name: 'Create booking' }));
    expect(await screen.findByText('Choose a customer')).toBeInTheDocument();
    expect(screen.getByText('Enter a trip title')).toBeInTheDocument();
    expect(screen.getByText('Enter a destination')).toBeInTheDocument();
    expect(screen.getByText('The end date must not be before the start date')).toBeInTheDocument();
    expect(screen.getByText('Adults: a whole number from 1 to 500')).toBeInTheDocument();
    expect(screen.getByText('Enter the total amount (0 or more, up to 2 decimals)')).toBeInTheDocument();
    expect(screen.getByText('Use a 3-letter ISO 4217 code such as INR')).toBeInTheDocument();
    expect(screen.getByLabelText('Trip title')).toHaveAttribute('aria-invalid', 'true');
    expect(screen.getByLabelText('End date')).toHaveAccessibleDescription('The end date must not be before the start date');
    expect(api.called('POST', '/api/bookings')).toHaveLength(0);
  });

  it('shows the 409 conflict next to the dates with a link to the other booking', async () => {
    const api = mockApi({
      [`GET /api/customers/${CUSTOMER._id}`]: ok(CUSTOMER),
      'POST /api/bookings': fail(409, 'BOOKING_CONFLICT', 'The customer already has booking TD-261126-JCFN1 at this destination on overlapping dates', {
        conflictingBooking: { _id: '6b080aefdfe7af34aa0e68d2', bookingReference: 'TD-261126-JCFN1', startDate: '2026-12-10T00:00:00.000Z', endDate: '2026-12-15T00:00:00.000Z' },
        field: 'tripDetails.startDate',
      }),
    });
    renderAs(agent, ui, `/bookings/new?customer=${CUSTOMER._id}`);
    const user = userEvent.setup();
    await waitFor(() => expect(screen.getByLabelText('Customer')).toHaveValue('Anil Sharma'));
    await fillTrip(user);
    await user.click(screen.getByRole('button', { name: 'Create booking' }));

    const notice = await screen.findByTestId('booking-conflict');
    expect(notice).toHaveTextContent('These dates overlap another booking');
    expect(notice).toHaveTextContent(`TD-261126-JCFN1: ${formatDayRange('2026-12-10T00:00:00.000Z', '2026-12-15T00:00:00.000Z')}`);
    const link = within(notice).getByRole('link', { name: 'View booking TD-261126-JCFN1' });
    expect(link).toHaveAttribute('href', '/bookings/6b080aefdfe7af34aa0e68d2');
    // It sits with the trip dates, which point at it.
    expect(within(screen.getByRole('group', { name: 'Trip' })).getByTestId('booking-conflict')).toBe(notice);
    expect(screen.getByLabelText('Start date')).toHaveAttribute('aria-describedby', notice.id);
    expect(screen.getByLabelText('Start date')).toHaveAttribute('aria-invalid', 'true');
    expect(notice).toHaveFocus();

    const body = api.called('POST', '/api/bookings')[0].body as Record<string, unknown>;
    expect(body).toEqual({
      customer: CUSTOMER._id,
      tripDetails: {
        title: 'Goa again',
        destination: 'Goa',
        startDate: '2026-12-12',
        endDate: '2026-12-16',
        tripType: 'leisure',
        travellers: { adults: 1, children: 0, infants: 0 },
      },
      pricing: { totalAmount: 45000, currency: 'INR' },
      priority: 'medium',
    });

    // Moving the dates clears it.
    await user.clear(screen.getByLabelText('End date'));
    await user.type(screen.getByLabelText('End date'), '2026-12-20');
    await waitFor(() => expect(screen.queryByTestId('booking-conflict')).not.toBeInTheDocument());
  });

  it('says so for an exact duplicate', async () => {
    mockApi({
      [`GET /api/customers/${CUSTOMER._id}`]: ok(CUSTOMER),
      'POST /api/bookings': fail(409, 'DUPLICATE_BOOKING', 'This booking duplicates TD-261126-JCFN1 (same customer, destination and dates)', {
        conflictingBooking: { _id: '6b080aefdfe7af34aa0e68d2', bookingReference: 'TD-261126-JCFN1', startDate: '2026-12-12T00:00:00.000Z', endDate: '2026-12-16T00:00:00.000Z' },
        field: 'tripDetails.startDate',
      }),
    });
    renderAs(agent, ui, `/bookings/new?customer=${CUSTOMER._id}`);
    const user = userEvent.setup();
    await waitFor(() => expect(screen.getByLabelText('Customer')).toHaveValue('Anil Sharma'));
    await fillTrip(user);
    await user.click(screen.getByRole('button', { name: 'Create booking' }));
    expect(await screen.findByTestId('booking-conflict')).toHaveTextContent('This booking already exists');
  });

  it.each([
    ['tripDetails.startDate', 'tripDetails.startDate must be a date (YYYY-MM-DD)', 'Start date'],
    ['startDate', 'startDate must be a date (YYYY-MM-DD)', 'Start date'],
    ['tripDetails.endDate', 'endDate must not be before startDate', 'End date'],
    ['totalAmount', 'totalAmount must be between 0 and 10000000000', 'Total amount'],
    ['pricing.currency', 'currency must be an ISO 4217 code such as INR', 'Currency'],
    ['adults', 'adults must be between 1 and 500', 'Adults'],
    ['title', 'title must not be empty', 'Trip title'],
  ])('puts the server error on %s at its field', async (field, message, label) => {
    mockApi({
      [`GET /api/customers/${CUSTOMER._id}`]: ok(CUSTOMER),
      'POST /api/bookings': fail(400, 'VALIDATION_ERROR', message, { field }),
    });
    renderAs(agent, ui, `/bookings/new?customer=${CUSTOMER._id}`);
    const user = userEvent.setup();
    await waitFor(() => expect(screen.getByLabelText('Customer')).toHaveValue('Anil Sharma'));
    await fillTrip(user);
    await user.click(screen.getByRole('button', { name: 'Create booking' }));
    await waitFor(() => expect(screen.getByLabelText(label)).toHaveAccessibleDescription(message));
    expect(screen.getByLabelText(label)).toHaveAttribute('aria-invalid', 'true');
    expect(screen.queryByText('The booking was not created')).not.toBeInTheDocument();
  });

  it('edits with the version and offers a reload on VERSION_CONFLICT', async () => {
    const b = makeBooking({ version: 3 });
    const api = mockApi({
      [`GET /api/bookings/${b._id}`]: ok(b),
      [`PUT /api/bookings/${b._id}`]: fail(409, 'VERSION_CONFLICT', 'The record was changed by someone else meanwhile; reload and retry'),
    });
    renderAs(agent, ui, `/bookings/${b._id}/edit`);
    const user = userEvent.setup();
    const title = await screen.findByLabelText('Trip title');
    expect(title).toHaveValue('Goa getaway');
    expect(screen.getByLabelText('Start date')).toHaveValue('2026-12-10');
    await user.clear(title);
    await user.type(title, 'Goa in December');
    await user.click(screen.getByRole('button', { name: 'Save changes' }));
    expect(await screen.findByText('Someone else changed this booking')).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Reload the latest version' })).toBeInTheDocument();
    const body = api.called('PUT', `/api/bookings/${b._id}`)[0].body as Record<string, unknown>;
    expect(body.version).toBe(3);
    expect(body).not.toHaveProperty('customer');
    expect((body.tripDetails as Record<string, unknown>).title).toBe('Goa in December');
  });
});

describe('booking status actions', () => {
  it('offers only the transitions the status machine allows', async () => {
    const b = makeBooking({ status: 'confirmed' });
    const api = mockApi({
      [`GET /api/bookings/${b._id}`]: ok(b),
      'GET /api/itineraries': ok([], { page: 1, limit: 10, totalDocs: 0, totalPages: 0, hasNext: false, hasPrev: false }),
      [`PATCH /api/bookings/${b._id}/status`]: ok({ ...b, status: 'cancelled', version: 2 }),
    });
    renderAs(agent, ui, `/bookings/${b._id}`);
    const group = await screen.findByRole('group', { name: 'Change status' });
    const names = within(group)
      .getAllByRole('button')
      .map((x) => x.textContent);
    expect(names).toEqual(['Start trip', 'Cancel booking']);
    const user = userEvent.setup();
    await user.click(within(group).getByRole('button', { name: 'Cancel booking' }));
    const dialog = screen.getByRole('dialog', { name: 'Cancel booking?' });
    await user.type(within(dialog).getByLabelText('Reason (recommended)'), 'Customer changed plans');
    await user.click(within(dialog).getByRole('button', { name: 'Cancel booking' }));
    expect(await screen.findByText('The booking is now cancelled.')).toBeInTheDocument();
    expect(api.called('PATCH', `/api/bookings/${b._id}/status`)[0].body).toEqual({ status: 'cancelled', reason: 'Customer changed plans' });
    // Cancelled: only a refund is left, and no more editing.
    const after = await screen.findByRole('group', { name: 'Change status' });
    expect(within(after).getAllByRole('button').map((x) => x.textContent)).toEqual(['Refund']);
    expect(screen.queryByRole('link', { name: 'Edit' })).not.toBeInTheDocument();
  });

  it('shows no status actions on another agent’s booking without canUpdateAnyBooking', async () => {
    const b = makeBooking({ agent: 'someone-else' });
    mockApi({
      [`GET /api/bookings/${b._id}`]: ok(b),
      'GET /api/itineraries': ok([], { page: 1, limit: 10, totalDocs: 0, totalPages: 0, hasNext: false, hasPrev: false }),
    });
    renderAs(staticAuth('senior_agent', { canViewAllBookings: true }), ui, `/bookings/${b._id}`);
    expect(await screen.findByText(/Only the booking’s agent/)).toBeInTheDocument();
    expect(screen.queryByRole('group', { name: 'Change status' })).not.toBeInTheDocument();
  });
});
