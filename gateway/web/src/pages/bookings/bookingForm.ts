// The booking form's values, client-side rules (the booking service's, checked
// before sending) and the mapping to and from the API's nested body.
import { z } from 'zod';
import { PRIORITIES, TRIP_TYPES, type Booking, type BookingInput, type Priority, type TripType } from '../../api/types';
import { isoDay } from '../../lib/format';
import { isDay } from '../../lib/listParams';
import '../../lib/validation'; // zod jitless (CSP)

export interface TripValues {
  title: string;
  destination: string;
  startDate: string;
  endDate: string;
  tripType: string;
  adults: string;
  children: string;
  infants: string;
  totalAmount: string;
  currency: string;
  taxAmount: string;
  discount: string;
  priority: string;
  notes: string;
}

export interface BookingValues extends TripValues {
  customer: string;
}

export const EMPTY_TRIP: TripValues = {
  title: '',
  destination: '',
  startDate: '',
  endDate: '',
  tripType: 'leisure',
  adults: '1',
  children: '0',
  infants: '0',
  totalAmount: '',
  currency: 'INR',
  taxAmount: '',
  discount: '',
  priority: 'medium',
  notes: '',
};

const MONEY = /^\d+(\.\d{1,2})?$/;
const text = (what: string, max: number) => z.string().trim().min(1, `Enter ${what}`).max(max, `Keep ${what} under ${max} characters`);
const count = (what: string, min: number, max: number) =>
  z
    .string()
    .trim()
    .refine((v) => /^\d+$/.test(v) && Number(v) >= min && Number(v) <= max, `${what}: a whole number from ${min} to ${max}`);
const money = (what: string, required: boolean) =>
  z
    .string()
    .trim()
    .refine((v) => (!required && v === '') || (MONEY.test(v) && Number(v) <= 1e10), required ? `Enter ${what} (0 or more, up to 2 decimals)` : `${what}: 0 or more, up to 2 decimals`);
const day = (what: string) => z.string().refine((v) => isDay(v), `Enter ${what}`);

export const tripShape = {
  title: text('a trip title', 200),
  destination: text('a destination', 120),
  startDate: day('the start date'),
  endDate: day('the end date'),
  tripType: z.string().refine((v) => (TRIP_TYPES as readonly string[]).includes(v), 'Choose a trip type'),
  adults: count('Adults', 1, 500),
  children: count('Children', 0, 500),
  infants: count('Infants', 0, 100),
  totalAmount: money('the total amount', true),
  currency: z
    .string()
    .trim()
    .regex(/^[A-Z]{3}$/, 'Use a 3-letter ISO 4217 code such as INR'),
  taxAmount: money('Tax', false),
  discount: money('Discount', false),
  priority: z.string().refine((v) => (PRIORITIES as readonly string[]).includes(v), 'Choose a priority'),
  notes: z.string().max(2000, 'Keep the notes under 2000 characters'),
};

/** Cross-field rules of a trip (dates in order, discount not above the total). */
export function checkTrip(v: TripValues, ctx: z.RefinementCtx, prefix: (string | number)[] = []): void {
  if (isDay(v.startDate) && isDay(v.endDate) && v.endDate < v.startDate) {
    ctx.addIssue({ code: 'custom', path: [...prefix, 'endDate'], message: 'The end date must not be before the start date' });
  }
  if (MONEY.test(v.discount) && MONEY.test(v.totalAmount) && Number(v.discount) > Number(v.totalAmount)) {
    ctx.addIssue({ code: 'custom', path: [...prefix, 'discount'], message: 'The discount must not exceed the total amount' });
  }
}

export const bookingSchema = z
  .object({
    customer: z.string().refine((v) => /^[0-9a-f]{24}$/i.test(v), 'Choose a customer'),
    ...tripShape,
  })
  .superRefine((v, ctx) => checkTrip(v, ctx));

/** Editing: the customer cannot change. */
export const bookingEditSchema = z.object({ customer: z.string(), ...tripShape }).superRefine((v, ctx) => checkTrip(v, ctx));

export const TRIP_FIELDS = [
  'title',
  'destination',
  'startDate',
  'endDate',
  'tripType',
  'adults',
  'children',
  'infants',
  'totalAmount',
  'currency',
  'taxAmount',
  'discount',
  'priority',
  'notes',
] as const;
export const BOOKING_FIELDS = ['customer', ...TRIP_FIELDS] as const;

/** Server field names that are not the form's: whole objects point at their first field. */
export const BOOKING_ALIASES: Record<string, string> = {
  tripDetails: 'title',
  'tripDetails.travellers': 'adults',
  travellers: 'adults',
  pricing: 'totalAmount',
};

const num = (v: string) => (v.trim() === '' ? undefined : Number(v));

/** The API body (without customer and version) for trip values. */
export function tripBody(v: TripValues): Omit<BookingInput, 'customer' | 'version'> {
  const pricing: NonNullable<BookingInput['pricing']> = {
    totalAmount: Number(v.totalAmount),
    currency: v.currency.trim().toUpperCase(),
  };
  const tax = num(v.taxAmount);
  const discount = num(v.discount);
  if (tax !== undefined) pricing.taxAmount = tax;
  if (discount !== undefined) pricing.discount = discount;
  const body: Omit<BookingInput, 'customer' | 'version'> = {
    tripDetails: {
      title: v.title.trim(),
      destination: v.destination.trim(),
      startDate: v.startDate,
      endDate: v.endDate,
      tripType: v.tripType as TripType,
      travellers: { adults: Number(v.adults), children: Number(v.children || 0), infants: Number(v.infants || 0) },
    },
    pricing,
    priority: v.priority as Priority,
  };
  if (v.notes.trim()) body.notes = v.notes.trim();
  return body;
}

export function bookingValues(b: Booking): BookingValues {
  const t = b.tripDetails;
  const p = b.pricing;
  return {
    customer: b.customer,
    title: t?.title ?? '',
    destination: t?.destination ?? '',
    startDate: isoDay(t?.startDate),
    endDate: isoDay(t?.endDate),
    tripType: t?.tripType ?? 'leisure',
    adults: String(t?.travellers?.adults ?? 1),
    children: String(t?.travellers?.children ?? 0),
    infants: String(t?.travellers?.infants ?? 0),
    totalAmount: p ? String(p.totalAmount) : '',
    currency: p?.currency ?? 'INR',
    taxAmount: p?.taxAmount ? String(p.taxAmount) : '',
    discount: p?.discount ? String(p.discount) : '',
    priority: b.priority ?? 'medium',
    notes: b.notes ?? '',
  };
}
