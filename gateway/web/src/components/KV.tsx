import type { ReactNode } from 'react';

/** One row of a key/value list (<dl className="kv-list">). */
export function KV({ k, v }: { k: string; v: ReactNode }) {
  return (
    <div className="kv">
      <dt>{k}</dt>
      <dd>{v === undefined || v === null || v === '' ? '—' : v}</dd>
    </div>
  );
}
