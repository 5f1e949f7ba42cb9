// A dialog that refunds part or all of a payment (canProcessRefunds). Like a payment,
// each submission carries one Idempotency-Key, kept across a retry of the same one.
import { useState } from 'react';
import { isApiError } from '../../api/client';
import { paymentsApi } from '../../api/endpoints';
import type { Payment, Refund } from '../../api/types';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { errorMessage } from '../../components/Feedback';
import { TextAreaField, TextField } from '../../components/Form';
import { formatMoney } from '../../lib/format';
import { useSubmissionKey } from '../../lib/useSubmissionKey';
import { amountProblem, currencyDecimals } from './RecordPaymentForm';

/** What is left to refund of a payment, in major units. */
export function refundable(p: Payment): number {
  const dec = currencyDecimals(p.currency);
  const f = 10 ** dec;
  return Math.max(0, Math.round((p.amount - (p.refunded ?? 0)) * f) / f);
}

export function RefundDialog({ payment, onClose, onRefunded }: { payment: Payment; onClose: () => void; onRefunded: (r: Refund) => void }) {
  const left = refundable(payment);
  const [amount, setAmount] = useState(String(left));
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [errors, setErrors] = useState<{ amount?: string; reason?: string }>({});
  const [error, setError] = useState<string | null>(null);
  const submission = useSubmissionKey();

  const submit = async () => {
    if (busy) return;
    const e: { amount?: string; reason?: string } = {};
    const ap = amountProblem(amount, currencyDecimals(payment.currency));
    if (ap) e.amount = ap;
    else if (Number(amount) > left) e.amount = `At most ${formatMoney(left, payment.currency)} is left to refund.`;
    if (!reason.trim()) e.reason = 'Say why the money is given back';
    else if (reason.trim().length > 500) e.reason = 'Keep the reason under 500 characters';
    setErrors(e);
    if (e.amount || e.reason) return;
    const body = { amount: amount.trim(), reason: reason.trim() };
    setBusy(true);
    setError(null);
    try {
      const r = await paymentsApi.refund(payment._id, body, submission.keyFor(body));
      submission.settle(null);
      onRefunded(r);
    } catch (err) {
      submission.settle(err);
      if (isApiError(err) && err.code === 'REFUND_EXCEEDS_PAYMENT') {
        const max = typeof err.details.refundable === 'number' ? err.details.refundable : null;
        setErrors({ amount: max !== null ? `At most ${formatMoney(max, payment.currency)} is left to refund.` : err.message });
      } else if (isApiError(err) && err.field === 'amount') setErrors({ amount: err.message });
      else if (isApiError(err) && err.field === 'reason') setErrors({ reason: err.message });
      else setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <ConfirmDialog
      open
      title="Refund this payment?"
      confirmLabel="Refund"
      tone="danger"
      busy={busy}
      error={error}
      onCancel={onClose}
      onConfirm={() => void submit()}
    >
      <p>
        Payment of {formatMoney(payment.amount, payment.currency)}
        {payment.refunded ? `, ${formatMoney(payment.refunded, payment.currency)} already refunded` : ''}. Up to{' '}
        {formatMoney(left, payment.currency)} can be refunded.
      </p>
      <TextField label={`Refund amount (${payment.currency})`} inputMode="decimal" value={amount} error={errors.amount} onChange={(ev) => setAmount(ev.target.value)} />
      <TextAreaField label="Reason" rows={2} value={reason} error={errors.reason} onChange={(ev) => setReason(ev.target.value)} />
    </ConfirmDialog>
  );
}
