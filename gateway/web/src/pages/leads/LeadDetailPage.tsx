// /leads/:id: the lead, its pipeline actions (status, assign, convert), edit and delete.
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useParams } from 'react-router-dom';
import { leadsApi } from '../../api/endpoints';
import { CLOSED_LEAD_STATUSES, LEAD_STATUSES, type Lead } from '../../api/types';
import { isAdminRole } from '../../auth/access';
import { useAuth } from '../../auth/AuthContext';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { Alert, ErrorState, Spinner } from '../../components/Feedback';
import { KV } from '../../components/KV';
import { StatusBadge } from '../../components/StatusBadge';
import { formatDateTime, formatDay, formatDayRange, formatMoney } from '../../lib/format';
import { valueLabel } from '../../lib/labels';
import { useAgentDirectory } from '../../lib/useAgents';
import { useDocumentTitle } from '../../lib/useDocumentTitle';
import { useDeleteRecord } from '../../lib/useDeleteRecord';
import { useFlash } from '../../lib/useFlash';
import { LeadActions } from './LeadActions';
import { leadName } from './LeadsPage';

export function LeadDetailPage() {
  const { id = '' } = useParams();
  const q = useQuery({ queryKey: ['leads', 'one', id], queryFn: () => leadsApi.get(id) });
  useDocumentTitle(q.data ? leadName(q.data) : 'Lead');
  if (q.isPending) return <Spinner label="Loading the lead…" />;
  if (q.isError) {
    return (
      <section className="page">
        <nav className="breadcrumbs" aria-label="Breadcrumb">
          <Link to="/leads">Leads</Link>
        </nav>
        <h1>Lead</h1>
        <ErrorState error={q.error} onRetry={() => void q.refetch()} what="the lead" />
      </section>
    );
  }
  return <LeadDetail key={q.data._id} lead={q.data} reload={() => void q.refetch()} />;
}

/** The pipeline as steps, the current one marked. */
function Pipeline({ status }: { status: Lead['status'] }) {
  const steps = LEAD_STATUSES.filter((s) => s !== 'lost');
  const at = steps.indexOf(status as (typeof steps)[number]);
  return (
    <ol className="pipeline" aria-label="Pipeline">
      {steps.map((s, i) => (
        <li key={s} className={`pipeline-step${i < at ? ' done' : ''}${i === at ? ' current' : ''}`} aria-current={i === at ? 'step' : undefined}>
          {valueLabel(s)}
        </li>
      ))}
      {status === 'lost' && (
        <li className="pipeline-step lost" aria-current="step">
          Lost
        </li>
      )}
    </ol>
  );
}

function LeadDetail({ lead: l, reload }: { lead: Lead; reload: () => void }) {
  const { agent: me } = useAuth();
  const { nameOf } = useAgentDirectory();
  const qc = useQueryClient();
  const [flash, setFlash] = useFlash();
  const closed = CLOSED_LEAD_STATUSES.includes(l.status);
  const canDelete = l.assignedAgent === me?._id || (me ? isAdminRole(me.role) : false);

  const changed = (updated: Lead | null) => {
    if (updated) qc.setQueryData(['leads', 'one', l._id], updated);
    else reload();
    void qc.invalidateQueries({ queryKey: ['leads', 'list'] });
  };

  const deletion = useDeleteRecord({
    remove: () => leadsApi.remove(l._id),
    resource: 'leads',
  });

  return (
    <section className="page" aria-labelledby="lead-title">
      <header className="page-header">
        <div>
          <nav className="breadcrumbs" aria-label="Breadcrumb">
            <Link to="/leads">Leads</Link>
          </nav>
          <h1 id="lead-title" className="title-with-badges">
            {leadName(l)}
            <StatusBadge value={l.status} prefix="Status" />
          </h1>
          <p className="muted">
            {[l.contactInfo?.email, l.contactInfo?.phone].filter(Boolean).join(' · ')}
            {l.interestedDestination ? ` · interested in ${l.interestedDestination}` : ''}
          </p>
        </div>
        <div className="actions">
          {!closed && (
            <Link className="btn" to={`/leads/${l._id}/edit`}>
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

      <section className="card status-card" aria-labelledby="lead-status-title">
        <div className="status-card-main">
          <h2 id="lead-status-title">Pipeline</h2>
          <Pipeline status={l.status} />
          {l.status === 'converted' && (
            <p className="small">
              Converted {l.convertedAt ? formatDateTime(l.convertedAt) : ''}:{' '}
              {l.customer && <Link to={`/customers/${l.customer}`}>customer</Link>}
              {l.booking && (
                <>
                  {' · '}
                  <Link to={`/bookings/${l.booking}`}>booking</Link>
                </>
              )}
            </p>
          )}
          {l.statusReason && <p className="muted small">Last reason: “{l.statusReason}”</p>}
        </div>
        <LeadActions lead={l} onChanged={changed} onFlash={setFlash} />
      </section>

      <div className="detail-grid">
        <section className="card" aria-labelledby="lead-contact-title">
          <h2 id="lead-contact-title">Contact</h2>
          <dl className="kv-list">
            <KV k="Email" v={l.contactInfo?.email} />
            <KV k="Phone" v={l.contactInfo?.phone} />
            <KV k="Source" v={valueLabel(l.source)} />
            <KV k="Priority" v={<StatusBadge value={l.priority} />} />
          </dl>
        </section>
        <section className="card" aria-labelledby="lead-trip-title">
          <h2 id="lead-trip-title">Trip interest</h2>
          <dl className="kv-list">
            <KV k="Destination" v={l.interestedDestination} />
            <KV k="Budget" v={l.budget ? formatMoney(l.budget.amount, l.budget.currency) : null} />
            <KV
              k="Travel dates"
              v={l.travelDates?.from && l.travelDates?.to ? formatDayRange(l.travelDates.from, l.travelDates.to) : l.travelDates?.from || l.travelDates?.to ? `${formatDay(l.travelDates?.from)} – ${formatDay(l.travelDates?.to)}` : null}
            />
          </dl>
        </section>
        <section className="card" aria-labelledby="lead-record-title">
          <h2 id="lead-record-title">Record</h2>
          <dl className="kv-list">
            <KV k="Assigned to" v={nameOf(l.assignedAgent)} />
            <KV k="Created" v={formatDateTime(l.createdAt)} />
            <KV k="Last activity" v={formatDateTime(l.lastActivityAt ?? l.updatedAt)} />
          </dl>
        </section>
      </div>
      {l.notes && (
        <section className="card" aria-labelledby="lead-notes-title">
          <h2 id="lead-notes-title">Notes</h2>
          <p className="prewrap">{l.notes}</p>
        </section>
      )}

      <ConfirmDialog
        open={deletion.open}
        title="Delete this lead?"
        confirmLabel="Yes, delete"
        tone="danger"
        busy={deletion.busy}
        error={deletion.error}
        onCancel={deletion.cancel}
        onConfirm={() => void deletion.confirm()}
      >
        <p>
          The lead <strong>{leadName(l)}</strong> will be removed. To keep it on record, mark it lost instead.
        </p>
      </ConfirmDialog>
    </section>
  );
}
