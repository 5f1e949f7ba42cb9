// /settings/commission-rates (canManageSettings): the commission rate of each role
// and per-agent overrides, edited in percent and sent in basis points with the
// version read (PUT /api/commissions/rates); a 409 VERSION_CONFLICT (someone saved
// first) offers to reload. New commissions use the saved rates, existing ones keep
// theirs.
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { isApiError } from '../../api/client';
import { commissionsApi } from '../../api/endpoints';
import { ROLES, type CommissionRates, type Role } from '../../api/types';
import { AgentSelect } from '../../components/AgentSelect';
import { Alert, ErrorState, Spinner, errorMessage } from '../../components/Feedback';
import { TextField } from '../../components/Form';
import { roleLabel } from '../../lib/labels';
import { isObjectId } from '../../lib/listParams';
import { useAgentDirectory } from '../../lib/useAgents';
import { useDocumentTitle } from '../../lib/useDocumentTitle';

const PERCENT = /^\d{1,3}(\.\d{1,2})?$/;

/** Basis points from "5" / "7.5" percent, or null when it is not 0..100 with 2 decimals. */
export function toBasisPoints(v: string): number | null {
  const t = v.trim();
  if (!PERCENT.test(t)) return null;
  const bp = Math.round(Number(t) * 100);
  return bp >= 0 && bp <= 10000 ? bp : null;
}
export const fromBasisPoints = (bp: number): string => String(bp / 100);

export function CommissionRatesPage() {
  useDocumentTitle('Commission rates');
  const q = useQuery({ queryKey: ['commissions', 'rates'], queryFn: () => commissionsApi.rates() });
  const [savedVersion, setSavedVersion] = useState<number | null>(null);
  return (
    <section className="page" aria-labelledby="rates-title">
      <header className="page-header">
        <div>
          <h1 id="rates-title">Commission rates</h1>
          <p className="muted">The share of a confirmed booking’s net amount (total − tax − discount) that its agent earns. New commissions use these rates; existing ones keep theirs.</p>
        </div>
      </header>
      {q.isPending && <Spinner label="Loading the rates…" />}
      {q.isError && <ErrorState error={q.error} onRetry={() => void q.refetch()} what="the rates" />}
      {q.data && savedVersion === q.data.version && <Alert kind="success">Rates saved (version {q.data.version}).</Alert>}
      {q.data && <RatesForm key={q.data.version} rates={q.data} reload={() => void q.refetch()} onSaved={setSavedVersion} />}
    </section>
  );
}

function RatesForm({ rates, reload, onSaved }: { rates: CommissionRates; reload: () => void; onSaved: (version: number) => void }) {
  const qc = useQueryClient();
  const { nameOf } = useAgentDirectory();
  const [roles, setRoles] = useState<Record<string, string>>(() => Object.fromEntries(ROLES.map((r) => [r, fromBasisPoints(rates.roles?.[r] ?? 0)])));
  const [agents, setAgents] = useState<[string, string][]>(() => Object.entries(rates.agents ?? {}).map(([a, bp]) => [a, fromBasisPoints(bp)]));
  const [newAgent, setNewAgent] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const save = async () => {
    const errs: Record<string, string> = {};
    const body: CommissionRates = { version: rates.version, roles: {} as Record<Role, number>, agents: {} };
    for (const r of ROLES) {
      const bp = toBasisPoints(roles[r]);
      if (bp === null) errs[r] = 'Enter a percentage from 0 to 100, like 5 or 7.5';
      else body.roles[r] = bp;
    }
    for (const [a, v] of agents) {
      const bp = toBasisPoints(v);
      if (bp === null) errs[a] = 'Enter a percentage from 0 to 100';
      else body.agents![a] = bp;
    }
    setErrors(errs);
    if (Object.keys(errs).length) return;
    setBusy(true);
    setError(null);
    try {
      const next = await commissionsApi.putRates(body);
      onSaved(next.version);
      qc.setQueryData(['commissions', 'rates'], next);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  const conflict = isApiError(error) && error.code === 'VERSION_CONFLICT';
  return (
    <form
      className="card form"
      aria-label="Commission rates"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      {conflict && (
        <Alert kind="warning" title="Someone saved other rates meanwhile">
          <p>Reload to see them, then make your change again.</p>
          <button type="button" className="btn btn-small" onClick={reload}>
            Reload the rates
          </button>
        </Alert>
      )}
      {error !== null && !conflict && <Alert kind="error">{errorMessage(error)}</Alert>}
      <p className="muted small">Version {rates.version}{rates.version === 0 ? ' (built-in defaults)' : ''}.</p>
      <fieldset className="field-group">
        <legend>By role (%)</legend>
        <div className="form-row">
          {ROLES.map((r) => (
            <TextField key={r} label={roleLabel(r)} inputMode="decimal" value={roles[r]} error={errors[r]} onChange={(e) => setRoles((x) => ({ ...x, [r]: e.target.value }))} />
          ))}
        </div>
      </fieldset>
      <fieldset className="field-group">
        <legend>Agent overrides (%)</legend>
        {agents.length === 0 && <p className="muted small">No agent has a rate of their own.</p>}
        {agents.map(([a, v], i) => (
          <div key={a} className="form-row">
            <TextField label={nameOf(a) === 'Another agent' ? `Agent …${a.slice(-6)}` : nameOf(a)} inputMode="decimal" value={v} error={errors[a]} onChange={(e) => setAgents((x) => x.map((p, j) => (j === i ? [p[0], e.target.value] : p)))} />
            <div className="field">
              <span aria-hidden="true">&nbsp;</span>
              <button type="button" className="btn btn-ghost-danger" onClick={() => setAgents((x) => x.filter((_, j) => j !== i))}>
                Remove override
              </button>
            </div>
          </div>
        ))}
        <div className="form-row">
          <div className="field">
            <label htmlFor="rate-new-agent">Add an override for</label>
            <AgentSelect id="rate-new-agent" value={newAgent} onChange={setNewAgent} anyLabel="Choose an agent" />
          </div>
          <div className="field">
            <span aria-hidden="true">&nbsp;</span>
            <button
              type="button"
              className="btn"
              disabled={!isObjectId(newAgent) || agents.some(([a]) => a === newAgent)}
              onClick={() => {
                setAgents((x) => [...x, [newAgent, fromBasisPoints(rates.roles?.agent ?? 0)]]);
                setNewAgent('');
              }}
            >
              Add override
            </button>
          </div>
        </div>
      </fieldset>
      <div className="actions">
        <button type="submit" className="btn btn-primary" disabled={busy} aria-busy={busy || undefined}>
          {busy ? 'Saving…' : 'Save rates'}
        </button>
      </div>
    </form>
  );
}
