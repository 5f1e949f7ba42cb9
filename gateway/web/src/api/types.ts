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
  /** X-Cache of the list answer (HIT / MISS / BYPASS) when the server sent one. */
  cache?: string | null;
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
  /** Only for a caller with a valid access token. */
  pids?: number[];
}

export interface Health {
  status: 'ok' | 'degraded';
  time: string;
  gateway: { status: string; version: string; uptime: number };
  registry: { status: string; uptime?: number };
  services: Record<ServiceName, ServiceHealth>;
}

// ---- booking service: customers, bookings, leads, itineraries ------------------
// Shapes as services/booking/*.c answer them: ids are 24-hex strings, dates ISO-8601
// UTC strings (trip dates at midnight UTC), money a decimal amount in the major unit
// of an ISO 4217 currency. Every record has createdAt, updatedAt and version.

export interface Stamped {
  _id: string;
  createdAt: string;
  updatedAt: string;
  version: number;
}

export interface Customer extends Stamped {
  firstName: string;
  lastName: string;
  email?: string;
  phone: string;
  city?: string;
  country?: string;
  address?: string;
  dateOfBirth?: string;
  passportNumber?: string;
  notes?: string;
  /** The owning agent's id. */
  agent: string;
  /** The lead this customer was converted from. */
  lead?: string;
}

/** An entry of GET /api/agents/directory: what others may know of an agent. */
export interface DirectoryAgent {
  _id: string;
  firstName: string;
  lastName: string;
  email: string;
  role: Role;
}

export interface CustomerInput {
  firstName?: string;
  lastName?: string;
  email?: string;
  phone?: string;
  city?: string;
  country?: string;
  address?: string;
  dateOfBirth?: string;
  passportNumber?: string;
  notes?: string;
  version?: number;
  /** Save even though a customer with the same email or phone exists (409 POSSIBLE_DUPLICATE). */
  force?: boolean;
}

export const CUSTOMER_SORTS = ['name', 'createdAt', 'updatedAt', 'city'] as const;

export const BOOKING_STATUSES = ['pending', 'confirmed', 'in_progress', 'completed', 'cancelled', 'refunded'] as const;
export type BookingStatus = (typeof BOOKING_STATUSES)[number];
export const TRIP_TYPES = ['leisure', 'honeymoon', 'family', 'adventure', 'business', 'group', 'pilgrimage', 'cruise', 'other'] as const;
export type TripType = (typeof TRIP_TYPES)[number];
export const PRIORITIES = ['low', 'medium', 'high', 'urgent'] as const;
export type Priority = (typeof PRIORITIES)[number];
export const PAYMENT_STATUSES = ['unpaid', 'partially_paid', 'paid', 'refunded'] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];
export const BOOKING_SORTS = ['createdAt', 'updatedAt', 'startDate', 'totalAmount', 'bookingReference', 'status', 'priority', 'destination'] as const;

/** The booking status machine (bookings.c): the next states of each state. */
export const BOOKING_TRANSITIONS: Record<BookingStatus, BookingStatus[]> = {
  pending: ['confirmed', 'cancelled'],
  confirmed: ['in_progress', 'cancelled'],
  in_progress: ['completed', 'cancelled'],
  completed: ['refunded'],
  cancelled: ['refunded'],
  refunded: [],
};
/** Completed, cancelled and refunded bookings cannot be edited (422 BOOKING_CLOSED). */
export const CLOSED_BOOKING_STATUSES: BookingStatus[] = ['completed', 'cancelled', 'refunded'];

export interface Travellers {
  adults: number;
  children: number;
  infants: number;
}

export interface TripDetails {
  title: string;
  destination: string;
  startDate: string;
  endDate: string;
  tripType: TripType;
  travellers: Travellers;
}

export interface Pricing {
  totalAmount: number;
  currency: string;
  taxAmount: number;
  discount: number;
}

export interface Booking extends Stamped {
  bookingReference: string;
  customer: string;
  customerName?: string;
  agent: string;
  tripDetails: TripDetails;
  pricing: Pricing;
  priority: Priority;
  status: BookingStatus;
  paymentStatus: PaymentStatus;
  notes?: string;
  lead?: string;
  statusDates?: Partial<Record<BookingStatus, string>>;
  statusReason?: string;
}

export interface BookingInput {
  customer?: string;
  tripDetails?: {
    title?: string;
    destination?: string;
    startDate?: string;
    endDate?: string;
    tripType?: TripType;
    travellers?: Partial<Travellers>;
  };
  pricing?: Partial<Pricing>;
  priority?: Priority;
  notes?: string;
  version?: number;
}

/** details of a 409 BOOKING_CONFLICT / DUPLICATE_BOOKING. */
export interface ConflictingBooking {
  _id: string;
  bookingReference: string;
  startDate: string;
  endDate: string;
}

export const LEAD_STATUSES = ['new', 'contacted', 'qualified', 'proposal', 'negotiation', 'converted', 'lost'] as const;
export type LeadStatus = (typeof LEAD_STATUSES)[number];
export const LEAD_SOURCES = ['website', 'referral', 'social_media', 'walk_in', 'phone', 'email', 'partner', 'other'] as const;
export type LeadSource = (typeof LEAD_SOURCES)[number];
export const LEAD_SORTS = ['createdAt', 'updatedAt', 'priority', 'status', 'name'] as const;

/** The lead status machine of PATCH /status (leads.c); "converted" only by /convert. */
export const LEAD_TRANSITIONS: Record<LeadStatus, LeadStatus[]> = {
  new: ['contacted', 'lost'],
  contacted: ['qualified', 'lost'],
  qualified: ['proposal', 'lost'],
  proposal: ['negotiation', 'lost'],
  negotiation: ['lost'],
  converted: [],
  lost: [],
};
export const CLOSED_LEAD_STATUSES: LeadStatus[] = ['converted', 'lost'];

export interface Lead extends Stamped {
  name: { firstName: string; lastName: string };
  contactInfo: { email?: string; phone?: string };
  source: LeadSource;
  priority: Priority;
  status: LeadStatus;
  interestedDestination?: string;
  budget?: { amount: number; currency: string };
  travelDates?: { from?: string; to?: string };
  notes?: string;
  assignedAgent: string;
  createdBy?: string;
  lastActivityAt?: string;
  assignedAt?: string;
  statusReason?: string;
  customer?: string;
  booking?: string;
  convertedAt?: string;
}

export interface LeadInput {
  name?: { firstName?: string; lastName?: string };
  contactInfo?: { email?: string; phone?: string };
  source?: LeadSource;
  priority?: Priority;
  assignedAgent?: string;
  interestedDestination?: string;
  budget?: { amount?: number; currency?: string };
  travelDates?: { from?: string; to?: string };
  notes?: string;
  version?: number;
}

/** POST /api/leads/:id/convert: an existing customer (customerId) or a new one made
 * from the lead (customer overrides its fields); optionally a booking for it. */
export interface ConvertLeadInput {
  customerId?: string;
  customer?: { firstName?: string; lastName?: string; email?: string; phone?: string };
  booking?: Omit<BookingInput, 'customer' | 'version'>;
  version?: number;
  /** Create the customer even though one with the same email or phone exists. */
  force?: boolean;
}

export interface ConvertLeadResult {
  lead: Lead;
  customer: Customer;
  booking: Booking | null;
}

export const MEALS = ['breakfast', 'lunch', 'dinner'] as const;
export type Meal = (typeof MEALS)[number];
export const ITINERARY_SORTS = ['createdAt', 'updatedAt', 'startDate', 'title'] as const;

export interface Activity {
  time?: string;
  title: string;
  description?: string;
  location?: string;
}

export interface ItineraryDay {
  day: number;
  date?: string;
  title: string;
  activities: Activity[];
  accommodation?: string;
  meals: Meal[];
  notes?: string;
}

export interface Itinerary extends Stamped {
  title: string;
  destination: string;
  startDate: string;
  endDate: string;
  booking?: string;
  customer?: string;
  days: ItineraryDay[];
  notes?: string;
  agent: string;
  clonedFrom?: string;
}

export interface ItineraryInput {
  title?: string;
  destination?: string;
  startDate?: string;
  endDate?: string;
  /** null unlinks (update). */
  booking?: string | null;
  customer?: string | null;
  days?: ItineraryDay[];
  notes?: string;
  version?: number;
}

/** List query parameters as sent (already validated and serialised). */
export type ListQuery = Record<string, string | number | undefined>;

// ---- payment service (services/payment; docs/openapi.yaml /api/payments*, /api/commissions*)

export const PAYMENT_METHODS = ['cash', 'card', 'upi', 'bank_transfer', 'cheque', 'wallet', 'other'] as const;
export type PaymentMethod = (typeof PAYMENT_METHODS)[number];
/** A payment record's own status (not the booking's paymentStatus). */
export const PAYMENT_RECORD_STATUSES = ['completed', 'partially_refunded', 'refunded'] as const;
export type PaymentRecordStatus = (typeof PAYMENT_RECORD_STATUSES)[number];
export const PAYMENT_SORTS = ['paidAt', 'createdAt', 'amount', 'status'] as const;

export interface Payment {
  _id: string;
  booking: string;
  bookingReference?: string;
  agent?: string;
  customer?: string;
  /** Major units; amountMinor is the exact value. */
  amount: number;
  amountMinor?: number;
  currency: string;
  paymentMethod: PaymentMethod | string;
  transactionId?: string;
  notes?: string;
  paidAt: string;
  status: PaymentRecordStatus | string;
  refunded?: number;
  refundedMinor?: number;
  /** The payment's refunds, oldest first (part of the payment document). */
  refunds?: Refund[];
  recordedBy?: string;
  createdAt?: string;
  updatedAt?: string;
  version?: number;
}

export interface PaymentInput {
  booking: string;
  amount: string;
  paymentMethod: PaymentMethod;
  currency?: string;
  transactionId?: string;
  paidAt?: string;
  notes?: string;
}

export interface PaymentSummary {
  booking: string;
  bookingReference?: string;
  bookingStatus?: string;
  currency: string;
  /** total - discount */
  total: number;
  paid: number;
  refunded: number;
  outstanding: number;
  paymentStatus: PaymentStatus;
  accountVersion?: number;
  /** Every refund of the booking's payments (each names its payment), oldest payment first. */
  refunds?: Refund[];
}

export interface RefundInput {
  amount: string;
  reason: string;
}

export interface Refund {
  _id: string;
  payment: string;
  /** In the refund's own answer (POST …/refund); not in lists. */
  booking?: string;
  amount: number;
  amountMinor?: number;
  currency: string;
  reason: string;
  processedBy?: string;
  createdAt?: string;
  paymentAfter?: Payment;
}

export const COMMISSION_STATUSES = ['pending', 'approved', 'paid', 'rejected', 'cancelled'] as const;
export type CommissionStatus = (typeof COMMISSION_STATUSES)[number];
export const COMMISSION_SORTS = ['createdAt', 'amount', 'status'] as const;

export interface Commission {
  _id: string;
  booking: string;
  bookingReference?: string;
  agent: string;
  agentRole?: string;
  currency: string;
  net: number;
  rateBasisPoints: number;
  ratesVersion?: number;
  amount: number;
  status: CommissionStatus;
  payoutReference?: string;
  rejectionReason?: string;
  adjusted?: boolean;
  adjustmentMinor?: number;
  createdAt?: string;
  updatedAt?: string;
  version?: number;
}

export interface CommissionTotals {
  pending: number;
  approved: number;
  paid: number;
  adjustments: number;
  count: number;
  /** Commissions per status (pending, approved, paid, rejected, cancelled). */
  counts?: Partial<Record<CommissionStatus, number>>;
  decimals?: number;
}

export interface CommissionSummary {
  byCurrency: Record<string, CommissionTotals>;
}

export interface BulkApproveResult {
  approved: number;
  results: { id: string; /** The HTTP status of that one approval (200 when approved). */ status: number; code?: string }[];
}

/** Basis points (1/100 %): 500 = 5 %. */
export interface CommissionRates {
  version: number;
  roles: Record<Role, number>;
  agents?: Record<string, number>;
}
