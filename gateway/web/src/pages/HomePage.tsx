import { useQueries } from '@tanstack/react-query';
import { Link } from 'react-router-dom';
import { bookingsApi } from '../api/endpoints';
import { BOOKING_STATUSES } from '../api/types';
import { visibleNav } from '../auth/access';
import { useAuth } from '../auth/AuthContext';
import { ErrorState, Spinner } from '../components/Feedback';
import { LazyPart } from '../components/LazyPart';
import { formatCount } from '../lib/format';
import { roleLabel, valueLabel } from '../lib/labels';
import { useDocumentTitle } from '../lib/useDocumentTitle';

const loadStatusChart = () => import('../components/StatusChart');

const DESCRIPTIONS: Record<string, string> = {
  '/bookings': 'Find, filter and manage bookings and their status.',
  '/customers': 'Your customers and their trips.',
  '/leads': 'The enquiry pipeline: follow up, assign and convert.',
  '/itineraries': 'Day-by-day trip plans; clone one to start the next.',
  '/agents': 'Approve registrations, change roles, deactivate accounts.',
  '/permissions': 'Decide what each role may do, with a full version history.',
  '/health': 'Live status of every TripDesk service, MongoDB and Redis.',
  '/profile': 'Your account details and password.',
};

/** Bookings by status from the list API's totals (one small request per status). */
function BookingsByStatus() {
  const { permissions } = useAuth();
  const results = useQueries({
    queries: BOOKING_STATUSES.map((status) => ({
      queryKey: ['bookings', 'list', { status, limit: 1, page: 1 }],
      queryFn: () => bookingsApi.list({ status, limit: 1, page: 1 }),
      staleTime: 30_000,
    })),
  });
  const failed = results.find((r) => r.isError);
  const loading = results.some((r) => r.isPending);
  const data = BOOKING_STATUSES.map((status, i) => ({
    status,
    label: valueLabel(status),
    count: results[i].data?.pagination.totalDocs ?? 0,
  }));
  const total = data.reduce((n, d) => n + d.count, 0);
  return (
    <section className="card" aria-labelledby="by-status-title">
      <div className="section-head">
        <h2 id="by-status-title">{permissions.canViewAllBookings ? 'Bookings by status' : 'Your bookings by status'}</h2>
        <Link to="/bookings" className="btn btn-small">
          Open bookings
        </Link>
      </div>
      {failed ? (
        <ErrorState error={failed.error} onRetry={() => results.forEach((r) => r.isError && void r.refetch())} what="booking totals" />
      ) : loading ? (
        <Spinner label="Counting bookings…" />
      ) : (
        <div className="chart-layout">
          <LazyPart load={loadStatusChart} props={{ data }} what="the chart" placeholder={<div className="chart-box" />} />
          <ul className="status-totals" aria-label="Bookings by status">
            {data.map((d) => (
              <li key={d.status}>
                <Link to={`/bookings?status=${d.status}`}>
                  <span>{d.label}</span> <strong>{formatCount(d.count)}</strong>
                </Link>
              </li>
            ))}
            <li className="total">
              <span>Total</span> <strong>{formatCount(total)}</strong>
            </li>
          </ul>
        </div>
      )}
    </section>
  );
}

export function HomePage() {
  useDocumentTitle('Overview');
  const { agent, permissions } = useAuth();
  if (!agent) return null;
  const links = visibleNav({ role: agent.role, permissions }).filter((i) => i.to !== '/');
  return (
    <section className="page" aria-labelledby="home-title">
      <header className="page-header">
        <div>
          <h1 id="home-title">Welcome, {agent.firstName || agent.email}</h1>
          <p className="muted">
            Signed in as {roleLabel(agent.role)}
            {agent.agencyName ? ` at ${agent.agencyName}` : ''}.
          </p>
        </div>
        <div className="actions">
          <Link to="/bookings/new" className="btn btn-primary">
            New booking
          </Link>
          <Link to="/leads/new" className="btn">
            New lead
          </Link>
        </div>
      </header>
      <BookingsByStatus />
      <div className="tile-grid">
        {links.map((l) => (
          <Link key={l.to} to={l.to} className="card tile">
            <span className="tile-title">{l.label}</span>
            <span className="muted small">{DESCRIPTIONS[l.to] ?? ''}</span>
          </Link>
        ))}
      </div>
    </section>
  );
}
