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

/** "in_progress" -> "In progress". */
export function humanize(value: string): string {
  const s = value.replace(/_/g, ' ');
  return s.charAt(0).toUpperCase() + s.slice(1);
}

const OVERRIDES: Record<string, string> = {
  in_progress: 'In progress',
  walk_in: 'Walk-in',
  social_media: 'Social media',
  partially_paid: 'Partially paid',
  partially_refunded: 'Partially refunded',
  bank_transfer: 'Bank transfer',
  upi: 'UPI',
};

/** A display label for an enum value of the booking service. */
export function valueLabel(value: string | null | undefined): string {
  if (!value) return '—';
  return OVERRIDES[value] ?? humanize(value);
}

export type Tone = 'ok' | 'warn' | 'bad' | 'neutral' | 'info';

const TONES: Record<string, Tone> = {
  // bookings
  pending: 'warn',
  confirmed: 'info',
  in_progress: 'info',
  completed: 'ok',
  cancelled: 'bad',
  refunded: 'neutral',
  // leads
  new: 'info',
  contacted: 'info',
  qualified: 'info',
  proposal: 'warn',
  negotiation: 'warn',
  converted: 'ok',
  lost: 'bad',
  // priorities
  low: 'neutral',
  medium: 'info',
  high: 'warn',
  urgent: 'bad',
  // payment
  unpaid: 'warn',
  partially_paid: 'info',
  paid: 'ok',
  // payment records and commissions
  partially_refunded: 'info',
  approved: 'info',
  rejected: 'bad',
};

export function valueTone(value: string | null | undefined): Tone {
  return (value && TONES[value]) || 'neutral';
}

/** The button text that moves a booking to a status. */
export const BOOKING_ACTION_LABELS: Record<string, string> = {
  confirmed: 'Confirm',
  in_progress: 'Start trip',
  completed: 'Mark completed',
  cancelled: 'Cancel booking',
  refunded: 'Refund',
};

/** The button text that moves a lead to a status. */
export const LEAD_ACTION_LABELS: Record<string, string> = {
  contacted: 'Mark contacted',
  qualified: 'Mark qualified',
  proposal: 'Move to proposal',
  negotiation: 'Move to negotiation',
  lost: 'Mark lost',
};

export const SORT_LABELS: Record<string, string> = {
  createdAt: 'Created',
  updatedAt: 'Last updated',
  startDate: 'Trip start',
  totalAmount: 'Total amount',
  bookingReference: 'Reference',
  status: 'Status',
  priority: 'Priority',
  destination: 'Destination',
  name: 'Name',
  city: 'City',
  title: 'Title',
  paidAt: 'Paid at',
  amount: 'Amount',
};

export const CURRENCIES = ['INR', 'USD', 'EUR', 'GBP', 'AED', 'SGD', 'THB', 'AUD', 'JPY'] as const;
