// What a signed-in agent may see. The navigation and the route guards share these
// rules, so a link is shown exactly when its page lets the agent in.
import type { PermissionSet, Role } from '../api/types';

export interface Access {
  role: Role;
  permissions: PermissionSet;
}

export type AccessRule = (a: Access) => boolean;

export const isAdminRole = (role: Role): boolean => role === 'super_admin' || role === 'admin';

export const rules = {
  anyone: (() => true) as AccessRule,
  agents: ((a) => a.permissions.canViewAllAgents === true) as AccessRule,
  permissions: ((a) => a.role === 'super_admin') as AccessRule,
  health: ((a) => isAdminRole(a.role)) as AccessRule,
  settings: ((a) => a.permissions.canManageSettings === true) as AccessRule,
};

export interface NavItem {
  to: string;
  label: string;
  rule: AccessRule;
  end?: boolean;
}

export const NAV_ITEMS: NavItem[] = [
  { to: '/', label: 'Overview', rule: rules.anyone, end: true },
  { to: '/bookings', label: 'Bookings', rule: rules.anyone },
  { to: '/customers', label: 'Customers', rule: rules.anyone },
  { to: '/leads', label: 'Leads', rule: rules.anyone },
  { to: '/itineraries', label: 'Itineraries', rule: rules.anyone },
  { to: '/payments', label: 'Payments', rule: rules.anyone },
  { to: '/commissions', label: 'Commissions', rule: rules.anyone },
  { to: '/agents', label: 'Agents', rule: rules.agents },
  { to: '/permissions', label: 'Permission matrix', rule: rules.permissions },
  { to: '/health', label: 'System health', rule: rules.health },
  { to: '/settings/commission-rates', label: 'Commission rates', rule: rules.settings },
  { to: '/profile', label: 'My profile', rule: rules.anyone },
];

export function visibleNav(a: Access): NavItem[] {
  return NAV_ITEMS.filter((item) => item.rule(a));
}
