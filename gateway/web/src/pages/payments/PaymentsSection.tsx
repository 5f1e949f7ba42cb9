// The Payments section of a booking: its balance (paid, refunded, outstanding) and
// payment status from GET /api/payments/booking/:id/summary, its payments with what
// was refunded of each (GET /api/payments?booking=), every refund (amount, reason,
// date, who; from the summary's refunds), the "Record payment" form and, for agents
// with canProcessRefunds, a refund dialog per payment.
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { isApiError } from '../../api/client';
import { paymentsApi } from '../../api/endpoints';
import { CLOSED_BOOKING_STATUSES, type Booking, type Payment } from '../../api/types';
import { useAuth } from '../../auth/AuthContext';
import { Alert, ErrorState, Spinner } from '../../components/Feedback';
import { KV } from '../../components/KV';
import { StatusBadge } from '../../components/StatusBadge';
import { formatMoney } from '../../lib/format';
import { PaymentsTable } from './PaymentsTable';
import { RecordPaymentForm } from './RecordPaymentForm';
import { RefundDialog, refundable } from './RefundDialog';
import { RefundsTable } from './RefundsTable';

const BOOKING_RELOAD_MS = 1000;
const BOOKING_RELOAD_TRIES = 10;

export function PaymentsSection({ booking: b }: { booking: Booking }) {
  const { agent: me, permissions } = useAuth();
  const qc = useQueryClient();
  const [recording, setRecording] = useState(false);
  const [refunding, setRefunding] = useState<Payment | null>(null);
  const [flash, setFlash] = useState<string | null>(null);

  const summary = useQuery({ queryKey: ['payments', 'summary', b._id], queryFn: () => paymentsApi.summary(b._id) });
  const list = useQuery({
    queryKey: ['payments', 'list', { booking: b._id }],
    queryFn: () => paymentsApi.list({ booking: b._id, limit: 100, page: 1, sortBy: 'paidAt', sortOrder: 'desc' }),
  });

  const mayPay = b.agent === me?._id || permissions.canViewAllPayments === true;
  const closed = CLOSED_BOOKING_STATUSES.includes(b.status);
  const canRefund = permissions.canProcessRefunds === true;
  const s = summary.data;
  const currency = s?.currency ?? b.pricing?.currency ?? 'INR';
  const unknown = isApiError(summary.error) && summary.error.status === 404;

  const changed = (message: string) => {
    setFlash(message);
    void qc.invalidateQueries({ queryKey: ['payments'] });
  };

  // The booking's own paymentStatus follows from the payment event a moment later:
  // while it differs from the payment service's, reload the booking now and then.
  const lagging = Boolean(s && s.paymentStatus !== b.paymentStatus);
  const [tries, setTries] = useState(0);
  useEffect(() => {
    if (!lagging || tries >= BOOKING_RELOAD_TRIES) return;
    const timer = setTimeout(() => {
      setTries((n) => n + 1);
      void qc.invalidateQueries({ queryKey: ['bookings', 'one', b._id] });
    }, BOOKING_RELOAD_MS);
    return () => clearTimeout(timer);
  }, [lagging, tries, qc, b._id]);
  useEffect(() => setTries(0), [s?.accountVersion]);

  return (
    <section className="card" aria-labelledby="payments-title">
      <div className="section-head">
        <h2 id="payments-title">Payments</h2>
        {mayPay && !closed && !recording && s && s.outstanding > 0 && (
          <button type="button" className="btn btn-small btn-primary" onClick={() => setRecording(true)}>
            Record payment
          </button>
        )}
      </div>
      {flash && (
        <Alert kind="success" onDismiss={() => setFlash(null)}>
          {flash}
        </Alert>
      )}
      {summary.isPending && <Spinner label="Loading the balance…" />}
      {unknown && <p className="muted">The payment service does not know this booking yet. Reload in a moment.</p>}
      {summary.isError && !unknown && <ErrorState error={summary.error} onRetry={() => void summary.refetch()} what="the balance" />}
      {s && (
        <dl className="kv-list" data-testid="payment-balance">
          <KV k="Payment status" v={<StatusBadge value={s.paymentStatus} />} />
          <KV k="Due" v={formatMoney(s.total, currency)} />
          <KV k="Paid" v={formatMoney(s.paid, currency)} />
          <KV k="Refunded" v={formatMoney(s.refunded, currency)} />
          <KV k="Outstanding" v={<strong>{formatMoney(s.outstanding, currency)}</strong>} />
        </dl>
      )}
      {recording && (
        <RecordPaymentForm
          bookingId={b._id}
          currency={currency}
          outstanding={s?.outstanding}
          onCancel={() => setRecording(false)}
          onRecorded={(p) => {
            setRecording(false);
            changed(`Payment of ${formatMoney(p.amount, p.currency)} recorded.`);
          }}
        />
      )}
      <h3>Payments and refunds</h3>
      {list.isPending && <Spinner label="Loading payments…" />}
      {list.isError && !unknown && <ErrorState error={list.error} onRetry={() => void list.refetch()} what="payments" />}
      {list.data && list.data.items.length === 0 && <p className="muted">No payment recorded yet.</p>}
      {list.data && list.data.items.length > 0 && (
        <div className="table-scroll">
          <PaymentsTable
            items={list.data.items}
            showBooking={false}
            action={
              canRefund
                ? (p) =>
                    refundable(p) > 0 ? (
                      <button
                        type="button"
                        className="btn btn-small"
                        aria-label={`Refund payment of ${formatMoney(p.amount, p.currency)}`}
                        onClick={() => setRefunding(p)}
                      >
                        Refund
                      </button>
                    ) : null
                : undefined
            }
          />
        </div>
      )}
      {s?.refunds && s.refunds.length > 0 && (
        <>
          <h3>Refunds</h3>
          <div className="table-scroll">
            <RefundsTable refunds={s.refunds} payments={list.data?.items ?? []} />
          </div>
        </>
      )}
      {refunding && (
        <RefundDialog
          payment={refunding}
          onClose={() => setRefunding(null)}
          onRefunded={(r) => {
            setRefunding(null);
            changed(`Refund of ${formatMoney(r.amount, r.currency)} processed.`);
          }}
        />
      )}
    </section>
  );
}
