// What can be done with a lead: move it along the pipeline (only the transitions
// its status allows), assign it to an agent (canAssignLeads only) and convert it.
import { useId, useState } from 'react';
import { Link } from 'react-router-dom';
import { leadsApi } from '../../api/endpoints';
import { CLOSED_LEAD_STATUSES, LEAD_TRANSITIONS, type Lead, type LeadStatus } from '../../api/types';
import { useAuth } from '../../auth/AuthContext';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { errorMessage } from '../../components/Feedback';
import { LEAD_ACTION_LABELS, valueLabel } from '../../lib/labels';
import { isObjectId } from '../../lib/listParams';
import { AgentSelect } from '../../components/AgentSelect';
import { useAgentDirectory } from '../../lib/useAgents';
import { StatusActions } from '../bookings/StatusActions';
import { leadName } from './LeadsPage';

export function LeadActions({ lead, onChanged, onFlash }: { lead: Lead; onChanged: (l: Lead | null) => void; onFlash?: (m: string) => void }) {
  const { permissions } = useAuth();
  const closed = CLOSED_LEAD_STATUSES.includes(lead.status);
  const next = LEAD_TRANSITIONS[lead.status] ?? [];
  const canAssign = permissions.canAssignLeads === true;
  const [assigning, setAssigning] = useState(false);

  return (
    <div className="lead-actions">
      <StatusActions
        what={`lead ${leadName(lead)}`}
        current={lead.status}
        next={next}
        labels={LEAD_ACTION_LABELS}
        danger={['lost']}
        onChange={async (status, reason) => {
          const updated = await leadsApi.setStatus(lead._id, status as LeadStatus, reason, lead.version);
          onChanged(updated);
          onFlash?.(`The lead is now ${valueLabel(status).toLowerCase()}.`);
        }}
        onDone={(s) => s === null && onChanged(null)}
      />
      {!closed && (
        <Link className="btn btn-small btn-primary" to={`/leads/${lead._id}/convert`}>
          Convert…
        </Link>
      )}
      {canAssign && !closed && (
        <button type="button" className="btn btn-small" onClick={() => setAssigning(true)}>
          Assign…
        </button>
      )}
      {assigning && (
        <AssignDialog
          lead={lead}
          onCancel={() => setAssigning(false)}
          onDone={(l, who) => {
            setAssigning(false);
            onChanged(l);
            onFlash?.(`The lead is now assigned to ${who}.`);
          }}
        />
      )}
    </div>
  );
}

/** Choose an agent: by searching the agent directory when the role may, else by id (or "me"). */
function AssignDialog({ lead, onCancel, onDone }: { lead: Lead; onCancel: () => void; onDone: (l: Lead, who: string) => void }) {
  const { me, canList, nameOf } = useAgentDirectory();
  const [agentId, setAgentId] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const fieldId = useId();
  const valid = isObjectId(agentId) && agentId !== lead.assignedAgent;

  const submit = async () => {
    setBusy(true);
    setError(null);
    try {
      const updated = await leadsApi.assign(lead._id, agentId);
      const name = nameOf(agentId);
      onDone(updated, agentId === me?._id ? 'you' : name !== 'Another agent' ? name : 'the chosen agent');
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <ConfirmDialog
      open
      title="Assign this lead"
      confirmLabel="Assign"
      busy={busy}
      confirmDisabled={!valid}
      error={error}
      onCancel={onCancel}
      onConfirm={() => void submit()}
    >
      <p>
        <strong>{leadName(lead)}</strong> is assigned to {nameOf(lead.assignedAgent).replace(/^You$/, 'you')}. The new agent sees the lead in their list.
      </p>
      <div className="field">
        <label htmlFor={fieldId}>{canList ? 'Agent' : 'Agent id'}</label>
        {canList ? (
          <AgentSelect id={fieldId} value={agentId} onChange={(v) => setAgentId(v)} anyLabel="Choose an agent…" />
        ) : (
          <>
            <input id={fieldId} type="text" value={agentId} onChange={(e) => setAgentId(e.target.value.trim())} placeholder="24-character agent id" aria-describedby={`${fieldId}-hint`} />
            <div id={`${fieldId}-hint`} className="field-hint">
              Your role cannot list agents; paste the agent’s id
              {me && (
                <>
                  {' '}
                  or{' '}
                  <button type="button" className="link-button" onClick={() => setAgentId(me._id)}>
                    assign it to yourself
                  </button>
                </>
              )}
              .
            </div>
          </>
        )}
      </div>
    </ConfirmDialog>
  );
}
