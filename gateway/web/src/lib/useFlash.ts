import { useEffect, useState } from 'react';
import { useLocation, useNavigate } from 'react-router-dom';

/** A one-time message handed over in the navigation state ({ flash }); it is taken
 * out of the history entry so a reload does not show it again. */
export function useFlash(): [string | null, (m: string | null) => void] {
  const location = useLocation();
  const navigate = useNavigate();
  const handed = (location.state as { flash?: string } | null)?.flash ?? null;
  const [flash, setFlash] = useState<string | null>(handed);
  useEffect(() => {
    if (handed) {
      setFlash(handed);
      navigate(`${location.pathname}${location.search}`, { replace: true, state: null });
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [handed]);
  return [flash, setFlash];
}
