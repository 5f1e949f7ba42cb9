export * from './types';
export { api, ApiError, isApiError, onSessionExpired, refreshSession, request } from './client';
export type { ApiResult, RequestOptions } from './client';
export { tokens } from './tokens';
export { agentsApi, authApi, bookingsApi, customersApi, healthApi, itinerariesApi, leadsApi, permissionsApi } from './endpoints';
