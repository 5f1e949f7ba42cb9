// One function per API endpoint the web UI uses.
import { api } from './client';
import { tokens } from './tokens';
import type {
  Agent,
  Booking,
  BookingInput,
  BookingStatus,
  BulkApproveResult,
  Commission,
  CommissionRates,
  CommissionSummary,
  Payment,
  PaymentInput,
  PaymentSummary,
  Refund,
  RefundInput,
  ConvertLeadInput,
  ConvertLeadResult,
  Customer,
  CustomerInput,
  DirectoryAgent,
  Itinerary,
  ItineraryInput,
  Lead,
  LeadInput,
  LeadStatus,
  ListQuery,
  AgentListQuery,
  AgentUpdate,
  ChangePasswordRequest,
  ChangePasswordResponse,
  Health,
  LoginRequest,
  LoginResponse,
  MeResponse,
  Page,
  PermissionHistoryEntry,
  PermissionMatrix,
  PermissionUpdate,
  RegisterRequest,
  RegisterResponse,
  Role,
} from './types';

const id = (s: string) => encodeURIComponent(s);

export const authApi = {
  /** Signs in and keeps the tokens. */
  async login(body: LoginRequest): Promise<LoginResponse> {
    const data = await api.post<LoginResponse>('/api/auth/login', body, { auth: false });
    tokens.set(data);
    return data;
  },
  /** Registers a new (pending) agent; the server answers the agent itself or {agent}. */
  async register(body: RegisterRequest): Promise<Agent> {
    const data = await api.post<RegisterResponse | Agent>('/api/auth/register', body, { auth: false });
    return data && typeof data === 'object' && 'agent' in data && data.agent ? data.agent : (data as Agent);
  },
  me(): Promise<MeResponse> {
    return api.get<MeResponse>('/api/auth/me');
  },
  /** Ends the session on the server (best effort) and forgets the tokens. */
  async logout(): Promise<void> {
    const refreshToken = tokens.refresh();
    try {
      // The gateway wants the access token here too (logout is not a public route).
      if (refreshToken) await api.post('/api/auth/logout', { refreshToken });
    } catch {
      // The local session ends whatever the server says.
    } finally {
      tokens.clear();
    }
  },
  /** Changes the password; the server revokes the old tokens and sends new ones. */
  async changePassword(body: ChangePasswordRequest): Promise<ChangePasswordResponse> {
    const data = await api.put<ChangePasswordResponse>('/api/auth/password', body);
    if (data && typeof data.accessToken === 'string' && typeof data.refreshToken === 'string') {
      tokens.set({ accessToken: data.accessToken, refreshToken: data.refreshToken, expiresIn: data.expiresIn ?? 0 });
    }
    return data;
  },
};

export const agentsApi = {
  list(q: AgentListQuery): Promise<Page<Agent>> {
    return api.page<Agent>('/api/agents', {
      query: { page: q.page, limit: q.limit, status: q.status, role: q.role, search: q.search },
    });
  },
  get(agentId: string): Promise<Agent> {
    return api.get<Agent>(`/api/agents/${id(agentId)}`);
  },
  /** Names of other agents (canViewAllAgents, canAssignLeads or canViewAllBookings): a search, or ids (at most 20). */
  async directory(q: { search?: string; ids?: string[]; limit?: number }): Promise<DirectoryAgent[]> {
    const page = await api.page<DirectoryAgent>('/api/agents/directory', {
      query: { search: q.search || undefined, ids: q.ids?.length ? q.ids.join(',') : undefined, limit: q.limit },
    });
    return page.items;
  },
  approve(agentId: string): Promise<Agent> {
    return api.patch<Agent>(`/api/agents/${id(agentId)}/approve`);
  },
  deactivate(agentId: string): Promise<Agent> {
    return api.patch<Agent>(`/api/agents/${id(agentId)}/deactivate`);
  },
  changeRole(agentId: string, role: Role): Promise<Agent> {
    return api.patch<Agent>(`/api/agents/${id(agentId)}/role`, { role });
  },
  update(agentId: string, body: AgentUpdate): Promise<Agent> {
    return api.put<Agent>(`/api/agents/${id(agentId)}`, body);
  },
  remove(agentId: string): Promise<unknown> {
    return api.delete(`/api/agents/${id(agentId)}`);
  },
};

export const permissionsApi = {
  matrix(): Promise<PermissionMatrix> {
    return api.get<PermissionMatrix>('/api/permissions');
  },
  update(role: Role, body: PermissionUpdate): Promise<Partial<PermissionMatrix>> {
    return api.put<Partial<PermissionMatrix>>(`/api/permissions/${id(role)}`, body);
  },
  reset(): Promise<Partial<PermissionMatrix>> {
    return api.post<Partial<PermissionMatrix>>('/api/permissions/reset');
  },
  history(page: number, limit = 10): Promise<Page<PermissionHistoryEntry>> {
    return api.page<PermissionHistoryEntry>('/api/permissions/history', { query: { page, limit } });
  },
};

export const healthApi = {
  get(): Promise<Health> {
    // With the access token when signed in: only then does the gateway list PIDs.
    return api.get<Health>('/api/health');
  },
};

export const customersApi = {
  list(q: ListQuery): Promise<Page<Customer>> {
    return api.page<Customer>('/api/customers', { query: q });
  },
  get(customerId: string): Promise<Customer> {
    return api.get<Customer>(`/api/customers/${id(customerId)}`);
  },
  create(body: CustomerInput): Promise<Customer> {
    return api.post<Customer>('/api/customers', body);
  },
  update(customerId: string, body: CustomerInput): Promise<Customer> {
    return api.put<Customer>(`/api/customers/${id(customerId)}`, body);
  },
  remove(customerId: string): Promise<unknown> {
    return api.delete(`/api/customers/${id(customerId)}`);
  },
};

export const bookingsApi = {
  list(q: ListQuery): Promise<Page<Booking>> {
    return api.page<Booking>('/api/bookings', { query: q });
  },
  get(bookingId: string): Promise<Booking> {
    return api.get<Booking>(`/api/bookings/${id(bookingId)}`);
  },
  create(body: BookingInput): Promise<Booking> {
    return api.post<Booking>('/api/bookings', body);
  },
  /** PUT needs the version the edit started from (409 VERSION_CONFLICT otherwise). */
  update(bookingId: string, body: BookingInput & { version: number }): Promise<Booking> {
    return api.put<Booking>(`/api/bookings/${id(bookingId)}`, body);
  },
  setStatus(bookingId: string, status: BookingStatus, reason?: string): Promise<Booking> {
    return api.patch<Booking>(`/api/bookings/${id(bookingId)}/status`, reason ? { status, reason } : { status });
  },
  remove(bookingId: string): Promise<unknown> {
    return api.delete(`/api/bookings/${id(bookingId)}`);
  },
};

export const leadsApi = {
  list(q: ListQuery): Promise<Page<Lead>> {
    return api.page<Lead>('/api/leads', { query: q });
  },
  get(leadId: string): Promise<Lead> {
    return api.get<Lead>(`/api/leads/${id(leadId)}`);
  },
  create(body: LeadInput): Promise<Lead> {
    return api.post<Lead>('/api/leads', body);
  },
  update(leadId: string, body: LeadInput): Promise<Lead> {
    return api.put<Lead>(`/api/leads/${id(leadId)}`, body);
  },
  setStatus(leadId: string, status: LeadStatus, reason?: string, version?: number): Promise<Lead> {
    const body: Record<string, unknown> = { status };
    if (reason) body.reason = reason;
    if (version !== undefined) body.version = version;
    return api.patch<Lead>(`/api/leads/${id(leadId)}/status`, body);
  },
  assign(leadId: string, agentId: string): Promise<Lead> {
    return api.patch<Lead>(`/api/leads/${id(leadId)}/assign`, { agentId });
  },
  convert(leadId: string, body: ConvertLeadInput): Promise<ConvertLeadResult> {
    return api.post<ConvertLeadResult>(`/api/leads/${id(leadId)}/convert`, body);
  },
  remove(leadId: string): Promise<unknown> {
    return api.delete(`/api/leads/${id(leadId)}`);
  },
};

export const itinerariesApi = {
  list(q: ListQuery): Promise<Page<Itinerary>> {
    return api.page<Itinerary>('/api/itineraries', { query: q });
  },
  get(itineraryId: string): Promise<Itinerary> {
    return api.get<Itinerary>(`/api/itineraries/${id(itineraryId)}`);
  },
  create(body: ItineraryInput): Promise<Itinerary> {
    return api.post<Itinerary>('/api/itineraries', body);
  },
  update(itineraryId: string, body: ItineraryInput): Promise<Itinerary> {
    return api.put<Itinerary>(`/api/itineraries/${id(itineraryId)}`, body);
  },
  clone(itineraryId: string, title?: string): Promise<Itinerary> {
    return api.post<Itinerary>(`/api/itineraries/${id(itineraryId)}/clone`, title ? { title } : {});
  },
  remove(itineraryId: string): Promise<unknown> {
    return api.delete(`/api/itineraries/${id(itineraryId)}`);
  },
};

export const paymentsApi = {
  list(q: ListQuery): Promise<Page<Payment>> {
    return api.page<Payment>('/api/payments', { query: q });
  },
  summary(bookingId: string): Promise<PaymentSummary> {
    return api.get<PaymentSummary>(`/api/payments/booking/${id(bookingId)}/summary`);
  },
  /** `idempotencyKey` is one per form submission: a retry of it sends the same key,
   * so the server answers the first attempt's result instead of charging twice. */
  create(body: PaymentInput, idempotencyKey: string): Promise<Payment> {
    return api.post<Payment>('/api/payments', body, { headers: { 'Idempotency-Key': idempotencyKey } });
  },
  refunds(paymentId: string): Promise<Refund[]> {
    return api.get<Refund[]>(`/api/payments/${id(paymentId)}/refunds`);
  },
  refund(paymentId: string, body: RefundInput, idempotencyKey: string): Promise<Refund> {
    return api.post<Refund>(`/api/payments/${id(paymentId)}/refund`, body, { headers: { 'Idempotency-Key': idempotencyKey } });
  },
};

export const commissionsApi = {
  list(q: ListQuery): Promise<Page<Commission>> {
    return api.page<Commission>('/api/commissions', { query: q });
  },
  summary(): Promise<CommissionSummary> {
    return api.get<CommissionSummary>('/api/commissions/summary');
  },
  approve(commissionId: string): Promise<Commission> {
    return api.patch<Commission>(`/api/commissions/${id(commissionId)}/approve`);
  },
  reject(commissionId: string, reason: string): Promise<Commission> {
    return api.patch<Commission>(`/api/commissions/${id(commissionId)}/reject`, { reason });
  },
  pay(commissionId: string, payoutReference: string): Promise<Commission> {
    return api.patch<Commission>(`/api/commissions/${id(commissionId)}/pay`, { payoutReference });
  },
  bulkApprove(ids: string[]): Promise<BulkApproveResult> {
    return api.post<BulkApproveResult>('/api/commissions/bulk-approve', { ids });
  },
  rates(): Promise<CommissionRates> {
    return api.get<CommissionRates>('/api/commissions/rates');
  },
  putRates(body: CommissionRates): Promise<CommissionRates> {
    return api.put<CommissionRates>('/api/commissions/rates', body);
  },
};
