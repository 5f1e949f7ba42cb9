import { Link } from 'react-router-dom';
import { visibleNav } from '../auth/access';
import { useAuth } from '../auth/AuthContext';
import { roleLabel } from '../lib/labels';
import { useDocumentTitle } from '../lib/useDocumentTitle';

const DESCRIPTIONS: Record<string, string> = {
  '/agents': 'Approve registrations, change roles, deactivate accounts.',
  '/permissions': 'Decide what each role may do, with a full version history.',
  '/health': 'Live status of every TripDesk service, MongoDB and Redis.',
  '/profile': 'Your account details and password.',
};

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
      </header>
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
