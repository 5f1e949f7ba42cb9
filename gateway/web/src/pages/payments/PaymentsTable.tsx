// A table of payments, for the booking detail and the Payments page.
import type { ReactNode } from 'react';
import { Link } from 'react-router-dom';
import type { Payment } from '../../api/types';
import { StatusBadge } from '../../components/StatusBadge';
import { formatDate, formatMoney } from '../../lib/format';
import { valueLabel } from '../../lib/labels';

export function PaymentsTable({
  items,
  showBooking = true,
  agentName,
  action,
}: {
  items: Payment[];
  showBooking?: boolean;
  agentName?: (id: string | undefined) => string;
  action?: (p: Payment) => ReactNode;
}) {
  return (
    <table className="table" data-testid="payments-table">
      <thead>
        <tr>
          <th scope="col">Paid on</th>
          {showBooking && <th scope="col">Booking</th>}
          <th scope="col" className="num">
            Amount
          </th>
          <th scope="col">Method</th>
          <th scope="col" className="hide-narrow">
            Transaction
          </th>
          <th scope="col">Status</th>
          <th scope="col" className="num">
            Refunded
          </th>
          {agentName && (
            <th scope="col" className="hide-narrow">
              Agent
            </th>
          )}
          {action && (
            <th scope="col">
              <span className="sr-only">Actions</span>
            </th>
          )}
        </tr>
      </thead>
      <tbody>
        {items.map((p) => (
          <tr key={p._id}>
            <td className="nowrap">{formatDate(p.paidAt)}</td>
            {showBooking && (
              <td className="nowrap">
                <Link to={`/bookings/${p.booking}`} className="mono">
                  {p.bookingReference || 'View booking'}
                </Link>
              </td>
            )}
            <td className="num nowrap">{formatMoney(p.amount, p.currency)}</td>
            <td>{valueLabel(p.paymentMethod)}</td>
            <td className="hide-narrow mono small">{p.transactionId || '—'}</td>
            <td>
              <StatusBadge value={p.status} />
            </td>
            <td className="num nowrap">{p.refunded ? formatMoney(p.refunded, p.currency) : '—'}</td>
            {agentName && <td className="hide-narrow">{agentName(p.agent)}</td>}
            {action && <td className="nowrap">{action(p)}</td>}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
