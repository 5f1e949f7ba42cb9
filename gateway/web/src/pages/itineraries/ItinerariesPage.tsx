// /itineraries: day-by-day trip plans; search, destination, start dates, sort and
// pagination in the URL; clone from the list.
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useMemo, useState } from 'react';
import { Link, useNavigate } from 'react-router-dom';
import { itinerariesApi } from '../../api/endpoints';
import { ITINERARY_SORTS, type Itinerary } from '../../api/types';
import { FilterPanel, filterKeys, type FilterDef } from '../../components/FilterPanel';
import { PageSizeSelect, SearchBox, SortControl } from '../../components/ListControls';
import { ListResults } from '../../components/ListResults';
import { formatDate, formatDayRange } from '../../lib/format';
import { PAGE_SIZES, useListParams, type ListSpec } from '../../lib/listParams';
import { useAgentDirectory } from '../../lib/useAgents';
import { useDocumentTitle } from '../../lib/useDocumentTitle';
import { CloneDialog } from './CloneDialog';

const SPEC: ListSpec = {
  search: { kind: 'text' },
  destination: { kind: 'text' },
  startDateFrom: { kind: 'date' },
  startDateTo: { kind: 'date' },
  booking: { kind: 'id' },
  customer: { kind: 'id' },
  sortBy: { kind: 'enum', values: ITINERARY_SORTS },
  sortOrder: { kind: 'enum', values: ['asc', 'desc'] },
  page: { kind: 'page' },
  limit: { kind: 'limit', values: PAGE_SIZES },
};

export function ItinerariesPage() {
  useDocumentTitle('Itineraries');
  const navigate = useNavigate();
  const { nameOf } = useAgentDirectory();
  const list = useListParams(SPEC);
  const { values } = list;
  const [cloning, setCloning] = useState<Itinerary | null>(null);
  const defs = useMemo<FilterDef[]>(
    () => [
      { kind: 'text', key: 'destination', label: 'Destination', placeholder: 'e.g. Kerala' },
      { kind: 'dateRange', from: 'startDateFrom', to: 'startDateTo', label: 'Trip start' },
    ],
    [],
  );
  const keys = [...filterKeys(defs), 'booking', 'customer'];
  const filtered = Boolean(values.search) || keys.some((k) => values[k]);
  const q = useQuery({
    queryKey: ['itineraries', 'list', list.query],
    queryFn: () => itinerariesApi.list(list.query),
    placeholderData: keepPreviousData,
  });

  return (
    <section className="page" aria-labelledby="itineraries-title">
      <header className="page-header">
        <div>
          <h1 id="itineraries-title">Itineraries</h1>
          <p className="muted">Day-by-day plans for trips. Clone a good one as the start of the next.</p>
        </div>
        <Link to="/itineraries/new" className="btn btn-primary">
          New itinerary
        </Link>
      </header>

      <div className="card list-toolbar" role="search" aria-label="Find itineraries">
        <SearchBox value={values.search} onSearch={(v) => list.set({ search: v }, { replace: true })} label="Search itineraries" placeholder="Title or destination" />
        <SortControl sorts={ITINERARY_SORTS} sortBy={values.sortBy} sortOrder={values.sortOrder} onChange={(p) => list.set(p)} />
        <PageSizeSelect value={values.limit} onChange={(v) => list.set({ limit: v })} />
      </div>
      <FilterPanel defs={defs} values={values} onApply={(patch) => list.set(patch)} />
      {(values.booking || values.customer) && (
        <p className="muted small">
          Showing the itineraries of one {values.booking ? 'booking' : 'customer'}.{' '}
          <button type="button" className="link-button" onClick={() => list.set({ booking: '', customer: '' })}>
            Show all
          </button>
        </p>
      )}

      <ListResults
        q={q}
        noun="itineraries"
        filtered={filtered}
        onClearFilters={() => list.clearFilters(['search', ...keys])}
        onPage={(p) => list.set({ page: String(p) })}
        empty={{
          title: 'No itineraries yet',
          body: (
            <>
              <p className="muted">Plan a trip day by day.</p>
              <Link to="/itineraries/new" className="btn btn-primary">
                New itinerary
              </Link>
            </>
          ),
        }}
      >
        {(items) => (
          <table className="table" data-testid="itineraries-table">
            <thead>
              <tr>
                <th scope="col">Itinerary</th>
                <th scope="col">Dates</th>
                <th scope="col">Days planned</th>
                <th scope="col" className="hide-narrow">
                  Agent
                </th>
                <th scope="col" className="hide-narrow">
                  Updated
                </th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((it) => (
                <tr key={it._id}>
                  <td>
                    <Link to={`/itineraries/${it._id}`} className="cell-strong">
                      {it.title}
                    </Link>
                    <div className="muted small">
                      {it.destination}
                      {it.booking ? ' · linked to a booking' : ''}
                    </div>
                  </td>
                  <td className="nowrap">{formatDayRange(it.startDate, it.endDate)}</td>
                  <td>{it.days?.length ?? 0}</td>
                  <td className="hide-narrow">{nameOf(it.agent)}</td>
                  <td className="hide-narrow nowrap">{formatDate(it.updatedAt)}</td>
                  <td>
                    <div className="row-actions">
                      <button type="button" className="btn btn-small" onClick={() => setCloning(it)} aria-label={`Clone ${it.title}`}>
                        Clone
                      </button>
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </ListResults>
      {cloning && (
        <CloneDialog
          itinerary={cloning}
          onCancel={() => setCloning(null)}
          onDone={(copy) => {
            setCloning(null);
            navigate(`/itineraries/${copy._id}`, { state: { flash: `“${copy.title}” was created as a copy. Edit it to fit the new trip.` } });
          }}
        />
      )}
    </section>
  );
}
