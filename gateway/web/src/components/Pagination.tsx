import type { Pagination as PaginationInfo } from '../api/types';

export function Pagination({
  pagination,
  onPage,
  noun = 'items',
}: {
  pagination: PaginationInfo;
  onPage: (page: number) => void;
  noun?: string;
}) {
  const { page, totalPages, totalDocs, hasPrev, hasNext, limit } = pagination;
  const from = totalDocs === 0 ? 0 : (page - 1) * limit + 1;
  const to = Math.min(totalDocs, page * limit);
  return (
    <nav className="pagination" aria-label="Pagination">
      <span className="muted">
        {totalDocs === 0 ? `No ${noun}` : `${from}–${to} of ${totalDocs} ${noun}`}
      </span>
      <div className="pagination-buttons">
        <button type="button" className="btn btn-small" disabled={!hasPrev} onClick={() => onPage(page - 1)}>
          ‹ Previous
        </button>
        <span aria-current="page" className="pagination-page">
          Page {page} of {Math.max(1, totalPages)}
        </span>
        <button type="button" className="btn btn-small" disabled={!hasNext} onClick={() => onPage(page + 1)}>
          Next ›
        </button>
      </div>
    </nav>
  );
}
