// A banner across the top of every page while the gateway cannot be reached (a request
// got no HTTP response: network error, server down or hung; see api/client.ts). It
// checks again every few seconds by itself and on "Retry"; once the gateway answers it
// disappears and the page's data is fetched again, so no page is left on "Loading…".
import { useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useRef, useState, useSyncExternalStore } from 'react';
import { gatewayReachable, onReachabilityChange, probeGateway } from '../api/client';

/** How often the banner asks the gateway again while it is unreachable. */
export const PROBE_INTERVAL_MS = 5_000;

export function useGatewayReachable(): boolean {
  return useSyncExternalStore(onReachabilityChange, gatewayReachable, gatewayReachable);
}

export function ConnectionBanner({ probeIntervalMs = PROBE_INTERVAL_MS }: { probeIntervalMs?: number }) {
  const reachable = useGatewayReachable();
  const qc = useQueryClient();
  const [checking, setChecking] = useState(false);
  const wasReachable = useRef(reachable);

  const check = useCallback(async () => {
    setChecking(true);
    try {
      await probeGateway();
    } finally {
      setChecking(false);
    }
  }, []);

  // While unreachable: ask again every few seconds.
  useEffect(() => {
    if (reachable) return;
    const id = setInterval(() => void probeGateway(), probeIntervalMs);
    return () => clearInterval(id);
  }, [reachable, probeIntervalMs]);

  // Back again: fetch what the pages on screen wait for (failed or stuck queries).
  useEffect(() => {
    if (reachable && !wasReachable.current) void qc.invalidateQueries();
    wasReachable.current = reachable;
  }, [reachable, qc]);

  if (reachable) return null;
  return (
    <div className="connection-banner" role="alert" data-testid="connection-banner">
      <div className="connection-banner-body">
        <strong>Cannot reach the TripDesk gateway.</strong>{' '}
        <span>
          The server is not answering: it may be restarting, or your network is down. TripDesk checks again every{' '}
          {Math.round(probeIntervalMs / 1000)} seconds by itself.
        </span>
      </div>
      <button type="button" className="btn btn-small" onClick={() => void check()} disabled={checking}>
        {checking ? 'Checking…' : 'Retry'}
      </button>
    </div>
  );
}
