// The trip, travellers and pricing fields of a booking, shared by the booking form
// and the lead conversion form. A 409 conflict shows right under the dates.
import type { FieldErrors, UseFormRegister } from 'react-hook-form';
import { PRIORITIES, TRIP_TYPES, type ConflictingBooking } from '../../api/types';
import { ConflictNotice } from '../../components/ConflictNotice';
import { FieldGroup, SelectField, TextAreaField, TextField } from '../../components/Form';
import { CURRENCIES, valueLabel } from '../../lib/labels';
import type { TripValues } from './bookingForm';

export function TripFields({
  register,
  errors,
  conflict,
  conflictRef,
}: {
  register: UseFormRegister<TripValues>;
  errors: FieldErrors<TripValues>;
  conflict?: (ConflictingBooking & { duplicate: boolean; message: string }) | null;
  conflictRef?: React.Ref<HTMLDivElement>;
}) {
  const conflictId = 'trip-dates-conflict';
  // Point the date inputs at the conflict notice (only when there is one: an
  // undefined attribute would hide the field's own error from assistive tech).
  const conflictAria = conflict ? { 'aria-describedby': conflictId, 'aria-invalid': true as const } : {};
  return (
    <>
      <FieldGroup legend="Trip">
        <div className="form-row">
          <TextField label="Trip title" placeholder="e.g. Goa beach holiday" error={errors.title?.message} {...register('title')} />
          <TextField label="Destination" placeholder="e.g. Goa" error={errors.destination?.message} {...register('destination')} />
        </div>
        <div className={`form-row dates-row${conflict ? ' has-conflict' : ''}`}>
          <TextField
            label="Start date"
            type="date"
            error={errors.startDate?.message}
            {...conflictAria}
            {...register('startDate')}
          />
          <TextField
            label="End date"
            type="date"
            error={errors.endDate?.message}
            {...conflictAria}
            {...register('endDate')}
          />
        </div>
        {conflict && <ConflictNotice ref={conflictRef} id={conflictId} conflict={conflict} />}
        <div className="form-row">
          <SelectField label="Trip type" error={errors.tripType?.message} {...register('tripType')}>
            {TRIP_TYPES.map((t) => (
              <option key={t} value={t}>
                {valueLabel(t)}
              </option>
            ))}
          </SelectField>
          <SelectField label="Priority" error={errors.priority?.message} {...register('priority')}>
            {PRIORITIES.map((p) => (
              <option key={p} value={p}>
                {valueLabel(p)}
              </option>
            ))}
          </SelectField>
        </div>
      </FieldGroup>

      <FieldGroup legend="Travellers">
        <div className="form-row form-row-3">
          <TextField label="Adults" type="number" min={1} max={500} inputMode="numeric" error={errors.adults?.message} {...register('adults')} />
          <TextField label="Children" type="number" min={0} max={500} inputMode="numeric" error={errors.children?.message} {...register('children')} />
          <TextField label="Infants" type="number" min={0} max={100} inputMode="numeric" error={errors.infants?.message} {...register('infants')} />
        </div>
      </FieldGroup>

      <FieldGroup legend="Pricing">
        <div className="form-row form-row-4">
          <TextField
            label="Total amount"
            type="number"
            min={0}
            step="0.01"
            inputMode="decimal"
            error={errors.totalAmount?.message}
            {...register('totalAmount')}
          />
          <TextField label="Currency" list="currency-codes" maxLength={3} autoCapitalize="characters" error={errors.currency?.message} {...register('currency')} />
          <TextField label="Tax" type="number" min={0} step="0.01" inputMode="decimal" error={errors.taxAmount?.message} {...register('taxAmount')} />
          <TextField label="Discount" type="number" min={0} step="0.01" inputMode="decimal" error={errors.discount?.message} {...register('discount')} />
        </div>
        <datalist id="currency-codes">
          {CURRENCIES.map((c) => (
            <option key={c} value={c} />
          ))}
        </datalist>
      </FieldGroup>

      <TextAreaField label="Notes" rows={3} error={errors.notes?.message} {...register('notes')} />
    </>
  );
}
