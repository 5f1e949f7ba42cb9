import type { ReactNode } from 'react';
import { Brand } from '../components/Layout';

/** The centered card that the sign-in and registration pages sit in. */
export function AuthShell({ title, subtitle, children, wide }: { title: string; subtitle?: string; children: ReactNode; wide?: boolean }) {
  return (
    <main className="auth-shell">
      <section className={`auth-card${wide ? ' auth-card-wide' : ''}`} aria-labelledby="auth-title">
        <div className="auth-brand">
          <Brand />
        </div>
        <h1 id="auth-title">{title}</h1>
        {subtitle && <p className="muted">{subtitle}</p>}
        {children}
      </section>
    </main>
  );
}
