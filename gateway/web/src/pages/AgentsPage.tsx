import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useId, useState } from 'react';
import { useSearchParams } from 'react-router-dom';
import { agentsApi } from '../api/endpoints';
import { AGENT_STATUSES, ROLES, roleRank, type Agent, type AgentStatus, type Role } from '../api/types';
import { useAuth } from '../auth/AuthContext';
import { Badge, toneOf } from '../components/Badge';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { Alert, EmptyState, ErrorState, Spinner, errorMessage } from '../components/Feedback';
import { SelectField, TextField } from '../components/Form';
import { Pagination } from '../components/Pagination';
import { formatDate, formatDateTime, fullName } from '../lib/format';
import { ROLE_LABELS, STATUS_LABELS, roleLabel } from '../lib/labels';
import { useDocumentTitle } from '../lib/useDocumentTitle';

const PAGE_SIZE = 20;
const SHORT_STATUS: Record<string, string> = { pending: 'Pending', active: 'Active', deactivated: 'Deactivated' };

type Action =
  | { kind: 'approve'; agent: Agent }
  | { kind: 'deactivate'; agent: Agent }
  | { kind: 'delete'; agent: Agent }
  | { kind: 'role'; agent: Agent; role: Role };

function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setV(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return v;
}

function isStatus(v: string | null): v is AgentStatus {
  return v !== null && (AGENT_STATUSES as readonly string[]).includes(v);
}
function isRole(v: string | null): v is Role {
  return v !== null && (ROLES as readonly string[]).includes(v);
}

export function AgentsPage() {
  useDocumentTitle('Agents');
  const { agent: me, permissions } = useAuth();
  const qc = useQueryClient();
  const [params, setParams] = useSearchParams();
  const status = isStatus(params.get('status')) ? (params.get('status') as AgentStatus) : '';
  const role = isRole(params.get('role')) ? (params.get('role') as Role) : '';
  const page = Math.max(1, Number(params.get('page')) || 1);
  const [searchText, setSearchText] = useState(params.get('search') ?? '');
  const search = useDebounced(searchText.trim(), 300);

  const setParam = (key: string, value: string) => {
    setParams(
      (prev) => {
        const next = new URLSearchParams(prev);
        if (value) next.set(key, value);
        else next.delete(key);
        if (key !== 'page') next.delete('page');
        return next;
      },
      { replace: true },
    );
  };

  useEffect(() => {
    if ((params.get('search') ?? '') !== search) setParam('search', search);
  }, [search]);

  const q = useQuery({
    queryKey: ['agents', { page, limit: PAGE_SIZE, status, role, search }],
    queryFn: () => agentsApi.list({ page, limit: PAGE_SIZE, status, role, search }),
    placeholderData: keepPreviousData,
  });

  const [action, setAction] = useState<Action | null>(null);
  const [flash, setFlash] = useState<string | null>(null);
  const mutation = useMutation({
    mutationFn: async (a: Action) => {
      switch (a.kind) {
        case 'approve':
          return agentsApi.approve(a.agent._id);
        case 'deactivate':
          return agentsApi.deactivate(a.agent._id);
        case 'delete':
          return agentsApi.remove(a.agent._id);
        case 'role':
          return agentsApi.changeRole(a.agent._id, a.role);
      }
    },
    onSuccess: (_data, a) => {
      const name = fullName(a.agent);
      const text = {
        approve: `${name} is approved and can now sign in.`,
        deactivate: `${name} is deactivated.`,
        delete: `${name} was deleted.`,
        role: `${name} is now ${a.kind === 'role' ? roleLabel(a.role) : ''}.`,
      }[a.kind];
      setFlash(text);
      setAction(null);
      void qc.invalidateQueries({ queryKey: ['agents'] });
    },
  });

  const open = (a: Action) => {
    mutation.reset();
    setFlash(null);
    setAction(a);
  };

  // The auth service's rules: an agent administers others of a lower role (a super
  // admin also other super admins), never itself; it grants roles up to its own, and
  // admin roles only with canCreateAdmin.
  const myRank = roleRank(me?.role);
  const isSuper = me?.role === 'super_admin';
  const manageable = (a: Agent) => a._id !== me?._id && (roleRank(a.role) < myRank || isSuper);
  const canApprove = permissions.canApproveAgents === true;
  const canChangeRole = permissions.canChangeAnyRole === true;
  const canDelete = permissions.canDeleteAgents === true;
  const assignable = ROLES.filter(
    (r) => roleRank(r) <= myRank && (roleRank(r) < roleRank('admin') || permissions.canCreateAdmin === true),
  );

  const filtersActive = Boolean(status || role || search);
  const items = q.data?.items ?? [];

  return (
    <section className="page" aria-labelledby="agents-title">
      <header className="page-header">
        <div>
          <h1 id="agents-title">Agents</h1>
          <p className="muted">Approve new registrations, manage roles and deactivate accounts.</p>
        </div>
      </header>

      <form className="filters card" role="search" aria-label="Filter agents" onSubmit={(e) => e.preventDefault()}>
        <TextField
          label="Search"
          type="search"
          placeholder="Name, email or agency"
          value={searchText}
          onChange={(e) => setSearchText(e.target.value)}
          className="filter-search"
        />
        <SelectField label="Status" value={status} onChange={(e) => setParam('status', e.target.value)}>
          <option value="">All statuses</option>
          {AGENT_STATUSES.map((s) => (
            <option key={s} value={s}>
              {STATUS_LABELS[s]}
            </option>
          ))}
        </SelectField>
        <SelectField label="Role" value={role} onChange={(e) => setParam('role', e.target.value)}>
          <option value="">All roles</option>
          {ROLES.map((r) => (
            <option key={r} value={r}>
              {ROLE_LABELS[r]}
            </option>
          ))}
        </SelectField>
        {filtersActive && (
          <button
            type="button"
            className="btn btn-ghost filter-clear"
            onClick={() => {
              setSearchText('');
              setParams(new URLSearchParams(), { replace: true });
            }}
          >
            Clear filters
          </button>
        )}
      </form>

      {flash && (
        <Alert kind="success" onDismiss={() => setFlash(null)}>
          {flash}
        </Alert>
      )}

      {q.isPending && <Spinner label="Loading agents…" />}
      {q.isError && <ErrorState error={q.error} onRetry={() => void q.refetch()} what="agents" />}
      {q.isSuccess && items.length === 0 && (
        <EmptyState title={filtersActive ? 'No agents match these filters' : 'No agents yet'}>
          <p className="muted">{filtersActive ? 'Try another search or clear the filters.' : 'New registrations appear here for approval.'}</p>
        </EmptyState>
      )}
      {items.length > 0 && (
        <div className={`card table-card${q.isPlaceholderData ? ' is-stale' : ''}`}>
          <div className="table-scroll">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Agent</th>
                  <th scope="col">Agency</th>
                  <th scope="col">Role / status</th>
                  <th scope="col">Joined / last sign-in</th>
                  <th scope="col">
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {items.map((a) => {
                  const self = a._id === me?._id;
                  const manage = manageable(a);
                  return (
                    <tr key={a._id}>
                      <td>
                        <div className="cell-strong">
                          {fullName(a)}
                          {self && <span className="muted"> (you)</span>}
                        </div>
                        <div className="muted small">{a.email}</div>
                      </td>
                      <td>{a.agencyName || '—'}</td>
                      <td className="nowrap">
                        <div>{roleLabel(a.role)}</div>
                        <Badge tone={toneOf(a.status)}>{SHORT_STATUS[a.status] ?? a.status}</Badge>
                      </td>
                      <td className="nowrap">
                        <div>{formatDate(a.createdAt)}</div>
                        <div className="muted small" title={a.lastLoginAt ? formatDateTime(a.lastLoginAt) : undefined}>
                          {a.lastLoginAt ? `Last: ${formatDate(a.lastLoginAt)}` : 'Never signed in'}
                        </div>
                      </td>
                      <td>
                        <div className="row-actions">
                          {canApprove && manage && a.status !== 'active' && (
                            <button type="button" className="btn btn-small btn-primary" onClick={() => open({ kind: 'approve', agent: a })}>
                              {a.status === 'pending' ? 'Approve' : 'Reactivate'}
                            </button>
                          )}
                          {canChangeRole && manage && (
                            <button
                              type="button"
                              className="btn btn-small"
                              onClick={() => open({ kind: 'role', agent: a, role: a.role })}
                              aria-label={`Change role of ${fullName(a)}`}
                            >
                              Change role
                            </button>
                          )}
                          {canApprove && manage && a.status === 'active' && (
                            <button type="button" className="btn btn-small btn-danger-outline" onClick={() => open({ kind: 'deactivate', agent: a })}>
                              Deactivate
                            </button>
                          )}
                          {canDelete && manage && (
                            <button
                              type="button"
                              className="btn btn-small btn-ghost-danger"
                              onClick={() => open({ kind: 'delete', agent: a })}
                              aria-label={`Delete ${fullName(a)}`}
                            >
                              Delete
                            </button>
                          )}
                        </div>
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
          {q.data && <Pagination pagination={q.data.pagination} onPage={(p) => setParam('page', String(p))} noun="agents" />}
        </div>
      )}

      <ActionDialog
        action={action}
        roles={assignable}
        busy={mutation.isPending}
        error={mutation.isError ? errorMessage(mutation.error) : null}
        onChange={setAction}
        onCancel={() => setAction(null)}
        onConfirm={() => action && mutation.mutate(action)}
      />
    </section>
  );
}

function ActionDialog({
  action,
  roles,
  busy,
  error,
  onChange,
  onCancel,
  onConfirm,
}: {
  action: Action | null;
  roles: Role[];
  busy: boolean;
  error: string | null;
  onChange: (a: Action) => void;
  onCancel: () => void;
  onConfirm: () => void;
}) {
  const selectId = useId();
  if (!action) return null;
  const name = fullName(action.agent);
  const common = { open: true, busy, error, onCancel, onConfirm };
  switch (action.kind) {
    case 'approve':
      return (
        <ConfirmDialog {...common} title={action.agent.status === 'pending' ? 'Approve this agent?' : 'Reactivate this agent?'} confirmLabel="Yes, approve">
          <p>
            <strong>{name}</strong> ({action.agent.email}) will be able to sign in to TripDesk as{' '}
            {roleLabel(action.agent.role)}.
          </p>
        </ConfirmDialog>
      );
    case 'deactivate':
      return (
        <ConfirmDialog {...common} title="Deactivate this agent?" confirmLabel="Yes, deactivate" tone="danger">
          <p>
            <strong>{name}</strong> will be signed out and can no longer sign in until reactivated.
          </p>
        </ConfirmDialog>
      );
    case 'delete':
      return (
        <ConfirmDialog {...common} title="Delete this agent?" confirmLabel="Yes, delete" tone="danger">
          <p>
            <strong>{name}</strong> ({action.agent.email}) will be removed. This cannot be undone.
          </p>
        </ConfirmDialog>
      );
    case 'role': {
      const options = roles.includes(action.agent.role) ? roles : [action.agent.role, ...roles];
      return (
        <ConfirmDialog {...common} title="Change role" confirmLabel="Change role" confirmDisabled={action.role === action.agent.role}>
          <p>
            Choose the new role for <strong>{name}</strong>. Their permissions change at their next request.
          </p>
          <div className="field">
            <label htmlFor={selectId}>New role</label>
            <select id={selectId} value={action.role} onChange={(e) => onChange({ ...action, role: e.target.value as Role })}>
              {options.map((r) => (
                <option key={r} value={r}>
                  {roleLabel(r)}
                  {r === action.agent.role ? ' (current)' : ''}
                </option>
              ))}
            </select>
          </div>
          {action.role === action.agent.role && <p className="muted small">Pick a role different from the current one.</p>}
        </ConfirmDialog>
      );
    }
  }
}
