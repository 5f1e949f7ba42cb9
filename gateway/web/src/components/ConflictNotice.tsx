// The server's 409 BOOKING_CONFLICT / DUPLICATE_BOOKING, shown next to the trip
// dates with a link to the booking it collides with.
import { forwardRef } from 'react';
import { Link } from 'react-router-dom';
import type { ConflictingBooking } from '../api/types';
import { formatDayRange } from '../lib/format';

export const ConflictNotice = forwardRef<
  HTMLDivElement,
  { conflict: ConflictingBooking & { duplicate: boolean; message: string }; id?: string }
>(function ConflictNotice({ conflict, id }, ref) {
  const ref_ = conflict.bookingReference || 'the other booking';
  return (
    <div ref={ref} id={id} className="conflict-notice" role="alert" tabIndex={-1} data-testid="booking-conflict">
      <strong className="alert-title">{conflict.duplicate ? 'This booking already exists' : 'These dates overlap another booking'}</strong>
      <p>{conflict.message}</p>
      <p className="conflict-meta">
        <span>
          {ref_}: {formatDayRange(conflict.startDate, conflict.endDate)}
        </span>{' '}
        <Link to={`/bookings/${encodeURIComponent(conflict._id)}`}>View booking {conflict.bookingReference}</Link>
      </p>
      <p className="muted small">Change the dates or the destination, or cancel the other booking first.</p>
    </div>
  );
});
