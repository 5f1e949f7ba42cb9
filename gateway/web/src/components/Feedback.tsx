// Loading, empty, error and "service unavailable" states shared by every page.
import type { ReactNode } from 'react';
import { isApiError } from '../api/client';
import { SERVICE_LABELS } from '../lib/labels';

export function Spinner({ label = 'Loading…' }: { label?: string }) {
  return (
    <div className="loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      <span>{label}</span>
    </div>
  );
}

export function FullPageLoading({ label }: { label: string }) {
  return (
    <main className="auth-shell">
      <Spinner label={label} />
    </main>
  );
}

export function EmptyState({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="empty-state">
      <h2>{title}</h2>
      {children}
    </div>
  );
}

export function Alert({
  kind = 'error',
  title,
  children,
  onDismiss,
}: {
  kind?: 'error' | 'warning' | 'success' | 'info';
  title?: string;
  children?: ReactNode;
  onDismiss?: () => void;
}) {
  return (
    <div className={`alert alert-${kind}`} role={kind === 'error' || kind === 'warning' ? 'alert' : 'status'}>
      <div className="alert-body">
        {title && <strong className="alert-title">{title}</strong>}
        {children && <div>{children}</div>}
      </div>
      {onDismiss && (
        <button type="button" className="alert-dismiss" onClick={onDismiss} aria-label="Dismiss">
          ×
        </button>
      )}
    </div>
  );
}

function serviceName(service: string | null): string {
  if (!service) return 'A TripDesk service';
  return `The ${SERVICE_LABELS[service]?.title ?? service} service`;
}

/** A banner for 503 / 504 / an unreachable server; renders nothing for other errors. */
export function ServiceBanner({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  if (!isApiError(error) || !error.unavailable) return null;
  let title: string;
  if (error.status === 0) title = 'Cannot reach the TripDesk server';
  else if (error.code === 'DATABASE_UNAVAILABLE') title = 'The database is unreachable right now';
  else if (error.status === 504) title = `${serviceName(error.service)} is not answering in time`;
  else title = `${serviceName(error.service)} is temporarily unavailable`;
  return (
    <div className="alert alert-warning service-banner" role="alert" data-testid="service-banner">
      <div className="alert-body">
        <strong className="alert-title">{title}</strong>
        <div>
          This part of TripDesk cannot load right now; the rest keeps working. Try again in a moment.
        </div>
      </div>
      {onRetry && (
        <button type="button" className="btn btn-small" onClick={onRetry}>
          Retry
        </button>
      )}
    </div>
  );
}

/** The error state of a page section: a service banner, or the error's message. */
export function ErrorState({ error, onRetry, what = 'this data' }: { error: unknown; onRetry?: () => void; what?: string }) {
  if (isApiError(error) && error.unavailable) return <ServiceBanner error={error} onRetry={onRetry} />;
  const message = error instanceof Error ? error.message : 'Something went wrong.';
  return (
    <div className="alert alert-error" role="alert">
      <div className="alert-body">
        <strong className="alert-title">Could not load {what}</strong>
        <div>{message}</div>
      </div>
      {onRetry && (
        <button type="button" className="btn btn-small" onClick={onRetry}>
          Retry
        </button>
      )}
    </div>
  );
}

/** A one-line message for a failed action. */
export function errorMessage(error: unknown): string {
  if (isApiError(error)) {
    if (error.unavailable) {
      if (error.status === 0) return error.message;
      return `${serviceName(error.service)} ${error.status === 504 ? 'did not answer in time' : 'is temporarily unavailable'}. Try again in a moment.`;
    }
    return error.message;
  }
  return error instanceof Error ? error.message : 'Something went wrong.';
}
