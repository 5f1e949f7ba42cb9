// The result area of a list page: loading, error (a service banner for 503/504),
// empty (with or without filters) and the table with pagination.
import type { UseQueryResult } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import type { Page } from '../api/types';
import { EmptyState, ErrorState, Spinner } from './Feedback';
import { Pagination } from './Pagination';

export function ListResults<T>({
  q,
  noun,
  filtered,
  onClearFilters,
  onPage,
  empty,
  children,
}: {
  q: UseQueryResult<Page<T>>;
  noun: string;
  filtered: boolean;
  onClearFilters?: () => void;
  onPage: (page: number) => void;
  /** What to show when there is nothing at all (no filters). */
  empty: { title: string; body?: ReactNode };
  children: (items: T[]) => ReactNode;
}) {
  if (q.isPending) return <Spinner label={`Loading ${noun}…`} />;
  if (q.isError && !q.data) return <ErrorState error={q.error} onRetry={() => void q.refetch()} what={noun} />;
  const page = q.data!;
  if (page.items.length === 0) {
    if (page.pagination.page > 1 && page.pagination.totalDocs > 0) {
      return (
        <EmptyState title={`No ${noun} on this page`}>
          <button type="button" className="btn" onClick={() => onPage(1)}>
            Go to the first page
          </button>
        </EmptyState>
      );
    }
    return filtered ? (
      <EmptyState title={`No ${noun} match these filters`}>
        <p className="muted">Try a wider search or remove some filters.</p>
        {onClearFilters && (
          <button type="button" className="btn" onClick={onClearFilters}>
            Clear filters
          </button>
        )}
      </EmptyState>
    ) : (
      <EmptyState title={empty.title}>{empty.body}</EmptyState>
    );
  }
  return (
    <>
      {q.isError && <ErrorState error={q.error} onRetry={() => void q.refetch()} what={`the latest ${noun}`} />}
      <div className={`card table-card${q.isPlaceholderData ? ' is-stale' : ''}`} aria-busy={q.isFetching || undefined}>
        <div className="table-scroll">{children(page.items)}</div>
        <Pagination pagination={page.pagination} onPage={onPage} noun={noun} />
        {page.cache === 'HIT' && (
          <p className="muted small cache-note" title="Served from the list cache; it refreshes when a record changes.">
            Cached result
          </p>
        )}
      </div>
    </>
  );
}
