// The refunds of a booking's payments (from its payment summary): when, how much,
// why, who processed it and which payment it gave back from.
import type { Payment, Refund } from '../../api/types';
import { formatDate, formatDateTime, formatMoney } from '../../lib/format';
import { useAgentDirectory } from '../../lib/useAgents';

export function RefundsTable({ refunds, payments }: { refunds: Refund[]; payments: Payment[] }) {
  const { nameOf } = useAgentDirectory();
  const paymentOf = (id: string) => payments.find((p) => p._id === id);
  return (
    <table className="table" data-testid="refunds-table">
      <caption className="sr-only">Refunds</caption>
      <thead>
        <tr>
          <th scope="col">Refunded on</th>
          <th scope="col" className="num">
            Amount
          </th>
          <th scope="col">Reason</th>
          <th scope="col">By</th>
          <th scope="col" className="hide-narrow">
            Of the payment
          </th>
        </tr>
      </thead>
      <tbody>
        {refunds.map((r) => {
          const p = paymentOf(r.payment);
          return (
            <tr key={r._id}>
              <td className="nowrap">{formatDateTime(r.createdAt)}</td>
              <td className="num nowrap">{formatMoney(r.amount, r.currency)}</td>
              <td>{r.reason}</td>
              <td>{nameOf(r.processedBy)}</td>
              <td className="hide-narrow nowrap">{p ? `${formatMoney(p.amount, p.currency)} paid ${formatDate(p.paidAt)}` : `…${r.payment.slice(-6)}`}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
