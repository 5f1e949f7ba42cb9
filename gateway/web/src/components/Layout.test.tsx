import { screen, within } from '@testing-library/react';
import { Route, Routes } from 'react-router-dom';
import { describe, expect, it } from 'vitest';
import { RequireAccess } from '../auth/guards';
import { rules } from '../auth/access';
import { renderAs, staticAuth } from '../test/utils';
import { Layout } from './Layout';

function navLinks() {
  const nav = screen.getByRole('navigation', { name: 'Main' });
  return within(nav)
    .getAllByRole('link')
    .map((a) => a.textContent);
}

const ui = (
  <Routes>
    <Route element={<Layout />}>
      <Route index element={<p>home</p>} />
      <Route
        path="health"
        element={
          <RequireAccess rule={rules.health}>
            <p>health page</p>
          </RequireAccess>
        }
      />
    </Route>
  </Routes>
);

/** The working pages every signed-in agent sees. */
const WORK = ['Bookings', 'Customers', 'Leads', 'Itineraries', 'Payments', 'Commissions'];

describe('navigation', () => {
  it('shows an agent the working pages but no admin items', () => {
    renderAs(staticAuth('agent', { canViewAllBookings: false }), ui);
    expect(navLinks()).toEqual(['Overview', ...WORK, 'My profile']);
  });

  it('shows agents only with canViewAllAgents', () => {
    renderAs(staticAuth('senior_agent', { canViewAllAgents: true }), ui);
    expect(navLinks()).toEqual(['Overview', ...WORK, 'Agents', 'My profile']);
  });

  it('shows an admin agents and health but not the permission matrix', () => {
    renderAs(staticAuth('admin', { canViewAllAgents: true }), ui);
    expect(navLinks()).toEqual(['Overview', ...WORK, 'Agents', 'System health', 'My profile']);
  });

  it('shows a super admin everything', () => {
    renderAs(staticAuth('super_admin', { canViewAllAgents: true, canManageSettings: true }), ui);
    expect(navLinks()).toEqual(['Overview', ...WORK, 'Agents', 'Permission matrix', 'System health', 'Commission rates', 'My profile']);
  });

  it('refuses an admin page to an agent who types its address', () => {
    renderAs(staticAuth('agent'), ui, '/health');
    expect(screen.getByRole('heading', { name: /don’t have access/ })).toBeInTheDocument();
    expect(screen.queryByText('health page')).not.toBeInTheDocument();
  });
});
