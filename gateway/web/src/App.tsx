import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { useState, type ReactNode } from 'react';
import { BrowserRouter, Route, Routes } from 'react-router-dom';
import { isApiError } from './api/client';
import { rules } from './auth/access';
import { AuthProvider } from './auth/AuthContext';
import { RequireAccess, RequireAuth } from './auth/guards';
import { ConnectionBanner } from './components/ConnectionBanner';
import { Layout } from './components/Layout';
import { AgentsPage } from './pages/AgentsPage';
import { BookingDetailPage } from './pages/bookings/BookingDetailPage';
import { BookingFormPage } from './pages/bookings/BookingFormPage';
import { BookingsPage } from './pages/bookings/BookingsPage';
import { CustomerDetailPage } from './pages/customers/CustomerDetailPage';
import { CustomerFormPage } from './pages/customers/CustomerFormPage';
import { CustomersPage } from './pages/customers/CustomersPage';
import { ItinerariesPage } from './pages/itineraries/ItinerariesPage';
import { ItineraryDetailPage } from './pages/itineraries/ItineraryDetailPage';
import { ItineraryFormPage } from './pages/itineraries/ItineraryFormPage';
import { ConvertLeadPage } from './pages/leads/ConvertLeadPage';
import { LeadDetailPage } from './pages/leads/LeadDetailPage';
import { LeadFormPage } from './pages/leads/LeadFormPage';
import { LeadsPage } from './pages/leads/LeadsPage';
import { HealthPage } from './pages/HealthPage';
import { CommissionRatesPage } from './pages/payments/CommissionRatesPage';
import { CommissionsPage } from './pages/payments/CommissionsPage';
import { PaymentsPage } from './pages/payments/PaymentsPage';
import { HomePage } from './pages/HomePage';
import { LoginPage } from './pages/LoginPage';
import { NotFoundPage } from './pages/NotFoundPage';
import { PermissionsPage } from './pages/PermissionsPage';
import { ProfilePage } from './pages/ProfilePage';
import { RegisterPage } from './pages/RegisterPage';

export function makeQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        // Retry only what may pass next time: an unavailable service, once.
        retry: (count, err) => isApiError(err) && err.unavailable && err.status !== 0 && count < 1,
        staleTime: 10_000,
        refetchOnWindowFocus: true,
      },
      mutations: { retry: false },
    },
  });
}

/** The routes, under the banner shown while the gateway cannot be reached; the
 * providers are outside so tests can supply their own. */
export function AppRoutes() {
  return (
    <>
      <ConnectionBanner />
      <Routes>
        <Route path="/login" element={<LoginPage />} />
        <Route path="/register" element={<RegisterPage />} />
        <Route
          element={
            <RequireAuth>
              <Layout />
            </RequireAuth>
          }
        >
          <Route index element={<HomePage />} />
          <Route path="bookings" element={<BookingsPage />} />
          <Route path="bookings/new" element={<BookingFormPage />} />
          <Route path="bookings/:id" element={<BookingDetailPage />} />
          <Route path="bookings/:id/edit" element={<BookingFormPage />} />
          <Route path="customers" element={<CustomersPage />} />
          <Route path="customers/new" element={<CustomerFormPage />} />
          <Route path="customers/:id" element={<CustomerDetailPage />} />
          <Route path="customers/:id/edit" element={<CustomerFormPage />} />
          <Route path="leads" element={<LeadsPage />} />
          <Route path="leads/new" element={<LeadFormPage />} />
          <Route path="leads/:id" element={<LeadDetailPage />} />
          <Route path="leads/:id/edit" element={<LeadFormPage />} />
          <Route path="leads/:id/convert" element={<ConvertLeadPage />} />
          <Route path="itineraries" element={<ItinerariesPage />} />
          <Route path="itineraries/new" element={<ItineraryFormPage />} />
          <Route path="itineraries/:id" element={<ItineraryDetailPage />} />
          <Route path="itineraries/:id/edit" element={<ItineraryFormPage />} />
          <Route path="payments" element={<PaymentsPage />} />
          <Route path="commissions" element={<CommissionsPage />} />
          <Route
            path="settings/commission-rates"
            element={
              <RequireAccess rule={rules.settings}>
                <CommissionRatesPage />
              </RequireAccess>
            }
          />
          <Route
            path="agents"
            element={
              <RequireAccess rule={rules.agents}>
                <AgentsPage />
              </RequireAccess>
            }
          />
          <Route
            path="permissions"
            element={
              <RequireAccess rule={rules.permissions}>
                <PermissionsPage />
              </RequireAccess>
            }
          />
          <Route
            path="health"
            element={
              <RequireAccess rule={rules.health}>
                <HealthPage />
              </RequireAccess>
            }
          />
          <Route path="profile" element={<ProfilePage />} />
          <Route path="*" element={<NotFoundPage />} />
        </Route>
      </Routes>
    </>
  );
}

export function Providers({ children, client }: { children: ReactNode; client?: QueryClient }) {
  const [qc] = useState(() => client ?? makeQueryClient());
  return (
    <QueryClientProvider client={qc}>
      <AuthProvider>{children}</AuthProvider>
    </QueryClientProvider>
  );
}

export function App() {
  return (
    <BrowserRouter>
      <Providers>
        <AppRoutes />
      </Providers>
    </BrowserRouter>
  );
}
