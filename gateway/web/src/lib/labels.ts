import type { AgentStatus, Role } from '../api/types';

export const ROLE_LABELS: Record<Role, string> = {
  super_admin: 'Super admin',
  admin: 'Admin',
  senior_agent: 'Senior agent',
  agent: 'Agent',
  junior_agent: 'Junior agent',
};

export function roleLabel(role: string): string {
  return (ROLE_LABELS as Record<string, string>)[role] ?? role;
}

export const STATUS_LABELS: Record<AgentStatus, string> = {
  pending: 'Pending approval',
  active: 'Active',
  deactivated: 'Deactivated',
};

export const SERVICE_LABELS: Record<string, { title: string; description: string }> = {
  auth: { title: 'Auth', description: 'Sign-in, agents, permissions' },
  booking: { title: 'Booking', description: 'Bookings, customers, leads' },
  payment: { title: 'Payment', description: 'Payments and commissions' },
  notification: { title: 'Notification', description: 'In-app notifications and email' },
  analytics: { title: 'Analytics', description: 'Dashboards and audit logs' },
};

/** Areas that group the permission matrix's rows. */
const PERMISSION_GROUPS: [string, string[]][] = [
  ['Agents & team', ['canCreateAdmin', 'canDeleteAgents', 'canViewAllAgents', 'canApproveAgents', 'canChangeAnyRole', 'canManageTeam']],
  ['Bookings', ['canViewAllBookings', 'canDeleteAnyBooking', 'canUpdateAnyBooking']],
  ['Customers & leads', ['canViewAllCustomers', 'canDeleteAnyCustomer', 'canAssignLeads', 'canViewAllLeads']],
  ['Finance', ['canApproveCommissions', 'canProcessRefunds', 'canViewAllPayments', 'canViewFinancialReports']],
  ['System', ['canManageSettings', 'canViewAuditLogs', 'canUploadFiles', 'canViewAnalytics', 'canManageNotifications']],
];

/** Groups permission names by area, in the given order; unknown names go to "Other". */
export function groupPermissions(names: string[]): { group: string; names: string[] }[] {
  const out: { group: string; names: string[] }[] = [];
  const seen = new Set<string>();
  for (const [group, members] of PERMISSION_GROUPS) {
    const here = names.filter((n) => members.includes(n));
    here.forEach((n) => seen.add(n));
    if (here.length) out.push({ group, names: here });
  }
  const rest = names.filter((n) => !seen.has(n));
  if (rest.length) out.push({ group: 'Other', names: rest });
  return out;
}

/** "canViewAllBookings" -> "View all bookings". */
export function permissionLabel(name: string): string {
  const base = name.replace(/^can/, '');
  const words = base.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}
