// /bookings: the bookings list with every PRD step 6 filter, sort and pagination,
// all kept in the URL under the API's parameter names.
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useMemo } from 'react';
import { Link } from 'react-router-dom';
import { bookingsApi, customersApi } from '../../api/endpoints';
import { BOOKING_SORTS, BOOKING_STATUSES, PAYMENT_STATUSES, PRIORITIES, TRIP_TYPES, type Booking } from '../../api/types';
import { useAuth } from '../../auth/AuthContext';
import { AgentSelect } from '../../components/AgentSelect';
import { CustomerPicker } from '../../components/CustomerPicker';
import { FilterPanel, filterKeys, type FilterDef } from '../../components/FilterPanel';
import { PageSizeSelect, SearchBox, SortControl } from '../../components/ListControls';
import { ListResults } from '../../components/ListResults';
import { StatusBadge } from '../../components/StatusBadge';
import { formatDayRange, formatMoney, fullName } from '../../lib/format';
import { valueLabel } from '../../lib/labels';
import { PAGE_SIZES, useListParams, type ListSpec } from '../../lib/listParams';
import { useAgentDirectory } from '../../lib/useAgents';
import { useDocumentTitle } from '../../lib/useDocumentTitle';

export const BOOKING_LIST_SPEC: ListSpec = {
  search: { kind: 'text' },
  destination: { kind: 'text' },
  status: { kind: 'multi', values: BOOKING_STATUSES },
  tripType: { kind: 'multi', values: TRIP_TYPES },
  priority: { kind: 'multi', values: PRIORITIES },
  paymentStatus: { kind: 'multi', values: PAYMENT_STATUSES },
  agent: { kind: 'id' },
  customer: { kind: 'id' },
  startDateFrom: { kind: 'date' },
  startDateTo: { kind: 'date' },
  createdFrom: { kind: 'date' },
  createdTo: { kind: 'date' },
  minAmount: { kind: 'number' },
  maxAmount: { kind: 'number' },
  sortBy: { kind: 'enum', values: BOOKING_SORTS },
  sortOrder: { kind: 'enum', values: ['asc', 'desc'] },
  page: { kind: 'page' },
  limit: { kind: 'limit', values: PAGE_SIZES },
};

export function BookingsPage() {
  useDocumentTitle('Bookings');
  const { permissions } = useAuth();
  const viewAll = permissions.canViewAllBookings === true;
  const { nameOf } = useAgentDirectory();
  const list = useListParams(BOOKING_LIST_SPEC);
  const { values } = list;

  // The filtered customer's name, for its chip.
  const customer = useQuery({
    queryKey: ['customers', 'one', values.customer],
    queryFn: () => customersApi.get(values.customer),
    enabled: Boolean(values.customer),
    staleTime: 60_000,
    retry: false,
  });

  const defs = useMemo<FilterDef[]>(() => {
    const d: FilterDef[] = [
      { kind: 'multi', key: 'status', label: 'Status', options: BOOKING_STATUSES },
      { kind: 'multi', key: 'tripType', label: 'Trip type', options: TRIP_TYPES },
      { kind: 'multi', key: 'priority', label: 'Priority', options: PRIORITIES },
      { kind: 'multi', key: 'paymentStatus', label: 'Payment', options: PAYMENT_STATUSES },
      { kind: 'text', key: 'destination', label: 'Destination', placeholder: 'e.g. Goa' },
      {
        kind: 'custom',
        key: 'customer',
        label: 'Customer',
        render: (v, onChange, id) => <CustomerPicker id={id} value={v} onChange={(cid) => onChange(cid)} />,
        chip: (v) => (customer.data && customer.data._id === v ? fullName(customer.data) : 'selected customer'),
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
    d.push(
      { kind: 'dateRange', from: 'startDateFrom', to: 'startDateTo', label: 'Trip start' },
      { kind: 'dateRange', from: 'createdFrom', to: 'createdTo', label: 'Created' },
      { kind: 'numberRange', min: 'minAmount', max: 'maxAmount', label: 'Total amount' },
    );
    return d;
  }, [viewAll, customer.data, nameOf]);

  const keys = filterKeys(defs);
  const filtered = Boolean(values.search) || keys.some((k) => values[k]);

  const q = useQuery({
    queryKey: ['bookings', 'list', list.query],
    queryFn: () => bookingsApi.list(list.query),
    placeholderData: keepPreviousData,
  });

  return (
    <section className="page" aria-labelledby="bookings-title">
      <header className="page-header">
        <div>
          <h1 id="bookings-title">Bookings</h1>
          <p className="muted">{viewAll ? 'All bookings of the agency.' : 'Your bookings.'} Filter, sort and open a booking to change its status.</p>
        </div>
        <Link to="/bookings/new" className="btn btn-primary">
          New booking
        </Link>
      </header>

      <div className="card list-toolbar" role="search" aria-label="Find bookings">
        <SearchBox
          value={values.search}
          onSearch={(v) => list.set({ search: v }, { replace: true })}
          label="Search bookings"
          placeholder="Reference, trip, destination or customer"
        />
        <SortControl sorts={BOOKING_SORTS} sortBy={values.sortBy} sortOrder={values.sortOrder} onChange={(p) => list.set(p)} />
        <PageSizeSelect value={values.limit} onChange={(v) => list.set({ limit: v })} />
      </div>

      <FilterPanel defs={defs} values={values} onApply={(patch) => list.set(patch)} title="Filters" />

      <ListResults
        q={q}
        noun="bookings"
        filtered={filtered}
        onClearFilters={() => list.clearFilters(['search', ...keys])}
        onPage={(p) => list.set({ page: String(p) })}
        empty={{
          title: 'No bookings yet',
          body: (
            <>
              <p className="muted">Create a booking for one of your customers.</p>
              <Link to="/bookings/new" className="btn btn-primary">
                New booking
              </Link>
            </>
          ),
        }}
      >
        {(items) => <BookingsTable items={items} showAgent={viewAll} agentName={nameOf} />}
      </ListResults>
    </section>
  );
}

export function BookingsTable({
  items,
  showAgent = false,
  showCustomer = true,
  agentName,
}: {
  items: Booking[];
  showAgent?: boolean;
  showCustomer?: boolean;
  agentName?: (id: string) => string;
}) {
  return (
    <table className="table" data-testid="bookings-table">
      <thead>
        <tr>
          <th scope="col">Reference</th>
          {showCustomer && (
            <th scope="col" className="hide-narrow">
              Customer
            </th>
          )}
          <th scope="col">Trip</th>
          <th scope="col">Dates</th>
          <th scope="col" className="num">
            Total
          </th>
          <th scope="col">Status</th>
          <th scope="col" className="hide-narrow">
            Priority
          </th>
          {showAgent && (
            <th scope="col" className="hide-narrow">
              Agent
            </th>
          )}
        </tr>
      </thead>
      <tbody>
        {items.map((b) => (
          <tr key={b._id}>
            <td className="nowrap">
              <Link to={`/bookings/${b._id}`} className="cell-strong mono">
                {b.bookingReference}
              </Link>
              {showCustomer && <div className="muted small show-narrow">{b.customerName}</div>}
            </td>
            {showCustomer && <td className="hide-narrow">{b.customerName || '—'}</td>}
            <td>
              <div className="cell-strong">{b.tripDetails?.title}</div>
              <div className="muted small">
                {b.tripDetails?.destination} · {valueLabel(b.tripDetails?.tripType)}
              </div>
            </td>
            <td className="nowrap">{formatDayRange(b.tripDetails?.startDate, b.tripDetails?.endDate)}</td>
            <td className="num nowrap">{formatMoney(b.pricing?.totalAmount, b.pricing?.currency)}</td>
            <td>
              <StatusBadge value={b.status} />
            </td>
            <td className="hide-narrow">
              <StatusBadge value={b.priority} />
            </td>
            {showAgent && <td className="hide-narrow">{agentName ? agentName(b.agent) : '—'}</td>}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
