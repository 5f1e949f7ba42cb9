import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { isApiError } from '../api/client';
import { permissionsApi } from '../api/endpoints';
import { ROLES, type ChangedBy, type PermissionHistoryEntry, type PermissionSet, type Role } from '../api/types';
import { ME_KEY, useAuth } from '../auth/AuthContext';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { Alert, EmptyState, ErrorState, Spinner, errorMessage } from '../components/Feedback';
import { Pagination } from '../components/Pagination';
import { formatDateTime, fullName } from '../lib/format';
import { permissionLabel, roleLabel } from '../lib/labels';
import { PermissionMatrixTable, listChanges, type Change, type Overrides } from './PermissionMatrix';
import { useDocumentTitle } from '../lib/useDocumentTitle';

const MATRIX_KEY = ['permissions', 'matrix'] as const;

function saveErrorMessage(role: Role, e: unknown): string {
  if (isApiError(e) && e.code === 'PERMISSION_LOCKED') {
    return `${roleLabel(role)}: ${e.message || 'this change would remove critical super admin permissions.'}`;
  }
  if (isApiError(e) && e.code === 'VERSION_CONFLICT') {
    return `${roleLabel(role)}: someone else changed the permissions meanwhile. The matrix has been reloaded; check it and save again.`;
  }
  return `${roleLabel(role)}: ${errorMessage(e)}`;
}

export function PermissionsPage() {
  useDocumentTitle('Permission matrix');
  const { agent } = useAuth();
  const qc = useQueryClient();
  const q = useQuery({ queryKey: MATRIX_KEY, queryFn: () => permissionsApi.matrix(), refetchOnWindowFocus: false });
  const [overrides, setOverrides] = useState<Overrides>({});
  const [confirm, setConfirm] = useState<'save' | 'reset' | null>(null);
  const [flash, setFlash] = useState<string | null>(null);

  const roles: Role[] = q.data
    ? [...ROLES.filter((r) => r in q.data.roles), ...(Object.keys(q.data.roles).filter((r) => !(ROLES as readonly string[]).includes(r)) as Role[])]
    : [...ROLES];
  const names = q.data
    ? q.data.permissions?.length
      ? q.data.permissions
      : [...new Set(Object.values(q.data.roles).flatMap((p) => Object.keys(p ?? {})))]
    : [];
  const saved = (q.data?.roles ?? {}) as Partial<Record<Role, PermissionSet>>;
  // Only a super admin edits, and not while the server shows its built-in defaults.
  const canEdit = agent?.role === 'super_admin' && q.data?.fallback !== true;
  const changes = listChanges(saved, overrides, roles);

  const toggle = (role: Role, name: string, value: boolean) => {
    setFlash(null);
    setOverrides((o) => ({ ...o, [role]: { ...(o[role] ?? {}), [name]: value } }));
  };

  const save = useMutation({
    mutationFn: async (list: Change[]) => {
      const byRole = [...new Set(list.map((c) => c.role))];
      const failures: string[] = [];
      const done: Role[] = [];
      // Each saved role bumps the matrix version; the next PUT expects the new one, so
      // a change made meanwhile by someone else fails with VERSION_CONFLICT.
      let version = q.data?.version;
      for (const role of byRole) {
        const changed: PermissionSet = {};
        for (const c of list) if (c.role === role) changed[c.name] = c.to;
        try {
          const res = await permissionsApi.update(role, { permissions: changed, version });
          version = typeof res?.version === 'number' ? res.version : version === undefined ? undefined : version + 1;
          done.push(role);
        } catch (e) {
          failures.push(saveErrorMessage(role, e));
          if (isApiError(e) && e.code === 'VERSION_CONFLICT') break;
        }
      }
      return { done, failures };
    },
    onSuccess: ({ done, failures }) => {
      setOverrides((o) => {
        const next = { ...o };
        for (const r of done) delete next[r];
        return next;
      });
      if (done.length || failures.length) {
        void qc.invalidateQueries({ queryKey: ['permissions'] });
        void qc.invalidateQueries({ queryKey: ME_KEY });
      }
      if (failures.length === 0) {
        setConfirm(null);
        setFlash(`Saved permissions for ${done.map(roleLabel).join(', ')}.`);
      } else if (done.length) {
        setFlash(`Saved permissions for ${done.map(roleLabel).join(', ')}.`);
      }
    },
  });

  const reset = useMutation({
    mutationFn: () => permissionsApi.reset(),
    onSuccess: () => {
      setOverrides({});
      setConfirm(null);
      setFlash('All roles are back to the default permissions.');
      void qc.invalidateQueries({ queryKey: ['permissions'] });
      void qc.invalidateQueries({ queryKey: ME_KEY });
    },
  });

  const saveFailures = save.data?.failures ?? [];

  return (
    <section className="page" aria-labelledby="perm-title">
      <header className="page-header">
        <div>
          <h1 id="perm-title">Permission matrix</h1>
          <p className="muted">
            What each role may do. {canEdit ? 'Changes apply once saved.' : 'Only a super admin can change permissions.'}
            {q.data && <> Current version: <strong>v{q.data.version}</strong>.</>}
          </p>
        </div>
        {canEdit && q.data && (
          <div className="actions">
            <button type="button" className="btn btn-ghost-danger" onClick={() => { reset.reset(); setConfirm('reset'); }}>
              Reset to defaults
            </button>
            <button type="button" className="btn" disabled={changes.length === 0} onClick={() => setOverrides({})}>
              Discard changes
            </button>
            <button
              type="button"
              className="btn btn-primary"
              disabled={changes.length === 0}
              onClick={() => {
                save.reset();
                setConfirm('save');
              }}
            >
              Save changes{changes.length ? ` (${changes.length})` : ''}
            </button>
          </div>
        )}
      </header>

      {flash && (
        <Alert kind="success" onDismiss={() => setFlash(null)}>
          {flash}
        </Alert>
      )}
      {confirm === null && saveFailures.length > 0 && (
        <Alert kind="error" title="Some changes were not saved">
          <ul className="plain-list">
            {saveFailures.map((f) => (
              <li key={f}>{f}</li>
            ))}
          </ul>
        </Alert>
      )}

      {q.data?.fallback && (
        <Alert kind="warning" title="Showing the built-in default permissions">
          The permission store cannot be read right now, so TripDesk applies its defaults. Changes can be saved again once it
          is back.
        </Alert>
      )}
      {q.isPending && <Spinner label="Loading permissions…" />}
      {q.isError && <ErrorState error={q.error} onRetry={() => void q.refetch()} what="the permission matrix" />}
      {q.data && names.length === 0 && <EmptyState title="No permissions defined" />}
      {q.data && names.length > 0 && (q.data.locked?.length ?? 0) > 0 && canEdit && (
        <p className="muted small matrix-note">
          Dimmed switches in the Super admin column are locked: a super admin must keep those permissions to manage agents
          and permissions.
        </p>
      )}
      {q.data && names.length > 0 && (
        <div className="card table-card">
          <PermissionMatrixTable
            roles={roles}
            names={names}
            saved={saved}
            overrides={overrides}
            onToggle={toggle}
            readOnly={!canEdit}
            locked={q.data.locked ?? []}
          />
        </div>
      )}

      <ConfirmDialog
        open={confirm === 'save'}
        title="Are you sure?"
        confirmLabel="Yes, save changes"
        busy={save.isPending}
        error={save.isError ? errorMessage(save.error) : saveFailures.length ? saveFailures.join(' ') : null}
        onCancel={() => setConfirm(null)}
        onConfirm={() => save.mutate(changes)}
      >
        <p>
          You are about to change {changes.length} permission{changes.length === 1 ? '' : 's'}. Agents with these roles get the
          new permissions at their next request.
        </p>
        <ul className="change-list">
          {changes.map((c) => (
            <li key={`${c.role}:${c.name}`}>
              <span className={`change-chip ${c.to ? 'chip-grant' : 'chip-revoke'}`}>{c.to ? 'Grant' : 'Revoke'}</span>{' '}
              <strong>{roleLabel(c.role)}</strong>: {permissionLabel(c.name)}
            </li>
          ))}
        </ul>
      </ConfirmDialog>

      <ConfirmDialog
        open={confirm === 'reset'}
        title="Reset all permissions?"
        confirmLabel="Yes, reset to defaults"
        tone="danger"
        busy={reset.isPending}
        error={reset.isError ? errorMessage(reset.error) : null}
        onCancel={() => setConfirm(null)}
        onConfirm={() => reset.mutate()}
      >
        <p>Every role goes back to TripDesk’s default permissions. Unsaved changes are discarded.</p>
      </ConfirmDialog>

      <PermissionHistory />
    </section>
  );
}

function who(c: ChangedBy, myId: string | undefined): string {
  if (!c) return 'the system';
  if (typeof c === 'string') return c === myId ? 'you' : c;
  if (myId && (c.id ?? c._id) === myId) return 'you';
  if (c.firstName || c.lastName || c.email) return fullName(c);
  const id = c.id ?? c._id;
  const role = c.role ? roleLabel(c.role) : 'an agent';
  return id ? `${role} …${id.slice(-6)}` : role;
}

function diff(e: PermissionHistoryEntry): { name: string; to: boolean }[] {
  const before = e.before ?? {};
  const after = e.after ?? {};
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...keys].filter((k) => (before[k] === true) !== (after[k] === true)).map((k) => ({ name: k, to: after[k] === true }));
}

function PermissionHistory() {
  const myId = useAuth().agent?._id;
  const [page, setPage] = useState(1);
  const q = useQuery({
    queryKey: ['permissions', 'history', page],
    queryFn: () => permissionsApi.history(page, 10),
    refetchOnWindowFocus: false,
  });
  return (
    <section className="card history" aria-labelledby="history-title">
      <h2 id="history-title">Version history</h2>
      {q.isPending && <Spinner label="Loading history…" />}
      {q.isError && <ErrorState error={q.error} onRetry={() => void q.refetch()} what="the version history" />}
      {q.data && q.data.items.length === 0 && <p className="muted">No changes yet: every role has its default permissions.</p>}
      {q.data && q.data.items.length > 0 && (
        <>
          <ol className="history-list">
            {q.data.items.map((e) => {
              const d = diff(e);
              return (
                <li key={`${e.version}-${e.role}-${e.changedAt}`} className="history-item">
                  <div className="history-head">
                    <span className="badge badge-info">v{e.version}</span>
                    <strong>{e.role ? roleLabel(e.role) : 'All roles'}</strong>
                    {e.action === 'PERMISSIONS_RESET' && <span className="badge badge-neutral">Reset to defaults</span>}
                    <span className="muted small">
                      by {who(e.changedBy, myId)} · {formatDateTime(e.changedAt)}
                    </span>
                  </div>
                  {d.length > 0 ? (
                    <ul className="history-changes">
                      {d.map((c) => (
                        <li key={c.name} className={`change-chip ${c.to ? 'chip-grant' : 'chip-revoke'}`}>
                          {c.to ? '+' : '−'} {permissionLabel(c.name)}
                        </li>
                      ))}
                    </ul>
                  ) : (
                    <div className="muted small">No permission changed (reset or re-save).</div>
                  )}
                </li>
              );
            })}
          </ol>
          <Pagination pagination={q.data.pagination} onPage={setPage} noun="changes" />
        </>
      )}
    </section>
  );
}
