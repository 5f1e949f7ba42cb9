// /bookings/new (optionally ?customer=<id>) and /bookings/:id/edit. Invalid input is
// refused before sending; the server's validation errors land on their field, its
// 409 conflict next to the dates with a link to the other booking, and a
// VERSION_CONFLICT (someone else saved first) offers to reload.
import { zodResolver } from '@hookform/resolvers/zod';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { Controller, useForm, type UseFormRegister } from 'react-hook-form';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router-dom';
import { isApiError } from '../../api/client';
import { bookingsApi } from '../../api/endpoints';
import { CLOSED_BOOKING_STATUSES, type Booking } from '../../api/types';
import { CustomerPicker } from '../../components/CustomerPicker';
import { Alert, ErrorState, ServiceBanner, Spinner, errorMessage } from '../../components/Feedback';
import { isObjectId } from '../../lib/listParams';
import { applyFieldError, bookingConflict, isVersionConflict } from '../../lib/serverErrors';
import { useDocumentTitle } from '../../lib/useDocumentTitle';
import {
  BOOKING_ALIASES,
  BOOKING_FIELDS,
  EMPTY_TRIP,
  bookingEditSchema,
  bookingSchema,
  bookingValues,
  tripBody,
  type BookingValues,
  type TripValues,
} from './bookingForm';
import { TripFields } from './TripFields';

export function BookingFormPage() {
  const { id } = useParams();
  const editing = Boolean(id);
  const q = useQuery({
    queryKey: ['bookings', 'one', id],
    queryFn: () => bookingsApi.get(id!),
    enabled: editing,
  });
  useDocumentTitle(editing ? 'Edit booking' : 'New booking');

  if (!editing) return <BookingForm />;
  if (q.isPending) return <Spinner label="Loading the booking…" />;
  if (q.isError) {
    return (
      <section className="page">
        <h1>Edit booking</h1>
        <ErrorState error={q.error} onRetry={() => void q.refetch()} what="the booking" />
      </section>
    );
  }
  return <BookingForm booking={q.data} onReload={() => q.refetch()} />;
}

export function BookingForm({ booking, onReload }: { booking?: Booking; onReload?: () => Promise<unknown> }) {
  const editing = Boolean(booking);
  const navigate = useNavigate();
  const qc = useQueryClient();
  const [params] = useSearchParams();
  const presetCustomer = params.get('customer') ?? '';
  const [error, setError] = useState<unknown>(null);
  const [conflict, setConflict] = useState<ReturnType<typeof bookingConflict>>(null);
  const conflictRef = useRef<HTMLDivElement>(null);

  const {
    register,
    control,
    handleSubmit,
    reset,
    watch,
    setError: setFieldError,
    formState: { errors, isSubmitting },
  } = useForm<BookingValues>({
    resolver: zodResolver(editing ? bookingEditSchema : bookingSchema),
    defaultValues: booking ? bookingValues(booking) : { ...EMPTY_TRIP, customer: isObjectId(presetCustomer) ? presetCustomer : '' },
  });

  // A conflict is about the dates, destination and customer: clear it when they change.
  const [customer, destination, startDate, endDate] = watch(['customer', 'destination', 'startDate', 'endDate']);
  const conflictKey = conflict ? `${customer}|${destination}|${startDate}|${endDate}` : '';
  const shownFor = useRef('');
  useEffect(() => {
    if (!conflict) return;
    if (!shownFor.current) shownFor.current = conflictKey;
    else if (shownFor.current !== conflictKey) {
      shownFor.current = '';
      setConflict(null);
    }
  }, [conflict, conflictKey]);
  useEffect(() => {
    if (conflict) conflictRef.current?.focus();
  }, [conflict]);

  const onSubmit = handleSubmit(async (v) => {
    setError(null);
    setConflict(null);
    shownFor.current = '';
    try {
      let saved: Booking;
      if (booking) {
        saved = await bookingsApi.update(booking._id, { ...tripBody(v), notes: v.notes.trim(), version: booking.version });
      } else {
        saved = await bookingsApi.create({ customer: v.customer, ...tripBody(v) });
      }
      qc.setQueryData(['bookings', 'one', saved._id], saved);
      void qc.invalidateQueries({ queryKey: ['bookings', 'list'] });
      navigate(`/bookings/${saved._id}`, { state: { flash: booking ? 'The booking was saved.' : `Booking ${saved.bookingReference} was created.` } });
    } catch (e) {
      const c = bookingConflict(e);
      if (c) {
        setConflict(c);
        return;
      }
      if (applyFieldError(e, BOOKING_FIELDS, setFieldError, BOOKING_ALIASES)) return;
      setError(e);
    }
  });

  const closed = booking && CLOSED_BOOKING_STATUSES.includes(booking.status);
  const title = booking ? `Edit ${booking.bookingReference}` : 'New booking';
  return (
    <section className="page page-narrow" aria-labelledby="booking-form-title">
      <header className="page-header">
        <div>
          <nav className="breadcrumbs" aria-label="Breadcrumb">
            <Link to="/bookings">Bookings</Link>
            {booking && (
              <>
                {' / '}
                <Link to={`/bookings/${booking._id}`}>{booking.bookingReference}</Link>
              </>
            )}
          </nav>
          <h1 id="booking-form-title">{title}</h1>
          <p className="muted">
            {booking ? `For ${booking.customerName ?? 'the customer'}. ` : ''}A customer cannot have two live bookings at the same destination on overlapping dates.
          </p>
        </div>
      </header>

      {closed && (
        <Alert kind="warning" title="This booking is closed">
          A {booking.status} booking cannot be edited.
        </Alert>
      )}
      <ServiceBanner error={error} />
      {isVersionConflict(error) && (
        <Alert kind="warning" title="Someone else changed this booking">
          <p>Your changes were not saved because the booking changed after you opened it.</p>
          <button
            type="button"
            className="btn btn-small"
            onClick={async () => {
              const r = (await onReload?.()) as { data?: Booking } | undefined;
              if (r?.data) reset(bookingValues(r.data));
              setError(null);
            }}
          >
            Reload the latest version
          </button>
        </Alert>
      )}
      {error != null && !isVersionConflict(error) && !(isApiError(error) && error.unavailable) && (
        <Alert title={booking ? 'The booking was not saved' : 'The booking was not created'}>{errorMessage(error)}</Alert>
      )}

      <form className="form card" onSubmit={onSubmit} noValidate aria-labelledby="booking-form-title">
        {booking ? (
          <div className="field">
            <span className="field-label">Customer</span>
            <div>
              <Link to={`/customers/${booking.customer}`}>{booking.customerName || 'Customer'}</Link>
            </div>
          </div>
        ) : (
          <Controller
            control={control}
            name="customer"
            render={({ field }) => (
              <CustomerPicker
                ref={field.ref}
                label="Customer"
                value={field.value}
                onChange={(cid) => field.onChange(cid)}
                onBlur={field.onBlur}
                error={errors.customer?.message}
                hint={
                  <>
                    Not there yet? <Link to="/customers/new">Add a customer</Link> first.
                  </>
                }
              />
            )}
          />
        )}
        <TripFields
          register={register as unknown as UseFormRegister<TripValues>}
          errors={errors}
          conflict={conflict}
          conflictRef={conflictRef}
        />
        <div className="actions">
          <button type="submit" className="btn btn-primary" disabled={isSubmitting || Boolean(closed)}>
            {isSubmitting ? 'Saving…' : booking ? 'Save changes' : 'Create booking'}
          </button>
          <Link className="btn" to={booking ? `/bookings/${booking._id}` : '/bookings'}>
            Cancel
          </Link>
        </div>
      </form>
    </section>
  );
}
