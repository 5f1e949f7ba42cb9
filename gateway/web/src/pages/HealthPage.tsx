import { useQuery } from '@tanstack/react-query';
import { healthApi } from '../api/endpoints';
import { SERVICE_NAMES, type Health } from '../api/types';
import { Badge, toneOf } from '../components/Badge';
import { ErrorState, Spinner, errorMessage } from '../components/Feedback';
import { formatTime, formatUptime } from '../lib/format';
import { ServiceCard } from './ServiceCard';
import { useDocumentTitle } from '../lib/useDocumentTitle';

export const HEALTH_REFRESH_MS = 5000;

function Summary({ health, updatedAt, fetching }: { health: Health; updatedAt: number; fetching: boolean }) {
  const services = SERVICE_NAMES.map((n) => health.services?.[n]?.status ?? 'down');
  const up = services.filter((s) => s === 'up').length;
  const ok = health.status === 'ok';
  return (
    <section className={`card health-summary ${ok ? 'summary-ok' : 'summary-degraded'}`} aria-label="Overall status">
      <div className="summary-main">
        <Badge tone={ok ? 'ok' : 'warn'}>
          <span className="dot" aria-hidden="true" />
          {ok ? 'Operational' : 'Degraded'}
        </Badge>
        <div>
          <div className="summary-title">{ok ? 'All systems operational' : 'Some services need attention'}</div>
          <div className="muted small">
            {up} of {SERVICE_NAMES.length} services up
          </div>
        </div>
      </div>
      <dl className="summary-facts">
        <div>
          <dt>Gateway</dt>
          <dd>
            v{health.gateway?.version ?? '?'} · up {formatUptime(health.gateway?.uptime)}
          </dd>
        </div>
        <div>
          <dt>Registry</dt>
          <dd>
            <Badge tone={toneOf(health.registry?.status ?? 'down')}>{health.registry?.status ?? 'down'}</Badge>
            {health.registry?.uptime !== undefined && <> · up {formatUptime(health.registry.uptime)}</>}
          </dd>
        </div>
        <div>
          <dt>Last checked</dt>
          <dd>
            {formatTime(updatedAt)}
            <span className={`refresh-dot${fetching ? ' refreshing' : ''}`} aria-hidden="true" />
          </dd>
        </div>
      </dl>
    </section>
  );
}

export function HealthPage() {
  useDocumentTitle('System health');
  const q = useQuery({
    queryKey: ['health'],
    queryFn: () => healthApi.get(),
    refetchInterval: HEALTH_REFRESH_MS,
    refetchIntervalInBackground: false,
    retry: false,
  });

  return (
    <section className="page" aria-labelledby="health-title">
      <header className="page-header">
        <div>
          <h1 id="health-title">System health</h1>
          <p className="muted">Live status of the TripDesk services. Refreshes every {HEALTH_REFRESH_MS / 1000} s.</p>
        </div>
        <button type="button" className="btn" onClick={() => void q.refetch()} disabled={q.isFetching}>
          {q.isFetching ? 'Refreshing…' : 'Refresh now'}
        </button>
      </header>

      {q.isPending && <Spinner label="Checking services…" />}
      {q.isError && !q.data && <ErrorState error={q.error} onRetry={() => void q.refetch()} what="service health" />}
      {q.data && (
        <>
          {q.isError && (
            <div className="alert alert-warning" role="alert" data-testid="stale-banner">
              <div className="alert-body">
                <strong className="alert-title">Could not refresh the status</strong>
                <div>
                  {errorMessage(q.error)} Showing the last known state from {formatTime(q.dataUpdatedAt)}.
                </div>
              </div>
            </div>
          )}
          <Summary health={q.data} updatedAt={q.dataUpdatedAt} fetching={q.isFetching} />
          <div className="service-grid">
            {SERVICE_NAMES.map((name) => (
              <ServiceCard key={name} name={name} health={q.data.services?.[name]} />
            ))}
          </div>
        </>
      )}
    </section>
  );
}
