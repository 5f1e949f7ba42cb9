import type { FieldValues, Path, UseFormSetError } from 'react-hook-form';
import { isApiError } from '../api/client';
import type { ConflictingBooking } from '../api/types';

/**
 * The form field a server validation error (details.field) is about. The booking
 * service names fields in two ways: its own checks give the full path
 * ("tripDetails.startDate", "pricing.currency", "days[2].activities[0].time"), the
 * shared validators only the last name ("startDate", "totalAmount", "title"). This
 * tries, in order: an alias, the path itself (array indexes as react-hook-form
 * paths: "days.2.activities.0.time"), then the last name.
 */
export function mapServerField(
  field: string | null,
  fields: readonly string[],
  aliases: Record<string, string> = {},
): string | null {
  if (!field) return null;
  const dotted = field.replace(/\[(\d+)\]/g, '.$1');
  const last = field.split('.').pop() ?? field;
  for (const candidate of [aliases[field], aliases[dotted], dotted, aliases[last], last]) {
    if (!candidate) continue;
    if (fields.includes(candidate)) return candidate;
    // an array path is valid when its pattern is listed ("days.*.title")
    const pattern = candidate.replace(/\.\d+(?=\.|$)/g, '.*');
    if (pattern !== candidate && fields.includes(pattern)) return candidate;
  }
  return null;
}

/** Puts a validation error from the server (details.field) on the form field it
 * names; returns true when it did, so the caller shows no form-level message. */
export function applyFieldError<T extends FieldValues>(
  err: unknown,
  fields: readonly Path<T>[] | readonly string[],
  setError: UseFormSetError<T>,
  aliases?: Record<string, string>,
): boolean {
  if (!isApiError(err)) return false;
  // Booking conflicts carry details.field too, but are shown by their own notice.
  if (bookingConflict(err)) return false;
  const target = mapServerField(err.field, fields as readonly string[], aliases);
  if (!target) return false;
  setError(target as Path<T>, { type: 'server', message: err.message }, { shouldFocus: true });
  return true;
}

/** The booking a 409 BOOKING_CONFLICT / DUPLICATE_BOOKING points at, if that is what err is. */
export function bookingConflict(err: unknown): (ConflictingBooking & { duplicate: boolean; message: string }) | null {
  if (!isApiError(err) || err.status !== 409) return null;
  if (err.code !== 'BOOKING_CONFLICT' && err.code !== 'DUPLICATE_BOOKING') return null;
  const cb = err.details.conflictingBooking as Partial<ConflictingBooking> | undefined;
  if (!cb || typeof cb._id !== 'string') return null;
  return {
    _id: cb._id,
    bookingReference: cb.bookingReference ?? '',
    startDate: cb.startDate ?? '',
    endDate: cb.endDate ?? '',
    duplicate: err.code === 'DUPLICATE_BOOKING',
    message: err.message,
  };
}

export const isVersionConflict = (err: unknown): boolean => isApiError(err) && err.code === 'VERSION_CONFLICT';

/** A 409 POSSIBLE_DUPLICATE: which field matched and, when we may see it, whom. */
export interface Duplicate {
  field: string;
  message: string;
  customer: { _id: string; firstName: string; lastName: string } | null;
}

export function possibleDuplicate(e: unknown): Duplicate | null {
  if (!isApiError(e) || e.code !== 'POSSIBLE_DUPLICATE') return null;
  const c = e.details.customer as Duplicate['customer'] | undefined;
  return { field: String(e.details.field ?? ''), message: e.message, customer: c && typeof c === 'object' ? c : null };
}
