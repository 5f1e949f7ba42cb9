// /commissions: the per-currency totals (pending, approved, paid, adjustments) on
// top, then the commissions: an agent's own, everyone's with canApproveCommissions,
// who may also approve, reject (with a reason) or pay (with a payout reference) one,
// or select pending ones and approve them together.
import { keepPreviousData, useQuery, useQueryClient } from '@tanstack/react-query';
import { useMemo, useState } from 'react';
import { Link } from 'react-router-dom';
import { commissionsApi } from '../../api/endpoints';
import { COMMISSION_SORTS, COMMISSION_STATUSES, type Commission } from '../../api/types';
import { useAuth } from '../../auth/AuthContext';
import { AgentSelect } from '../../components/AgentSelect';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { Alert, ErrorState, Spinner, errorMessage } from '../../components/Feedback';
import { FilterPanel, filterKeys, type FilterDef } from '../../components/FilterPanel';
import { TextField } from '../../components/Form';
import { PageSizeSelect, SortControl } from '../../components/ListControls';
import { ListResults } from '../../components/ListResults';
import { StatusBadge } from '../../components/StatusBadge';
import { formatDate, formatMoney } from '../../lib/format';
import { PAGE_SIZES, useListParams, type ListSpec } from '../../lib/listParams';
import { useAgentDirectory } from '../../lib/useAgents';
import { useDocumentTitle } from '../../lib/useDocumentTitle';
import { useFlash } from '../../lib/useFlash';

export const COMMISSION_LIST_SPEC: ListSpec = {
  status: { kind: 'multi', values: COMMISSION_STATUSES },
  agent: { kind: 'id' },
  createdFrom: { kind: 'date' },
  createdTo: { kind: 'date' },
  sortBy: { kind: 'enum', values: COMMISSION_SORTS },
  sortOrder: { kind: 'enum', values: ['asc', 'desc'] },
  page: { kind: 'page' },
  limit: { kind: 'limit', values: PAGE_SIZES },
};

type Action = { kind: 'approve' | 'reject' | 'pay'; c: Commission } | { kind: 'bulk'; ids: string[] };

/** "5 %" / "7.5 %" from basis points. */
export const percent = (bp: number): string => `${(bp / 100).toLocaleString(undefined, { maximumFractionDigits: 2 })} %`;

export function CommissionsPage() {
  useDocumentTitle('Commissions');
  const { permissions } = useAuth();
  const manage = permissions.canApproveCommissions === true;
  const { nameOf } = useAgentDirectory();
  const qc = useQueryClient();
  const list = useListParams(COMMISSION_LIST_SPEC);
  const { values } = list;
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [action, setAction] = useState<Action | null>(null);
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [textError, setTextError] = useState<string | undefined>();
  const [flash, setFlash] = useFlash();

  const defs = useMemo<FilterDef[]>(() => {
    const d: FilterDef[] = [{ kind: 'multi', key: 'status', label: 'Status', options: COMMISSION_STATUSES }];
    if (manage) {
      d.push({
        kind: 'custom',
        key: 'agent',
        label: 'Agent',
        render: (v, onChange, id) => <AgentSelect id={id} value={v} onChange={onChange} />,
        chip: (v) => nameOf(v),
      });
    }
    d.push({ kind: 'dateRange', from: 'createdFrom', to: 'createdTo', label: 'Created' });
    return d;
  }, [manage, nameOf]);
  const keys = filterKeys(defs);
  const filtered = keys.some((k) => values[k]);

  const summary = useQuery({ queryKey: ['commissions', 'summary'], queryFn: () => commissionsApi.summary() });
  const q = useQuery({
    queryKey: ['commissions', 'list', list.query],
    queryFn: () => commissionsApi.list(list.query),
    placeholderData: keepPreviousData,
  });

  const open = (a: Action) => {
    setAction(a);
    setText('');
    setError(null);
    setTextError(undefined);
  };
  const run = async () => {
    if (!action) return;
    if ((action.kind === 'reject' || action.kind === 'pay') && !text.trim()) {
      setTextError(action.kind === 'reject' ? 'Say why it is rejected' : 'Enter the payout reference');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      if (action.kind === 'bulk') {
        const r = await commissionsApi.bulkApprove(action.ids);
        const failed = r.results.filter((x) => x.status !== 200).length;
        setFlash(`${r.approved} ${r.approved === 1 ? 'commission' : 'commissions'} approved${failed ? `, ${failed} could not be (already moved on?)` : ''}.`);
        setSelected(new Set());
      } else if (action.kind === 'approve') {
        await commissionsApi.approve(action.c._id);
        setFlash('Commission approved.');
      } else if (action.kind === 'reject') {
        await commissionsApi.reject(action.c._id, text.trim());
        setFlash('Commission rejected.');
      } else {
        await commissionsApi.pay(action.c._id, text.trim());
        setFlash('Commission marked paid.');
      }
      setAction(null);
      void qc.invalidateQueries({ queryKey: ['commissions'] });
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };

  const toggle = (id: string) =>
    setSelected((s) => {
      const n = new Set(s);
      if (n.has(id)) n.delete(id);
      else n.add(id);
      return n;
    });

  const totals = summary.data ? Object.entries(summary.data.byCurrency ?? {}) : [];

  return (
    <section className="page" aria-labelledby="commissions-title">
      <header className="page-header">
        <div>
          <h1 id="commissions-title">Commissions</h1>
          <p className="muted">
            {manage ? 'Commissions of every agent: approve, reject or pay them.' : 'Your commissions: one per confirmed booking.'}
          </p>
        </div>
        {manage && (
          <button type="button" className="btn btn-primary" disabled={selected.size === 0} onClick={() => open({ kind: 'bulk', ids: [...selected] })}>
            Approve selected ({selected.size})
          </button>
        )}
      </header>

      {flash && (
        <Alert kind="success" onDismiss={() => setFlash(null)}>
          {flash}
        </Alert>
      )}

      <section className="card" aria-labelledby="commission-totals-title">
        <h2 id="commission-totals-title">Totals by currency</h2>
        {summary.isPending && <Spinner label="Loading totals…" />}
        {summary.isError && <ErrorState error={summary.error} onRetry={() => void summary.refetch()} what="the totals" />}
        {summary.data && totals.length === 0 && <p className="muted">No commission yet.</p>}
        {totals.length > 0 && (
          <table className="table" data-testid="commission-totals">
            <thead>
              <tr>
                <th scope="col">Currency</th>
                <th scope="col" className="num">Pending</th>
                <th scope="col" className="num">Approved</th>
                <th scope="col" className="num">Paid</th>
                <th scope="col" className="num">Adjustments</th>
                <th scope="col" className="num">Count</th>
              </tr>
            </thead>
            <tbody>
              {totals.map(([cur, t]) => (
                <tr key={cur}>
                  <th scope="row">{cur}</th>
                  <td className="num">{formatMoney(t.pending, cur)}</td>
                  <td className="num">{formatMoney(t.approved, cur)}</td>
                  <td className="num">{formatMoney(t.paid, cur)}</td>
                  <td className="num">{formatMoney(t.adjustments, cur)}</td>
                  <td className="num">{t.count}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>

      <div className="card list-toolbar" role="search" aria-label="Find commissions">
        <SortControl sorts={COMMISSION_SORTS} sortBy={values.sortBy} sortOrder={values.sortOrder} onChange={(p) => list.set(p)} />
        <PageSizeSelect value={values.limit} onChange={(v) => list.set({ limit: v })} />
      </div>
      <FilterPanel defs={defs} values={values} onApply={(patch) => list.set(patch)} title="Filters" />
      <ListResults
        q={q}
        noun="commissions"
        filtered={filtered}
        onClearFilters={() => list.clearFilters(keys)}
        onPage={(p) => list.set({ page: String(p) })}
        empty={{ title: 'No commissions yet', body: <p className="muted">A commission is created when a booking is confirmed.</p> }}
      >
        {(items) => (
          <table className="table" data-testid="commissions-table">
            <thead>
              <tr>
                {manage && (
                  <th scope="col">
                    <SelectAll items={items} selected={selected} onChange={setSelected} />
                  </th>
                )}
                <th scope="col">Booking</th>
                {manage && <th scope="col">Agent</th>}
                <th scope="col" className="num">Net</th>
                <th scope="col" className="num">Rate</th>
                <th scope="col" className="num">Commission</th>
                <th scope="col">Status</th>
                <th scope="col" className="hide-narrow">Created</th>
                {manage && (
                  <th scope="col">
                    <span className="sr-only">Actions</span>
                  </th>
                )}
              </tr>
            </thead>
            <tbody>
              {items.map((c) => {
                const ref = c.bookingReference || `…${c.booking.slice(-6)}`;
                return (
                  <tr key={c._id}>
                    {manage && (
                      <td>
                        {c.status === 'pending' && (
                          <input type="checkbox" aria-label={`Select commission of ${ref}`} checked={selected.has(c._id)} onChange={() => toggle(c._id)} />
                        )}
                      </td>
                    )}
                    <td className="nowrap">
                      <Link to={`/bookings/${c.booking}`} className="mono">
                        {ref}
                      </Link>
                    </td>
                    {manage && <td>{nameOf(c.agent)}</td>}
                    <td className="num nowrap">{formatMoney(c.net, c.currency)}</td>
                    <td className="num">{percent(c.rateBasisPoints)}</td>
                    <td className="num nowrap">
                      {formatMoney(c.amount, c.currency)}
                      {c.adjusted && <div className="muted small">adjusted</div>}
                    </td>
                    <td>
                      <StatusBadge value={c.status} />
                      {c.payoutReference && <div className="muted small mono">{c.payoutReference}</div>}
                    </td>
                    <td className="hide-narrow nowrap">{formatDate(c.createdAt)}</td>
                    {manage && (
                      <td className="nowrap">
                        <div className="row-actions">
                          {c.status === 'pending' && (
                            <button type="button" className="btn btn-small" aria-label={`Approve commission of ${ref}`} onClick={() => open({ kind: 'approve', c })}>
                              Approve
                            </button>
                          )}
                          {c.status === 'approved' && (
                            <button type="button" className="btn btn-small" aria-label={`Pay commission of ${ref}`} onClick={() => open({ kind: 'pay', c })}>
                              Pay
                            </button>
                          )}
                          {(c.status === 'pending' || c.status === 'approved') && (
                            <button type="button" className="btn btn-small btn-ghost-danger" aria-label={`Reject commission of ${ref}`} onClick={() => open({ kind: 'reject', c })}>
                              Reject
                            </button>
                          )}
                        </div>
                      </td>
                    )}
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
      </ListResults>

      {action && (
        <ConfirmDialog
          open
          title={
            action.kind === 'bulk'
              ? `Approve ${action.ids.length} ${action.ids.length === 1 ? 'commission' : 'commissions'}?`
              : action.kind === 'approve'
                ? 'Approve this commission?'
                : action.kind === 'pay'
                  ? 'Mark this commission paid?'
                  : 'Reject this commission?'
          }
          confirmLabel={action.kind === 'pay' ? 'Mark paid' : action.kind === 'reject' ? 'Reject' : 'Approve'}
          tone={action.kind === 'reject' ? 'danger' : 'primary'}
          busy={busy}
          error={error}
          onCancel={() => setAction(null)}
          onConfirm={() => void run()}
        >
          {action.kind !== 'bulk' && (
            <p>
              {formatMoney(action.c.amount, action.c.currency)} for booking {action.c.bookingReference || action.c.booking} ({nameOf(action.c.agent)}).
            </p>
          )}
          {action.kind === 'bulk' && <p>Each selected pending commission is approved on its own; any that moved on meanwhile are skipped.</p>}
          {action.kind === 'pay' && <TextField label="Payout reference" value={text} error={textError} onChange={(e) => setText(e.target.value)} maxLength={120} />}
          {action.kind === 'reject' && <TextField label="Reason" value={text} error={textError} onChange={(e) => setText(e.target.value)} maxLength={500} />}
        </ConfirmDialog>
      )}
    </section>
  );
}

/** The header checkbox: selects (or clears) every pending commission of the page. */
function SelectAll({ items, selected, onChange }: { items: Commission[]; selected: Set<string>; onChange: (s: Set<string>) => void }) {
  const pending = items.filter((c) => c.status === 'pending').map((c) => c._id);
  const all = pending.length > 0 && pending.every((id) => selected.has(id));
  return (
    <input
      type="checkbox"
      aria-label="Select every pending commission on this page"
      disabled={pending.length === 0}
      checked={all}
      onChange={() => {
        const n = new Set(selected);
        for (const id of pending) {
          if (all) n.delete(id);
          else n.add(id);
        }
        onChange(n);
      }}
    />
  );
}
