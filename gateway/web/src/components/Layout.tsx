// The signed-in shell: brand, navigation limited to what the agent's role may use,
// the agent's name and a sign-out button, and the page.
import { NavLink, Outlet, useNavigate } from 'react-router-dom';
import { visibleNav } from '../auth/access';
import { useAuth } from '../auth/AuthContext';
import { fullName } from '../lib/format';
import { roleLabel } from '../lib/labels';

export function Brand() {
  return (
    <span className="brand">
      <svg className="brand-mark" viewBox="0 0 32 32" aria-hidden="true">
        <rect width="32" height="32" rx="7" fill="currentColor" />
        <path d="M7 17.5 25 9l-6.5 16-3.2-6.3L7 17.5Z" fill="#fff" />
      </svg>
      <span className="brand-name">TripDesk</span>
    </span>
  );
}

export function Nav() {
  const { agent, permissions } = useAuth();
  if (!agent) return null;
  const items = visibleNav({ role: agent.role, permissions });
  return (
    <nav className="nav" aria-label="Main">
      <ul>
        {items.map((item) => (
          <li key={item.to}>
            <NavLink to={item.to} end={item.end} className={({ isActive }) => `nav-link${isActive ? ' active' : ''}`}>
              {item.label}
            </NavLink>
          </li>
        ))}
      </ul>
    </nav>
  );
}

export function Layout() {
  const { agent, logout } = useAuth();
  const navigate = useNavigate();
  const signOut = async () => {
    await logout();
    navigate('/login', { replace: true });
  };
  return (
    <div className="app-shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <aside className="sidebar">
        <Brand />
        <Nav />
        {agent && (
          <div className="sidebar-user">
            <div className="user-name">{fullName(agent)}</div>
            <div className="user-meta">
              {roleLabel(agent.role)}
              {agent.agencyName ? ` · ${agent.agencyName}` : ''}
            </div>
            <button type="button" className="btn btn-small btn-ghost" onClick={() => void signOut()}>
              Sign out
            </button>
          </div>
        )}
      </aside>
      <main id="main" className="content" tabIndex={-1}>
        <Outlet />
      </main>
    </div>
  );
}
