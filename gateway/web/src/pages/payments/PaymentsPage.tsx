// /payments: payments of the agent's own bookings (everyone's with
// canViewAllPayments), with the PRD step 6 filters (status, method, amount range,
// paid-on range, booking (picked by its reference) and, for those who see all,
// agent), sort and pagination,
// kept in the URL under the API's parameter names.
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useMemo } from 'react';
import { paymentsApi } from '../../api/endpoints';
import { PAYMENT_METHODS, PAYMENT_RECORD_STATUSES, PAYMENT_SORTS } from '../../api/types';
import { useAuth } from '../../auth/AuthContext';
import { AgentSelect } from '../../components/AgentSelect';
import { BookingPicker, bookingLabel } from '../../components/BookingPicker';
import { FilterPanel, filterKeys, type FilterDef } from '../../components/FilterPanel';
import { PageSizeSelect, SortControl } from '../../components/ListControls';
import { ListResults } from '../../components/ListResults';
import { PAGE_SIZES, useListParams, type ListSpec } from '../../lib/listParams';
import { useAgentDirectory } from '../../lib/useAgents';
import { useDocumentTitle } from '../../lib/useDocumentTitle';
import { PaymentsTable } from './PaymentsTable';

export const PAYMENT_LIST_SPEC: ListSpec = {
  status: { kind: 'multi', values: PAYMENT_RECORD_STATUSES },
  paymentMethod: { kind: 'multi', values: PAYMENT_METHODS },
  minAmount: { kind: 'number' },
  maxAmount: { kind: 'number' },
  dateFrom: { kind: 'date' },
  dateTo: { kind: 'date' },
  booking: { kind: 'id' },
  agent: { kind: 'id' },
  sortBy: { kind: 'enum', values: PAYMENT_SORTS },
  sortOrder: { kind: 'enum', values: ['asc', 'desc'] },
  page: { kind: 'page' },
  limit: { kind: 'limit', values: PAGE_SIZES },
};

export function PaymentsPage() {
  useDocumentTitle('Payments');
  const { permissions } = useAuth();
  const viewAll = permissions.canViewAllPayments === true;
  const { nameOf } = useAgentDirectory();
  const list = useListParams(PAYMENT_LIST_SPEC);
  const { values } = list;

  const defs = useMemo<FilterDef[]>(() => {
    const d: FilterDef[] = [
      { kind: 'multi', key: 'status', label: 'Status', options: PAYMENT_RECORD_STATUSES },
      { kind: 'multi', key: 'paymentMethod', label: 'Method', options: PAYMENT_METHODS },
      { kind: 'numberRange', min: 'minAmount', max: 'maxAmount', label: 'Amount' },
      { kind: 'dateRange', from: 'dateFrom', to: 'dateTo', label: 'Paid on' },
      {
        kind: 'custom',
        key: 'booking',
        label: 'Booking',
        render: (v, onChange, id) => <BookingPicker id={id} value={v} onChange={(b) => onChange(b)} />,
        chip: (v) => bookingLabel(v),
      },
    ];
    if (viewAll) {
      d.push({
        kind: 'custom',
        key: 'agent',
        label: 'Agent',
        render: (v, onChange, id) => <AgentSelect id={id} value={v} onChange={onChange} />,
        chip: (v) => nameOf(v),
      });
    }
    return d;
  }, [viewAll, nameOf]);

  const keys = filterKeys(defs);
  const filtered = keys.some((k) => values[k]);
  const q = useQuery({
    queryKey: ['payments', 'list', list.query],
    queryFn: () => paymentsApi.list(list.query),
    placeholderData: keepPreviousData,
  });

  return (
    <section className="page" aria-labelledby="payments-page-title">
      <header className="page-header">
        <div>
          <h1 id="payments-page-title">Payments</h1>
          <p className="muted">
            {viewAll ? 'Payments of every booking.' : 'Payments of your bookings.'} Record a payment or a refund from the booking’s page.
          </p>
        </div>
      </header>
      <div className="card list-toolbar" role="search" aria-label="Find payments">
        <SortControl sorts={PAYMENT_SORTS} sortBy={values.sortBy} sortOrder={values.sortOrder} onChange={(p) => list.set(p)} defaultLabel="Latest paid first" />
        <PageSizeSelect value={values.limit} onChange={(v) => list.set({ limit: v })} />
      </div>
      <FilterPanel defs={defs} values={values} onApply={(patch) => list.set(patch)} title="Filters" />
      <ListResults
        q={q}
        noun="payments"
        filtered={filtered}
        onClearFilters={() => list.clearFilters(keys)}
        onPage={(p) => list.set({ page: String(p) })}
        empty={{ title: 'No payments yet', body: <p className="muted">Payments recorded on bookings appear here.</p> }}
      >
        {(items) => <PaymentsTable items={items} agentName={viewAll ? nameOf : undefined} />}
      </ListResults>
    </section>
  );
}
