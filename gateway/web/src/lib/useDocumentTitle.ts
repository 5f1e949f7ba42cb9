import { useEffect } from 'react';

/** Sets the browser tab's title to "<title> · TripDesk" while the page is shown. */
export function useDocumentTitle(title: string): void {
  useEffect(() => {
    const previous = document.title;
    document.title = title ? `${title} · TripDesk` : 'TripDesk';
    return () => {
      document.title = previous;
    };
  }, [title]);
}
