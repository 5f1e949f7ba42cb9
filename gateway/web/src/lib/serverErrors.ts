import type { FieldValues, Path, UseFormSetError } from 'react-hook-form';
import { isApiError } from '../api/client';

/** Puts a validation error from the server (details.field) on the form field it
 * names; returns true when it did, so the caller shows no form-level message. */
export function applyFieldError<T extends FieldValues>(
  err: unknown,
  fields: readonly Path<T>[],
  setError: UseFormSetError<T>,
): boolean {
  if (!isApiError(err)) return false;
  const field = err.field;
  if (field && (fields as readonly string[]).includes(field)) {
    setError(field as Path<T>, { type: 'server', message: err.message }, { shouldFocus: true });
    return true;
  }
  return false;
}
