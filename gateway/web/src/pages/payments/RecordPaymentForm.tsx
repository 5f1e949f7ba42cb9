// The "Record payment" form of a booking. Each submission carries an Idempotency-Key
// (useSubmissionKey): a retry of the same submission, or a double click, sends the
// same key, so the payment is recorded once. The server's refusals are shown in the
// form: 422 OVERPAYMENT at the amount with the outstanding balance, 409
// DUPLICATE_PAYMENT naming the payment it repeats, validation errors at their field.
import { zodResolver } from '@hookform/resolvers/zod';
import { useRef, useState } from 'react';
import { useForm } from 'react-hook-form';
import { z } from 'zod';
import { isApiError } from '../../api/client';
import { paymentsApi } from '../../api/endpoints';
import { PAYMENT_METHODS, type Payment, type PaymentInput } from '../../api/types';
import { Alert, errorMessage } from '../../components/Feedback';
import { SelectField, TextAreaField, TextField } from '../../components/Form';
import { formatDateTime, formatMoney } from '../../lib/format';
import { valueLabel } from '../../lib/labels';
import { applyFieldError } from '../../lib/serverErrors';
import { useSubmissionKey } from '../../lib/useSubmissionKey';
import '../../lib/validation';

/** Minor-unit decimals of a currency, as the payment service counts them. */
export function currencyDecimals(currency: string | null | undefined): number {
  const c = (currency ?? '').toUpperCase();
  if (['JPY', 'KRW', 'VND', 'CLP', 'ISK', 'UGX', 'XAF', 'XOF', 'PYG', 'RWF', 'KMF', 'GNF', 'DJF', 'BIF', 'VUV', 'XPF'].includes(c)) return 0;
  if (['BHD', 'KWD', 'OMR', 'JOD', 'TND', 'IQD', 'LYD'].includes(c)) return 3;
  return 2;
}

/** A positive decimal amount with at most `decimals` decimals ("" when fine). */
export function amountProblem(v: string, decimals: number): string {
  const t = v.trim();
  if (!t) return 'Enter the amount';
  const re = decimals === 0 ? /^\d+$/ : new RegExp(`^\\d+(\\.\\d{1,${decimals}})?$`);
  if (!re.test(t)) return decimals === 0 ? 'Enter a whole amount (this currency has no decimals)' : `Enter an amount like 2500 or 2500.50 (at most ${decimals} decimals)`;
  if (Number(t) <= 0) return 'The amount must be more than 0';
  if (Number(t) > 1e12) return 'That amount is too large';
  return '';
}

const today = () => new Date().toISOString().slice(0, 10);

function paymentSchema(decimals: number) {
  return z.object({
    amount: z.string().superRefine((v, ctx) => {
      const p = amountProblem(v, decimals);
      if (p) ctx.addIssue({ code: 'custom', message: p });
    }),
    paymentMethod: z.enum(PAYMENT_METHODS, { message: 'Choose how it was paid' }),
    transactionId: z.string().trim().max(120, 'Keep the transaction id under 120 characters'),
    paidAt: z
      .string()
      .refine((v) => v === '' || /^\d{4}-\d{2}-\d{2}$/.test(v), 'Enter a date')
      .refine((v) => v === '' || v <= today(), 'The payment date cannot be in the future'),
    notes: z.string().max(2000, 'Keep the notes under 2000 characters'),
  });
}
type PaymentValues = z.infer<ReturnType<typeof paymentSchema>>;
const FIELDS = ['amount', 'paymentMethod', 'transactionId', 'paidAt', 'notes'] as const;

export function RecordPaymentForm({
  bookingId,
  currency,
  outstanding,
  onRecorded,
  onCancel,
}: {
  bookingId: string;
  currency: string;
  outstanding?: number;
  onRecorded: (p: Payment) => void;
  onCancel?: () => void;
}) {
  const decimals = currencyDecimals(currency);
  const submission = useSubmissionKey();
  const inFlight = useRef(false);
  const [error, setError] = useState<unknown>(null);
  const {
    register,
    handleSubmit,
    setError: setFieldError,
    formState: { errors, isSubmitting },
  } = useForm<PaymentValues>({
    resolver: zodResolver(paymentSchema(decimals)),
    defaultValues: { amount: '', paymentMethod: 'upi', transactionId: '', paidAt: today(), notes: '' },
  });

  const onSubmit = async (v: PaymentValues) => {
    if (inFlight.current) return; // a second click while the first is on its way
    inFlight.current = true;
    const body: PaymentInput = { booking: bookingId, amount: v.amount.trim(), paymentMethod: v.paymentMethod };
    if (v.transactionId.trim()) body.transactionId = v.transactionId.trim();
    if (v.paidAt) body.paidAt = v.paidAt;
    if (v.notes.trim()) body.notes = v.notes.trim();
    setError(null);
    try {
      const p = await paymentsApi.create(body, submission.keyFor(body));
      submission.settle(null);
      onRecorded(p);
    } catch (e) {
      submission.settle(e);
      if (isApiError(e) && e.code === 'OVERPAYMENT') {
        const left = typeof e.details.outstanding === 'number' ? e.details.outstanding : null;
        setFieldError(
          'amount',
          { type: 'server', message: left !== null ? `More than the outstanding balance of ${formatMoney(left, currency)}.` : e.message },
          { shouldFocus: true },
        );
      } else if (!applyFieldError(e, FIELDS, setFieldError)) {
        setError(e);
      }
    } finally {
      inFlight.current = false;
    }
  };

  const duplicate = isApiError(error) && error.code === 'DUPLICATE_PAYMENT' ? error : null;
  const dupPayment = duplicate?.details.payment as Partial<Payment> | string | undefined;
  const dupWhen = dupPayment && typeof dupPayment === 'object' ? dupPayment.paidAt ?? dupPayment.createdAt : undefined;

  return (
    <form className="form payment-form" aria-label="Record payment" noValidate onSubmit={handleSubmit(onSubmit)}>
      <h3>Record payment</h3>
      {duplicate && (
        <Alert kind="warning" title="This looks like a duplicate payment">
          <p data-testid="duplicate-payment">
            A payment of the same amount was recorded for this booking in the last 5 minutes
            {dupWhen ? ` (${formatDateTime(dupWhen)})` : ''}. If this is a second, separate payment, record it again in a few minutes or with a
            different amount.
          </p>
        </Alert>
      )}
      {error !== null && !duplicate && <Alert kind="error">{errorMessage(error)}</Alert>}
      <div className="form-row">
        <TextField
          label={`Amount (${currency})`}
          inputMode="decimal"
          autoComplete="off"
          error={errors.amount?.message}
          hint={outstanding !== undefined ? `Outstanding: ${formatMoney(outstanding, currency)}` : undefined}
          {...register('amount')}
        />
        <SelectField label="Method" error={errors.paymentMethod?.message} {...register('paymentMethod')}>
          {PAYMENT_METHODS.map((m) => (
            <option key={m} value={m}>
              {valueLabel(m)}
            </option>
          ))}
        </SelectField>
        <TextField label="Transaction id (optional)" autoComplete="off" error={errors.transactionId?.message} {...register('transactionId')} />
        <TextField label="Paid on" type="date" max={today()} error={errors.paidAt?.message} {...register('paidAt')} />
      </div>
      <TextAreaField label="Notes (optional)" rows={2} error={errors.notes?.message} {...register('notes')} />
      <div className="actions">
        <button type="submit" className="btn btn-primary" disabled={isSubmitting} aria-busy={isSubmitting || undefined}>
          {isSubmitting ? 'Recording…' : 'Record payment'}
        </button>
        {onCancel && (
          <button type="button" className="btn" onClick={onCancel} disabled={isSubmitting}>
            Cancel
          </button>
        )}
      </div>
    </form>
  );
}
