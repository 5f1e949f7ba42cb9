// /customers/:id: the customer, their bookings, edit and delete.
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useParams } from 'react-router-dom';
import { isApiError } from '../../api/client';
import { bookingsApi, customersApi } from '../../api/endpoints';
import type { Customer } from '../../api/types';
import { useAuth } from '../../auth/AuthContext';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { Alert, EmptyState, ErrorState, Spinner } from '../../components/Feedback';
import { KV } from '../../components/KV';
import { Pagination } from '../../components/Pagination';
import { formatDateTime, formatDay, fullName } from '../../lib/format';
import { useAgentDirectory } from '../../lib/useAgents';
import { useDocumentTitle } from '../../lib/useDocumentTitle';
import { useDeleteRecord } from '../../lib/useDeleteRecord';
import { useFlash } from '../../lib/useFlash';
import { BookingsTable } from '../bookings/BookingsPage';

export function CustomerDetailPage() {
  const { id = '' } = useParams();
  const q = useQuery({ queryKey: ['customers', 'one', id], queryFn: () => customersApi.get(id) });
  useDocumentTitle(q.data ? fullName(q.data) : 'Customer');
  if (q.isPending) return <Spinner label="Loading the customer…" />;
  if (q.isError) {
    return (
      <section className="page">
        <nav className="breadcrumbs" aria-label="Breadcrumb">
          <Link to="/customers">Customers</Link>
        </nav>
        <h1>Customer</h1>
        <ErrorState error={q.error} onRetry={() => void q.refetch()} what="the customer" />
      </section>
    );
  }
  return <CustomerDetail key={q.data._id} customer={q.data} />;
}

function CustomerDetail({ customer: c }: { customer: Customer }) {
  const { agent: me, permissions } = useAuth();
  const { nameOf } = useAgentDirectory();
  const [flash, setFlash] = useFlash();
  const [page, setPage] = useState(1);
  const mine = c.agent === me?._id;
  const canEdit = mine || permissions.canViewAllCustomers === true;
  const canDelete = mine || permissions.canDeleteAnyCustomer === true;

  const bookings = useQuery({
    queryKey: ['bookings', 'list', { customer: c._id, page, limit: 10 }],
    queryFn: () => bookingsApi.list({ customer: c._id, page, limit: 10, sortBy: 'startDate', sortOrder: 'desc' }),
    placeholderData: keepPreviousData,
  });

  const deletion = useDeleteRecord({
    remove: () => customersApi.remove(c._id),
    resource: 'customers',
    describe: (e) => {
      if (!isApiError(e) || e.code !== 'CUSTOMER_HAS_BOOKINGS') return null;
      const n = Number(e.details.liveBookings) || 0;
      return `${fullName(c)} has ${n || 'some'} pending or active ${n === 1 ? 'booking' : 'bookings'}. Cancel ${n === 1 ? 'it' : 'them'} first.`;
    },
  });

  return (
    <section className="page" aria-labelledby="customer-title">
      <header className="page-header">
        <div>
          <nav className="breadcrumbs" aria-label="Breadcrumb">
            <Link to="/customers">Customers</Link>
          </nav>
          <h1 id="customer-title">{fullName(c)}</h1>
          <p className="muted">{[c.email, c.phone, c.city].filter(Boolean).join(' · ')}</p>
        </div>
        <div className="actions">
          <Link className="btn btn-primary" to={`/bookings/new?customer=${c._id}`}>
            New booking
          </Link>
          {canEdit && (
            <Link className="btn" to={`/customers/${c._id}/edit`}>
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
      <div className="detail-grid">
        <section className="card" aria-labelledby="contact-title">
          <h2 id="contact-title">Contact</h2>
          <dl className="kv-list">
            <KV k="Phone" v={c.phone} />
            <KV k="Email" v={c.email} />
            <KV k="City" v={c.city} />
            <KV k="Country" v={c.country} />
            <KV k="Address" v={c.address} />
          </dl>
        </section>
        <section className="card" aria-labelledby="docs-title">
          <h2 id="docs-title">Travel documents and record</h2>
          <dl className="kv-list">
            <KV k="Date of birth" v={c.dateOfBirth ? formatDay(c.dateOfBirth) : null} />
            <KV k="Passport" v={c.passportNumber} />
            <KV k="Agent" v={nameOf(c.agent)} />
            {c.lead && <KV k="From lead" v={<Link to={`/leads/${c.lead}`}>View lead</Link>} />}
            <KV k="Added" v={formatDateTime(c.createdAt)} />
            <KV k="Updated" v={formatDateTime(c.updatedAt)} />
          </dl>
        </section>
      </div>
      {c.notes && (
        <section className="card" aria-labelledby="cnotes-title">
          <h2 id="cnotes-title">Notes</h2>
          <p className="prewrap">{c.notes}</p>
        </section>
      )}

      <section aria-labelledby="cbookings-title">
        <div className="section-head">
          <h2 id="cbookings-title">Bookings</h2>
          <Link className="btn btn-small" to={`/bookings?customer=${c._id}`}>
            Open in the bookings list
          </Link>
        </div>
        {bookings.isPending && <Spinner label="Loading bookings…" />}
        {bookings.isError && <ErrorState error={bookings.error} onRetry={() => void bookings.refetch()} what="the customer’s bookings" />}
        {bookings.data && bookings.data.items.length === 0 && (
          <EmptyState title="No bookings yet">
            <Link className="btn btn-primary" to={`/bookings/new?customer=${c._id}`}>
              New booking
            </Link>
          </EmptyState>
        )}
        {bookings.data && bookings.data.items.length > 0 && (
          <div className={`card table-card${bookings.isPlaceholderData ? ' is-stale' : ''}`}>
            <div className="table-scroll">
              <BookingsTable items={bookings.data.items} showCustomer={false} />
            </div>
            <Pagination pagination={bookings.data.pagination} onPage={setPage} noun="bookings" />
          </div>
        )}
      </section>

      <ConfirmDialog
        open={deletion.open}
        title="Delete this customer?"
        confirmLabel="Yes, delete"
        tone="danger"
        busy={deletion.busy}
        error={deletion.error}
        onCancel={deletion.cancel}
        onConfirm={() => void deletion.confirm()}
      >
        <p>
          <strong>{fullName(c)}</strong> will be removed. Customers with pending or active bookings cannot be deleted.
        </p>
      </ConfirmDialog>
    </section>
  );
}
