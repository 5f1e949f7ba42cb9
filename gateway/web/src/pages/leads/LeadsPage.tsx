// /leads: the lead pipeline with status, source, priority, agent and date filters,
// search, sort and pagination, all kept in the URL.
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useMemo } from 'react';
import { Link } from 'react-router-dom';
import { leadsApi } from '../../api/endpoints';
import { LEAD_SORTS, LEAD_SOURCES, LEAD_STATUSES, PRIORITIES, type Lead } from '../../api/types';
import { useAuth } from '../../auth/AuthContext';
import { AgentSelect } from '../../components/AgentSelect';
import { FilterPanel, filterKeys, type FilterDef } from '../../components/FilterPanel';
import { PageSizeSelect, SearchBox, SortControl } from '../../components/ListControls';
import { ListResults } from '../../components/ListResults';
import { StatusBadge } from '../../components/StatusBadge';
import { formatDate, formatMoney } from '../../lib/format';
import { valueLabel } from '../../lib/labels';
import { PAGE_SIZES, useListParams, type ListSpec } from '../../lib/listParams';
import { useAgentDirectory } from '../../lib/useAgents';
import { useDocumentTitle } from '../../lib/useDocumentTitle';

export const LEAD_LIST_SPEC: ListSpec = {
  search: { kind: 'text' },
  status: { kind: 'multi', values: LEAD_STATUSES },
  source: { kind: 'multi', values: LEAD_SOURCES },
  priority: { kind: 'multi', values: PRIORITIES },
  assignedAgent: { kind: 'id' },
  createdFrom: { kind: 'date' },
  createdTo: { kind: 'date' },
  sortBy: { kind: 'enum', values: LEAD_SORTS },
  sortOrder: { kind: 'enum', values: ['asc', 'desc'] },
  page: { kind: 'page' },
  limit: { kind: 'limit', values: PAGE_SIZES },
};

export function leadName(l: Pick<Lead, 'name'>): string {
  return `${l.name?.firstName ?? ''} ${l.name?.lastName ?? ''}`.trim() || 'Unnamed lead';
}

export function LeadsPage() {
  useDocumentTitle('Leads');
  const { permissions } = useAuth();
  const viewAll = permissions.canViewAllLeads === true;
  const { nameOf } = useAgentDirectory();
  const list = useListParams(LEAD_LIST_SPEC);
  const { values } = list;

  const defs = useMemo<FilterDef[]>(() => {
    const d: FilterDef[] = [
      { kind: 'multi', key: 'status', label: 'Status', options: LEAD_STATUSES },
      { kind: 'multi', key: 'source', label: 'Source', options: LEAD_SOURCES },
      { kind: 'multi', key: 'priority', label: 'Priority', options: PRIORITIES },
    ];
    if (viewAll) {
      d.push({
        kind: 'custom',
        key: 'assignedAgent',
        label: 'Assigned agent',
        render: (v, onChange, id) => <AgentSelect id={id} value={v} onChange={onChange} />,
        chip: (v) => nameOf(v),
      });
    }
    d.push({ kind: 'dateRange', from: 'createdFrom', to: 'createdTo', label: 'Created' });
    return d;
  }, [viewAll, nameOf]);
  const keys = filterKeys(defs);
  const filtered = Boolean(values.search) || keys.some((k) => values[k]);

  const q = useQuery({
    queryKey: ['leads', 'list', list.query],
    queryFn: () => leadsApi.list(list.query),
    placeholderData: keepPreviousData,
  });

  return (
    <section className="page" aria-labelledby="leads-title">
      <header className="page-header">
        <div>
          <h1 id="leads-title">Leads</h1>
          <p className="muted">{viewAll ? 'Every lead of the agency.' : 'Leads assigned to you.'} Move them through the pipeline and convert them into customers.</p>
        </div>
        <Link to="/leads/new" className="btn btn-primary">
          New lead
        </Link>
      </header>

      <div className="card list-toolbar" role="search" aria-label="Find leads">
        <SearchBox value={values.search} onSearch={(v) => list.set({ search: v }, { replace: true })} label="Search leads" placeholder="Name, email, phone or destination" />
        <SortControl sorts={LEAD_SORTS} sortBy={values.sortBy} sortOrder={values.sortOrder} onChange={(p) => list.set(p)} />
        <PageSizeSelect value={values.limit} onChange={(v) => list.set({ limit: v })} />
      </div>

      <FilterPanel defs={defs} values={values} onApply={(patch) => list.set(patch)} />

      <ListResults
        q={q}
        noun="leads"
        filtered={filtered}
        onClearFilters={() => list.clearFilters(['search', ...keys])}
        onPage={(p) => list.set({ page: String(p) })}
        empty={{
          title: 'No leads yet',
          body: (
            <>
              <p className="muted">Record an enquiry to start the pipeline.</p>
              <Link to="/leads/new" className="btn btn-primary">
                New lead
              </Link>
            </>
          ),
        }}
      >
        {(items) => (
          <table className="table" data-testid="leads-table">
            <thead>
              <tr>
                <th scope="col">Lead</th>
                <th scope="col">Interest</th>
                <th scope="col">Status</th>
                <th scope="col" className="hide-narrow">
                  Priority
                </th>
                <th scope="col" className="hide-narrow">
                  Source
                </th>
                {viewAll && <th scope="col">Assigned to</th>}
                <th scope="col" className="hide-narrow">
                  Created
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((l) => (
                <tr key={l._id}>
                  <td>
                    <Link to={`/leads/${l._id}`} className="cell-strong">
                      {leadName(l)}
                    </Link>
                    <div className="muted small">{l.contactInfo?.email || l.contactInfo?.phone || '—'}</div>
                  </td>
                  <td>
                    <div>{l.interestedDestination || '—'}</div>
                    {l.budget && <div className="muted small">{formatMoney(l.budget.amount, l.budget.currency)}</div>}
                  </td>
                  <td>
                    <StatusBadge value={l.status} />
                  </td>
                  <td className="hide-narrow">
                    <StatusBadge value={l.priority} />
                  </td>
                  <td className="hide-narrow">{valueLabel(l.source)}</td>
                  {viewAll && <td>{nameOf(l.assignedAgent)}</td>}
                  <td className="hide-narrow nowrap">{formatDate(l.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </ListResults>
    </section>
  );
}
