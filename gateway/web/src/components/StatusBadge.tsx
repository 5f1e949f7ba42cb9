import { valueLabel, valueTone } from '../lib/labels';
import { Badge } from './Badge';

/** A coloured badge for a booking/lead status, priority or payment status. */
export function StatusBadge({ value, prefix }: { value: string | null | undefined; prefix?: string }) {
  if (!value) return <span className="muted">—</span>;
  return (
    <Badge tone={valueTone(value)}>
      {prefix ? <span className="sr-only">{prefix}: </span> : null}
      {valueLabel(value)}
    </Badge>
  );
}
