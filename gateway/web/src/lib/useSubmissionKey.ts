// One Idempotency-Key per form submission. The key is made (crypto.randomUUID) when a
// body is first sent and kept while the same body is sent again without a definite
// answer in between (a retry after a network error or a 5xx, a second click while the
// first is on its way), so the server charges once and replays its first answer.
// A different body, or any body after a definite answer (success, or a 4xx that
// changed nothing), gets a new key: the server refuses another body under a used key
// (422 IDEMPOTENCY_KEY_REUSED) and would replay a stored 4xx for 24 h.
import { useCallback, useRef } from 'react';
import { isApiError } from '../api/client';

/** Whether an answer settles the submission (its key is not to be sent again). */
export function isDefiniteAnswer(err: unknown): boolean {
  if (err === null || err === undefined) return true;
  if (!isApiError(err)) return false;
  if (err.status === 0 || err.status >= 500) return false;
  return err.code !== 'IDEMPOTENCY_IN_PROGRESS';
}

export function newIdempotencyKey(): string {
  if (typeof crypto !== 'undefined' && typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  // crypto.randomUUID needs a secure context; fall back on getRandomValues.
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export interface SubmissionKey {
  /** The key for sending `body`: the previous one when it is the same submission. */
  keyFor: (body: unknown) => string;
  /** The answer to the last send (null: success); a definite one ends the submission. */
  settle: (err: unknown) => void;
}

export function useSubmissionKey(): SubmissionKey {
  const current = useRef<{ key: string; body: string } | null>(null);
  const keyFor = useCallback((body: unknown) => {
    const text = JSON.stringify(body);
    if (current.current && current.current.body === text) return current.current.key;
    current.current = { key: newIdempotencyKey(), body: text };
    return current.current.key;
  }, []);
  const settle = useCallback((err: unknown) => {
    if (isDefiniteAnswer(err)) current.current = null;
  }, []);
  return { keyFor, settle };
}
