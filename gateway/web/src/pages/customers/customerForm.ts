import { z } from 'zod';
import type { Customer, CustomerInput } from '../../api/types';
import { isoDay } from '../../lib/format';
import { isDay } from '../../lib/listParams';
import { optionalEmail, optionalText, phoneField, requiredName } from '../../lib/validation';

export const customerSchema = z.object({
  firstName: requiredName('first name'),
  lastName: requiredName('last name'),
  email: optionalEmail,
  phone: phoneField(true),
  city: optionalText('City', 1, 80),
  country: optionalText('Country', 2, 80),
  address: optionalText('Address', 1, 300),
  dateOfBirth: z
    .string()
    .refine((v) => v === '' || isDay(v), 'Enter a date')
    .refine((v) => v === '' || v <= new Date().toISOString().slice(0, 10), 'The date of birth cannot be in the future'),
  passportNumber: optionalText('Passport number', 5, 20),
  notes: z.string().max(2000, 'Keep the notes under 2000 characters'),
});
export type CustomerValues = z.infer<typeof customerSchema>;
export const CUSTOMER_FIELDS = ['firstName', 'lastName', 'email', 'phone', 'city', 'country', 'address', 'dateOfBirth', 'passportNumber', 'notes'] as const;

export const EMPTY_CUSTOMER: CustomerValues = {
  firstName: '',
  lastName: '',
  email: '',
  phone: '',
  city: '',
  country: '',
  address: '',
  dateOfBirth: '',
  passportNumber: '',
  notes: '',
};

export function customerValues(c: Customer): CustomerValues {
  return {
    firstName: c.firstName ?? '',
    lastName: c.lastName ?? '',
    email: c.email ?? '',
    phone: c.phone ?? '',
    city: c.city ?? '',
    country: c.country ?? '',
    address: c.address ?? '',
    dateOfBirth: isoDay(c.dateOfBirth),
    passportNumber: c.passportNumber ?? '',
    notes: c.notes ?? '',
  };
}

/** The API body: the filled-in fields (the API cannot clear an optional field but
 * the notes, so an emptied one is left as it was). */
export function customerBody(v: CustomerValues, editing: boolean): CustomerInput {
  const body: CustomerInput = {};
  for (const k of CUSTOMER_FIELDS) {
    const val = v[k].trim();
    if (val !== '') body[k] = val;
  }
  if (editing) body.notes = v.notes.trim();
  return body;
}
