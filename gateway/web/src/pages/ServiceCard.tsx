import type { DependencyState, ServiceHealth } from '../api/types';
import { Badge, toneOf } from '../components/Badge';
import { formatUptime } from '../lib/format';
import { SERVICE_LABELS } from '../lib/labels';

const STATUS_TEXT: Record<string, string> = { up: 'Up', degraded: 'Degraded', down: 'Down' };
const DEP_TEXT: Record<string, string> = { up: 'Connected', down: 'Unreachable', unused: 'Not used', unknown: 'Unknown' };

function Dependency({ name, state }: { name: string; state: DependencyState }) {
  return (
    <div className="kv">
      <dt>{name}</dt>
      <dd>
        <Badge tone={toneOf(state)}>{DEP_TEXT[state] ?? state}</Badge>
      </dd>
    </div>
  );
}

/** One service of GET /api/health. */
export function ServiceCard({ name, health }: { name: string; health: ServiceHealth | undefined }) {
  const label = SERVICE_LABELS[name] ?? { title: name, description: '' };
  const h: ServiceHealth = health ?? {
    status: 'down',
    instances: 0,
    connected: 0,
    uptime: 0,
    version: null,
    mongodb: 'unknown',
    redis: 'unknown',
    pids: [],
  };
  const headingId = `service-${name}`;
  return (
    <article className={`card service-card service-${h.status}`} aria-labelledby={headingId} data-testid="service-card" data-service={name} data-status={h.status}>
      <header className="service-card-head">
        <div>
          <h2 id={headingId}>{label.title}</h2>
          <p className="muted small">{label.description}</p>
        </div>
        <Badge tone={toneOf(h.status)}>
          <span className="dot" aria-hidden="true" />
          {STATUS_TEXT[h.status] ?? h.status}
        </Badge>
      </header>
      <dl className="kv-list">
        <div className="kv">
          <dt>Instances</dt>
          <dd>
            {h.instances} running
            {h.connected !== h.instances && <span className="muted"> · {h.connected} connected</span>}
          </dd>
        </div>
        <div className="kv">
          <dt>Uptime</dt>
          <dd>{h.instances > 0 ? formatUptime(h.uptime) : '—'}</dd>
        </div>
        <div className="kv">
          <dt>Version</dt>
          <dd>{h.version ?? '—'}</dd>
        </div>
        <Dependency name="MongoDB" state={h.mongodb} />
        <Dependency name="Redis" state={h.redis} />
        <div className="kv">
          <dt>PIDs</dt>
          <dd className="mono small">{h.pids?.length ? h.pids.join(', ') : '—'}</dd>
        </div>
      </dl>
    </article>
  );
}
