// /customers: search, city, sort and pagination, kept in the URL.
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { Link } from 'react-router-dom';
import { customersApi } from '../../api/endpoints';
import { CUSTOMER_SORTS } from '../../api/types';
import { useAuth } from '../../auth/AuthContext';
import { PageSizeSelect, SearchBox, SortControl } from '../../components/ListControls';
import { ListResults } from '../../components/ListResults';
import { formatDate, fullName } from '../../lib/format';
import { PAGE_SIZES, useListParams, type ListSpec } from '../../lib/listParams';
import { useDocumentTitle } from '../../lib/useDocumentTitle';

const SPEC: ListSpec = {
  search: { kind: 'text' },
  city: { kind: 'text' },
  sortBy: { kind: 'enum', values: CUSTOMER_SORTS },
  sortOrder: { kind: 'enum', values: ['asc', 'desc'] },
  page: { kind: 'page' },
  limit: { kind: 'limit', values: PAGE_SIZES },
};

export function CustomersPage() {
  useDocumentTitle('Customers');
  const { permissions } = useAuth();
  const list = useListParams(SPEC);
  const { values } = list;
  const q = useQuery({
    queryKey: ['customers', 'list', list.query],
    queryFn: () => customersApi.list(list.query),
    placeholderData: keepPreviousData,
  });
  const filtered = Boolean(values.search || values.city);

  return (
    <section className="page" aria-labelledby="customers-title">
      <header className="page-header">
        <div>
          <h1 id="customers-title">Customers</h1>
          <p className="muted">{permissions.canViewAllCustomers ? 'All customers of the agency.' : 'Your customers.'}</p>
        </div>
        <Link to="/customers/new" className="btn btn-primary">
          New customer
        </Link>
      </header>

      <div className="card list-toolbar" role="search" aria-label="Find customers">
        <SearchBox value={values.search} onSearch={(v) => list.set({ search: v }, { replace: true })} label="Search customers" placeholder="Name, email or phone" />
        <SearchBox value={values.city} onSearch={(v) => list.set({ city: v }, { replace: true })} label="City" placeholder="e.g. Mumbai" className="filter-city" />
        <SortControl sorts={CUSTOMER_SORTS} sortBy={values.sortBy} sortOrder={values.sortOrder} onChange={(p) => list.set(p)} />
        <PageSizeSelect value={values.limit} onChange={(v) => list.set({ limit: v })} />
      </div>

      <ListResults
        q={q}
        noun="customers"
        filtered={filtered}
        onClearFilters={() => list.clearFilters(['search', 'city'])}
        onPage={(p) => list.set({ page: String(p) })}
        empty={{
          title: 'No customers yet',
          body: (
            <>
              <p className="muted">Add your first customer, or convert a lead.</p>
              <Link to="/customers/new" className="btn btn-primary">
                New customer
              </Link>
            </>
          ),
        }}
      >
        {(items) => (
          <table className="table" data-testid="customers-table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Contact</th>
                <th scope="col">City</th>
                <th scope="col" className="hide-narrow">
                  Added
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((c) => (
                <tr key={c._id}>
                  <td>
                    <Link to={`/customers/${c._id}`} className="cell-strong">
                      {fullName(c)}
                    </Link>
                  </td>
                  <td>
                    <div>{c.email || '—'}</div>
                    <div className="muted small">{c.phone}</div>
                  </td>
                  <td>{[c.city, c.country].filter(Boolean).join(', ') || '—'}</td>
                  <td className="hide-narrow nowrap">{formatDate(c.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </ListResults>
    </section>
  );
}
