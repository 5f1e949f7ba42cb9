import { useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useNavigate } from 'react-router-dom';
import { errorMessage } from '../components/Feedback';

/** The delete flow of a detail page: a confirm dialog's state, the call, then the
 * resource's cached queries dropped and the list page shown; a failure stays in the
 * dialog (as `describe` words it, or the API's message). */
export function useDeleteRecord(opts: {
  remove: () => Promise<unknown>;
  resource: string; // query key root and list path, e.g. 'bookings'
  describe?: (e: unknown) => string | null;
}) {
  const qc = useQueryClient();
  const navigate = useNavigate();
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const confirm = async () => {
    setBusy(true);
    setError(null);
    try {
      await opts.remove();
      void qc.invalidateQueries({ queryKey: [opts.resource] });
      navigate(`/${opts.resource}`, { replace: true });
    } catch (e) {
      setError(opts.describe?.(e) ?? errorMessage(e));
    } finally {
      setBusy(false);
    }
  };

  return { open, busy, error, ask: () => setOpen(true), cancel: () => setOpen(false), confirm };
}
