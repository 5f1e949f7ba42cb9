import type { ReactNode } from 'react';
import { Link, Navigate, useLocation } from 'react-router-dom';
import { ServiceBanner } from '../components/Feedback';
import { FullPageLoading } from '../components/Feedback';
import type { AccessRule } from './access';
import { useAuth } from './AuthContext';

/** Lets signed-in agents through; sends everyone else to /login and back after. */
export function RequireAuth({ children }: { children: ReactNode }) {
  const auth = useAuth();
  const location = useLocation();
  if (auth.status === 'loading') return <FullPageLoading label="Checking your session…" />;
  if (auth.status === 'anonymous') {
    return <Navigate to="/login" replace state={{ from: location.pathname + location.search }} />;
  }
  if (auth.status === 'unavailable') {
    return (
      <main className="auth-shell">
        <section className="auth-card" aria-labelledby="session-title">
          <h1 id="session-title">Cannot check your session</h1>
          <ServiceBanner error={auth.error} />
          <p className="muted">TripDesk retries by itself every few seconds.</p>
          <div className="actions">
            <button type="button" className="btn btn-primary" onClick={auth.retry}>
              Try again
            </button>
            <button type="button" className="btn" onClick={() => void auth.logout()}>
              Sign out
            </button>
          </div>
        </section>
      </main>
    );
  }
  return <>{children}</>;
}

/** Shows the page only to agents the rule allows. */
export function RequireAccess({ rule, children }: { rule: AccessRule; children: ReactNode }) {
  const { agent, permissions } = useAuth();
  if (!agent || !rule({ role: agent.role, permissions })) {
    return (
      <section className="page" aria-labelledby="forbidden-title">
        <div className="empty-state">
          <h1 id="forbidden-title">You don’t have access to this page</h1>
          <p>Your role does not include this area. Ask an administrator if you need it.</p>
          <Link className="btn" to="/">
            Back to overview
          </Link>
        </div>
      </section>
    );
  }
  return <>{children}</>;
}
