// Status change buttons for a booking or a lead: only the transitions the status
// machine allows from the current status, each confirmed in a dialog (with an
// optional reason). A 422 INVALID_STATUS_TRANSITION (the record moved meanwhile)
// says what is allowed now.
import { useId, useState } from 'react';
import { isApiError } from '../../api/client';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { errorMessage } from '../../components/Feedback';
import { valueLabel } from '../../lib/labels';

export interface StatusActionsProps {
  /** What is changed, for the dialog: "booking TD-…" or "lead Ravi Menon". */
  what: string;
  current: string;
  next: readonly string[];
  labels: Record<string, string>;
  /** Statuses that end something: red buttons, a reason asked for. */
  danger?: readonly string[];
  onChange: (status: string, reason?: string) => Promise<unknown>;
  /** Called after a change (or a refused one) so the caller reloads the record. */
  onDone?: (status: string | null) => void;
  disabled?: boolean;
}

export function StatusActions({ what, current, next, labels, danger = [], onChange, onDone, disabled }: StatusActionsProps) {
  const [target, setTarget] = useState<string | null>(null);
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [refused, setRefused] = useState(false);
  const reasonId = useId();

  if (next.length === 0 && target === null) return null;

  const open = (s: string) => {
    setTarget(s);
    setReason('');
    setError(null);
    setRefused(false);
  };
  const confirm = async () => {
    if (!target) return;
    setBusy(true);
    setError(null);
    try {
      await onChange(target, reason.trim() || undefined);
      setTarget(null);
      onDone?.(target);
    } catch (e) {
      if (isApiError(e) && e.code === 'INVALID_STATUS_TRANSITION') {
        const allowed = Array.isArray(e.details.allowed) ? (e.details.allowed as string[]) : [];
        setError(
          `${e.message}. ${allowed.length ? `From its current status it can become: ${allowed.map(valueLabel).join(', ')}.` : 'It cannot change status any more.'} The page has been refreshed.`,
        );
        setRefused(true);
        onDone?.(null);
      } else if (isApiError(e) && e.code === 'VERSION_CONFLICT') {
        setError('It was changed by someone else meanwhile. The page has been refreshed; check it and try again.');
        setRefused(true);
        onDone?.(null);
      } else {
        setError(errorMessage(e));
      }
    } finally {
      setBusy(false);
    }
  };

  const isDanger = target !== null && danger.includes(target);
  return (
    <div className="status-actions" role="group" aria-label="Change status">
      {next.map((s) => (
        <button
          key={s}
          type="button"
          className={`btn btn-small ${danger.includes(s) ? 'btn-danger-outline' : 'btn-primary'}`}
          disabled={disabled}
          onClick={() => open(s)}
        >
          {labels[s] ?? valueLabel(s)}
        </button>
      ))}
      <ConfirmDialog
        open={target !== null}
        title={`${target ? labels[target] ?? valueLabel(target) : ''}?`}
        confirmLabel={target ? labels[target] ?? valueLabel(target) : 'Confirm'}
        cancelLabel="Keep as is"
        tone={isDanger ? 'danger' : 'primary'}
        busy={busy}
        confirmDisabled={refused}
        error={error}
        onCancel={() => setTarget(null)}
        onConfirm={() => void confirm()}
      >
        <p>
          The {what} moves from <strong>{valueLabel(current)}</strong> to <strong>{target ? valueLabel(target) : ''}</strong>.
        </p>
        <div className="field">
          <label htmlFor={reasonId}>Reason {isDanger ? '(recommended)' : '(optional)'}</label>
          <textarea id={reasonId} rows={2} maxLength={500} value={reason} onChange={(e) => setReason(e.target.value)} />
        </div>
      </ConfirmDialog>
    </div>
  );
}
