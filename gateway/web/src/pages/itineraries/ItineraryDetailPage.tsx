// /itineraries/:id: the plan day by day; edit, clone and delete.
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router-dom';
import { itinerariesApi } from '../../api/endpoints';
import type { Itinerary } from '../../api/types';
import { useAuth } from '../../auth/AuthContext';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { Alert, EmptyState, ErrorState, Spinner } from '../../components/Feedback';
import { addDays, dayCount, formatDayRange, formatWeekday, isoDay } from '../../lib/format';
import { valueLabel } from '../../lib/labels';
import { useAgentDirectory } from '../../lib/useAgents';
import { useDocumentTitle } from '../../lib/useDocumentTitle';
import { useDeleteRecord } from '../../lib/useDeleteRecord';
import { useFlash } from '../../lib/useFlash';
import { CloneDialog } from './CloneDialog';

export function ItineraryDetailPage() {
  const { id = '' } = useParams();
  const q = useQuery({ queryKey: ['itineraries', 'one', id], queryFn: () => itinerariesApi.get(id) });
  useDocumentTitle(q.data ? q.data.title : 'Itinerary');
  if (q.isPending) return <Spinner label="Loading the itinerary…" />;
  if (q.isError) {
    return (
      <section className="page">
        <nav className="breadcrumbs" aria-label="Breadcrumb">
          <Link to="/itineraries">Itineraries</Link>
        </nav>
        <h1>Itinerary</h1>
        <ErrorState error={q.error} onRetry={() => void q.refetch()} what="the itinerary" />
      </section>
    );
  }
  return <ItineraryDetail key={q.data._id} itinerary={q.data} />;
}

function ItineraryDetail({ itinerary: it }: { itinerary: Itinerary }) {
  const { agent: me, permissions } = useAuth();
  const { nameOf } = useAgentDirectory();
  const navigate = useNavigate();
  const [flash, setFlash] = useFlash();
  const [cloning, setCloning] = useState(false);
  const mine = it.agent === me?._id;
  const canEdit = mine || permissions.canUpdateAnyBooking === true;
  const canDelete = mine || permissions.canDeleteAnyBooking === true;
  const start = isoDay(it.startDate);
  const total = dayCount(start, isoDay(it.endDate));

  const deletion = useDeleteRecord({
    remove: () => itinerariesApi.remove(it._id),
    resource: 'itineraries',
  });

  return (
    <section className="page" aria-labelledby="itinerary-title">
      <header className="page-header">
        <div>
          <nav className="breadcrumbs" aria-label="Breadcrumb">
            <Link to="/itineraries">Itineraries</Link>
          </nav>
          <h1 id="itinerary-title">{it.title}</h1>
          <p className="muted">
            {it.destination} · {formatDayRange(it.startDate, it.endDate)} · {total} {total === 1 ? 'day' : 'days'}, {it.days?.length ?? 0} planned
          </p>
          <p className="muted small">
            By {nameOf(it.agent)}
            {it.booking && (
              <>
                {' · '}
                <Link to={`/bookings/${it.booking}`}>Linked booking</Link>
              </>
            )}
            {it.customer && (
              <>
                {' · '}
                <Link to={`/customers/${it.customer}`}>Customer</Link>
              </>
            )}
            {it.clonedFrom && (
              <>
                {' · '}
                <Link to={`/itineraries/${it.clonedFrom}`}>Cloned from another itinerary</Link>
              </>
            )}
          </p>
        </div>
        <div className="actions">
          {canEdit && (
            <Link className="btn" to={`/itineraries/${it._id}/edit`}>
              Edit
            </Link>
          )}
          <button type="button" className="btn" onClick={() => setCloning(true)}>
            Clone
          </button>
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
      {it.notes && (
        <section className="card" aria-labelledby="inotes-title">
          <h2 id="inotes-title">Notes</h2>
          <p className="prewrap">{it.notes}</p>
        </section>
      )}
      {(it.days ?? []).length === 0 ? (
        <EmptyState title="No days planned yet">
          {canEdit && (
            <Link className="btn btn-primary" to={`/itineraries/${it._id}/edit`}>
              Plan the days
            </Link>
          )}
        </EmptyState>
      ) : (
        <ol className="day-list" aria-label="Days">
          {it.days.map((d) => (
            <li key={d.day} className="card day-card">
              <div className="day-head">
                <span className="day-number">Day {d.day}</span>
                <span className="muted small">{formatWeekday(d.date ? isoDay(d.date) : addDays(start, d.day - 1))}</span>
              </div>
              <h2 className="day-title">{d.title}</h2>
              {d.activities?.length > 0 && (
                <ul className="activity-list">
                  {d.activities.map((a, i) => (
                    <li key={i}>
                      <span className="activity-time mono">{a.time || '—'}</span>
                      <div>
                        <div className="cell-strong">{a.title}</div>
                        {a.location && <div className="muted small">{a.location}</div>}
                        {a.description && <div className="small prewrap">{a.description}</div>}
                      </div>
                    </li>
                  ))}
                </ul>
              )}
              <p className="muted small day-meta">
                {d.accommodation ? `Stay: ${d.accommodation}` : 'No stay noted'}
                {' · '}
                {d.meals?.length ? `Meals: ${d.meals.map((m) => valueLabel(m).toLowerCase()).join(', ')}` : 'No meals included'}
              </p>
              {d.notes && <p className="small prewrap">{d.notes}</p>}
            </li>
          ))}
        </ol>
      )}
      {cloning && (
        <CloneDialog
          itinerary={it}
          onCancel={() => setCloning(false)}
          onDone={(copy) => {
            setCloning(false);
            navigate(`/itineraries/${copy._id}`, { state: { flash: `“${copy.title}” was created as a copy. Edit it to fit the new trip.` } });
          }}
        />
      )}
      <ConfirmDialog
        open={deletion.open}
        title="Delete this itinerary?"
        confirmLabel="Yes, delete"
        tone="danger"
        busy={deletion.busy}
        error={deletion.error}
        onCancel={deletion.cancel}
        onConfirm={() => void deletion.confirm()}
      >
        <p>
          <strong>{it.title}</strong> and its {it.days?.length ?? 0} planned days will be removed.
        </p>
      </ConfirmDialog>
    </section>
  );
}
