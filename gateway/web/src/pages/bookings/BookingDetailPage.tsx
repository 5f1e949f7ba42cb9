// /bookings/:id: the booking, its allowed status changes, edit and delete, and the
// itineraries planned for it, and its payments (PaymentsSection).
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useParams } from 'react-router-dom';
import { bookingsApi, itinerariesApi } from '../../api/endpoints';
import { BOOKING_TRANSITIONS, CLOSED_BOOKING_STATUSES, type Booking, type BookingStatus } from '../../api/types';
import { useAuth } from '../../auth/AuthContext';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { Alert, ErrorState, Spinner } from '../../components/Feedback';
import { KV } from '../../components/KV';
import { StatusBadge } from '../../components/StatusBadge';
import { dayCount, formatDateTime, formatDayRange, formatMoney, isoDay } from '../../lib/format';
import { BOOKING_ACTION_LABELS, valueLabel } from '../../lib/labels';
import { useAgentDirectory } from '../../lib/useAgents';
import { useDocumentTitle } from '../../lib/useDocumentTitle';
import { useDeleteRecord } from '../../lib/useDeleteRecord';
import { useFlash } from '../../lib/useFlash';
import { PaymentsSection } from '../payments/PaymentsSection';
import { StatusActions } from './StatusActions';

export function BookingDetailPage() {
  const { id = '' } = useParams();
  const q = useQuery({ queryKey: ['bookings', 'one', id], queryFn: () => bookingsApi.get(id) });
  useDocumentTitle(q.data ? `Booking ${q.data.bookingReference}` : 'Booking');
  if (q.isPending) return <Spinner label="Loading the booking…" />;
  if (q.isError) {
    return (
      <section className="page">
        <nav className="breadcrumbs" aria-label="Breadcrumb">
          <Link to="/bookings">Bookings</Link>
        </nav>
        <h1>Booking</h1>
        <ErrorState error={q.error} onRetry={() => void q.refetch()} what="the booking" />
      </section>
    );
  }
  return <BookingDetail key={q.data._id} booking={q.data} reload={() => void q.refetch()} />;
}

function BookingDetail({ booking: b, reload }: { booking: Booking; reload: () => void }) {
  const { agent: me, permissions } = useAuth();
  const { nameOf } = useAgentDirectory();
  const qc = useQueryClient();
  const [flash, setFlash] = useFlash();

  const mine = b.agent === me?._id;
  const canChange = mine || permissions.canUpdateAnyBooking === true;
  const canDelete = mine || permissions.canDeleteAnyBooking === true;
  const closed = CLOSED_BOOKING_STATUSES.includes(b.status);
  const next = BOOKING_TRANSITIONS[b.status] ?? [];
  const t = b.tripDetails;
  const nights = Math.max(0, dayCount(isoDay(t?.startDate), isoDay(t?.endDate)) - 1);

  const itineraries = useQuery({
    queryKey: ['itineraries', 'list', { booking: b._id }],
    queryFn: () => itinerariesApi.list({ booking: b._id, limit: 10, page: 1 }),
  });

  const deletion = useDeleteRecord({
    remove: () => bookingsApi.remove(b._id),
    resource: 'bookings',
  });

  return (
    <section className="page" aria-labelledby="booking-title">
      <header className="page-header">
        <div>
          <nav className="breadcrumbs" aria-label="Breadcrumb">
            <Link to="/bookings">Bookings</Link>
          </nav>
          <h1 id="booking-title" className="title-with-badges">
            <span className="mono">{b.bookingReference}</span>
            <StatusBadge value={b.status} prefix="Status" />
          </h1>
          <p className="muted">
            {t?.title} · {t?.destination} · {formatDayRange(t?.startDate, t?.endDate)}
          </p>
        </div>
        <div className="actions">
          {canChange && !closed && (
            <Link className="btn" to={`/bookings/${b._id}/edit`}>
              Edit
            </Link>
          )}
          {canDelete && (
            <button type="button" className="btn btn-ghost-danger" onClick={deletion.ask}>
              Delete
            </button>
          )}
        </div>
      </header>

      {flash && (
        <Alert kind="success" onDismiss={() => setFlash(null)}>
          {flash}
        </Alert>
      )}

      <section className="card status-card" aria-labelledby="status-title">
        <div>
          <h2 id="status-title">Status</h2>
          <p className="muted small">
            {next.length === 0
              ? 'This booking has reached its final status.'
              : canChange
                ? `Next: ${next.map(valueLabel).join(' or ')}.`
                : 'Only the booking’s agent (or an agent who may update any booking) can change its status.'}
            {b.statusReason ? ` Last reason: “${b.statusReason}”.` : ''}
          </p>
        </div>
        {canChange && (
          <StatusActions
            what={`booking ${b.bookingReference}`}
            current={b.status}
            next={next}
            labels={BOOKING_ACTION_LABELS}
            danger={['cancelled', 'refunded']}
            onChange={async (status, reason) => {
              const updated = await bookingsApi.setStatus(b._id, status as BookingStatus, reason);
              qc.setQueryData(['bookings', 'one', b._id], updated);
              void qc.invalidateQueries({ queryKey: ['bookings', 'list'] });
              setFlash(`The booking is now ${valueLabel(status).toLowerCase()}.`);
            }}
            onDone={(s) => s === null && reload()}
          />
        )}
      </section>

      <div className="detail-grid">
        <section className="card" aria-labelledby="trip-title">
          <h2 id="trip-title">Trip</h2>
          <dl className="kv-list">
            <KV k="Title" v={t?.title} />
            <KV k="Destination" v={t?.destination} />
            <KV k="Dates" v={`${formatDayRange(t?.startDate, t?.endDate)} (${nights} ${nights === 1 ? 'night' : 'nights'})`} />
            <KV k="Trip type" v={valueLabel(t?.tripType)} />
            <KV
              k="Travellers"
              v={`${t?.travellers?.adults ?? 0} adults, ${t?.travellers?.children ?? 0} children, ${t?.travellers?.infants ?? 0} infants`}
            />
            <KV k="Priority" v={<StatusBadge value={b.priority} />} />
          </dl>
        </section>
        <section className="card" aria-labelledby="pricing-title">
          <h2 id="pricing-title">Pricing and payment</h2>
          <dl className="kv-list">
            <KV k="Total" v={formatMoney(b.pricing?.totalAmount, b.pricing?.currency)} />
            <KV k="Tax" v={formatMoney(b.pricing?.taxAmount ?? 0, b.pricing?.currency)} />
            <KV k="Discount" v={formatMoney(b.pricing?.discount ?? 0, b.pricing?.currency)} />
            <KV k="Payment" v={<StatusBadge value={b.paymentStatus} />} />
          </dl>
        </section>
        <section className="card" aria-labelledby="people-title">
          <h2 id="people-title">Customer and agent</h2>
          <dl className="kv-list">
            <KV k="Customer" v={<Link to={`/customers/${b.customer}`}>{b.customerName || 'View customer'}</Link>} />
            <KV k="Agent" v={nameOf(b.agent)} />
            {b.lead && <KV k="From lead" v={<Link to={`/leads/${b.lead}`}>View lead</Link>} />}
            <KV k="Created" v={formatDateTime(b.createdAt)} />
            <KV k="Updated" v={formatDateTime(b.updatedAt)} />
          </dl>
        </section>
        {b.statusDates && Object.keys(b.statusDates).length > 0 && (
          <section className="card" aria-labelledby="history-title">
            <h2 id="history-title">Status history</h2>
            <dl className="kv-list">
              {Object.entries(b.statusDates)
                .sort((x, y) => String(x[1]).localeCompare(String(y[1])))
                .map(([s, when]) => (
                  <KV key={s} k={valueLabel(s)} v={formatDateTime(when)} />
                ))}
            </dl>
          </section>
        )}
      </div>

      {b.notes && (
        <section className="card" aria-labelledby="notes-title">
          <h2 id="notes-title">Notes</h2>
          <p className="prewrap">{b.notes}</p>
        </section>
      )}

      <PaymentsSection booking={b} />

      <section className="card" aria-labelledby="itin-title">
        <div className="section-head">
          <h2 id="itin-title">Itineraries</h2>
          {canChange && (
            <Link className="btn btn-small" to={`/itineraries/new?booking=${b._id}`}>
              Plan an itinerary
            </Link>
          )}
        </div>
        {itineraries.isPending && <Spinner label="Loading itineraries…" />}
        {itineraries.isError && <ErrorState error={itineraries.error} onRetry={() => void itineraries.refetch()} what="itineraries" />}
        {itineraries.data && itineraries.data.items.length === 0 && <p className="muted">No itinerary planned for this booking yet.</p>}
        {itineraries.data && itineraries.data.items.length > 0 && (
          <ul className="link-list">
            {itineraries.data.items.map((it) => (
              <li key={it._id}>
                <Link to={`/itineraries/${it._id}`}>{it.title}</Link>{' '}
                <span className="muted small">
                  {it.days?.length ?? 0} days planned · {formatDayRange(it.startDate, it.endDate)}
                </span>
              </li>
            ))}
          </ul>
        )}
      </section>

      <ConfirmDialog
        open={deletion.open}
        title="Delete this booking?"
        confirmLabel="Yes, delete"
        tone="danger"
        busy={deletion.busy}
        error={deletion.error}
        onCancel={deletion.cancel}
        onConfirm={() => void deletion.confirm()}
      >
        <p>
          Booking <strong>{b.bookingReference}</strong> for {b.customerName || 'the customer'} will be removed. To keep a record, cancel it instead.
        </p>
      </ConfirmDialog>
    </section>
  );
}
