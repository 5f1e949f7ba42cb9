// Types of the TripDesk HTTP API as the web UI uses it. Hand-written from the API
// contract and checked against the auth service; keep in step with docs/openapi.yaml
// (which so far describes the envelope, errors and GET /api/health: these match it).

/** Every response is an envelope. */
export interface Pagination {
  page: number;
  limit: number;
  totalDocs: number;
  totalPages: number;
  hasNext: boolean;
  hasPrev: boolean;
}

export interface SuccessEnvelope<T> {
  success: true;
  data: T;
  pagination?: Pagination;
}

export interface ErrorBody {
  code: string;
  message: string;
  details?: Record<string, unknown> | null;
}

export interface ErrorEnvelope {
  success: false;
  error: ErrorBody;
}

export type Envelope<T> = SuccessEnvelope<T> | ErrorEnvelope;

/** A paginated list as the client hands it to the UI. */
export interface Page<T> {
  items: T[];
  pagination: Pagination;
}

// ---- agents and auth ----------------------------------------------------------

/** Highest first. */
export const ROLES = ['super_admin', 'admin', 'senior_agent', 'agent', 'junior_agent'] as const;
export type Role = (typeof ROLES)[number];

/** 0 for junior_agent up to 4 for super_admin; -1 for an unknown role. */
export function roleRank(role: string | null | undefined): number {
  const i = (ROLES as readonly string[]).indexOf(role ?? '');
  return i < 0 ? -1 : ROLES.length - 1 - i;
}

export const AGENT_STATUSES = ['pending', 'active', 'deactivated'] as const;
export type AgentStatus = (typeof AGENT_STATUSES)[number];

export interface Agent {
  _id: string;
  email: string;
  firstName: string;
  lastName: string;
  phone: string;
  agencyName: string;
  role: Role;
  status: AgentStatus;
  createdAt: string;
  updatedAt: string;
  lastLoginAt: string | null;
  version: number;
}

/** The 22 permission names of the permission matrix (PRD step 9.3.1). The server's
 * GET /api/permissions is the source of truth and may name more. */
export const PERMISSION_NAMES = [
  'canCreateAdmin',
  'canDeleteAgents',
  'canViewAllAgents',
  'canApproveAgents',
  'canChangeAnyRole',
  'canViewAllBookings',
  'canDeleteAnyBooking',
  'canUpdateAnyBooking',
  'canViewAllCustomers',
  'canDeleteAnyCustomer',
  'canApproveCommissions',
  'canProcessRefunds',
  'canViewAllPayments',
  'canViewFinancialReports',
  'canAssignLeads',
  'canViewAllLeads',
  'canManageSettings',
  'canViewAuditLogs',
  'canManageTeam',
  'canUploadFiles',
  'canViewAnalytics',
  'canManageNotifications',
] as const;
export type PermissionName = (typeof PERMISSION_NAMES)[number];

/** A role's permissions: name -> granted. Unknown names may appear. */
export type PermissionSet = Partial<Record<PermissionName, boolean>> & Record<string, boolean>;

export interface LoginRequest {
  email: string;
  password: string;
}

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  /** Lifetime of the access token in seconds. */
  expiresIn: number;
}

export interface LoginResponse extends TokenPair {
  agent: Agent;
}

export type RefreshResponse = LoginResponse;

export interface RegisterRequest {
  email: string;
  password: string;
  firstName: string;
  lastName: string;
  phone: string;
  agencyName: string;
}

/** POST /api/auth/register answers 201 with the pending agent (the auth service sends
 * the agent as `data`; the contract also allowed `{agent}`: the client takes both). */
export interface RegisterResponse {
  agent: Agent;
}

export interface MeResponse {
  agent: Agent;
  permissions: PermissionSet;
}

export interface ChangePasswordRequest {
  currentPassword: string;
  newPassword: string;
}

/** A password change revokes the old tokens and answers a new pair. */
export type ChangePasswordResponse = Partial<LoginResponse>;

export interface AgentListQuery {
  page?: number;
  limit?: number;
  status?: AgentStatus | '';
  role?: Role | '';
  search?: string;
}

export interface AgentUpdate {
  firstName: string;
  lastName: string;
  phone: string;
  agencyName: string;
}

// ---- permissions --------------------------------------------------------------

export interface PermissionMatrix {
  version: number;
  permissions: string[];
  roles: Record<Role, PermissionSet>;
  /** Permissions super_admin must keep (a PUT that drops one is 422 PERMISSION_LOCKED). */
  locked?: string[];
  /** True when the store is unreachable and the built-in defaults are shown. */
  fallback?: boolean;
}

/** PUT /api/permissions/:role; `version` makes the write fail with 409
 * VERSION_CONFLICT if the matrix changed meanwhile. Answers the new matrix. */
export interface PermissionUpdate {
  permissions: PermissionSet;
  version?: number;
}

/** Who made a change: an id, or a small object (the auth service sends {id, role}). */
export type ChangedBy =
  | string
  | null
  | { id?: string; _id?: string; role?: string; email?: string; firstName?: string; lastName?: string };

export interface PermissionHistoryEntry {
  _id?: string;
  version: number;
  role: Role;
  /** PERMISSIONS_UPDATED or PERMISSIONS_RESET. */
  action?: string;
  changedBy: ChangedBy;
  changedAt: string;
  before: PermissionSet | null;
  after: PermissionSet | null;
}

// ---- health -------------------------------------------------------------------

export const SERVICE_NAMES = ['auth', 'booking', 'payment', 'notification', 'analytics'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

export type ServiceStatus = 'up' | 'down' | 'degraded';
export type DependencyState = 'up' | 'down' | 'unused' | 'unknown';

export interface ServiceHealth {
  status: ServiceStatus;
  instances: number;
  connected: number;
  /** Seconds since the oldest live instance started. */
  uptime: number;
  version: string | null;
  mongodb: DependencyState;
  redis: DependencyState;
  pids: number[];
}

export interface Health {
  status: 'ok' | 'degraded';
  time: string;
  gateway: { status: string; version: string; uptime: number };
  registry: { status: string; uptime?: number };
  services: Record<ServiceName, ServiceHealth>;
}
