import { Link } from 'react-router-dom';
import { useDocumentTitle } from '../lib/useDocumentTitle';

export function NotFoundPage() {
  useDocumentTitle('Page not found');
  return (
    <section className="page" aria-labelledby="nf-title">
      <div className="empty-state">
        <h1 id="nf-title">Page not found</h1>
        <p className="muted">There is no page at this address.</p>
        <Link className="btn" to="/">
          Back to overview
        </Link>
      </div>
    </section>
  );
}
