import type { ReactNode } from 'react';

export type BadgeTone = 'ok' | 'warn' | 'bad' | 'neutral' | 'info';

export function Badge({ tone, children, title }: { tone: BadgeTone; children: ReactNode; title?: string }) {
  return (
    <span className={`badge badge-${tone}`} title={title}>
      {children}
    </span>
  );
}

export function toneOf(state: string): BadgeTone {
  switch (state) {
    case 'up':
    case 'ok':
    case 'active':
      return 'ok';
    case 'degraded':
    case 'pending':
      return 'warn';
    case 'down':
    case 'deactivated':
      return 'bad';
    case 'unused':
      return 'neutral';
    default:
      return 'neutral';
  }
}
