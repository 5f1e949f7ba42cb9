// /itineraries/new (optionally ?booking=<id>) and /itineraries/:id/edit, with a
// day-by-day editor: days (number, title, stay, meals, notes) each with activities
// (time, title, place, description), checked against the trip's dates.
import { zodResolver } from '@hookform/resolvers/zod';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Controller, useFieldArray, useForm, type Control, type FieldErrors, type UseFormRegister } from 'react-hook-form';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router-dom';
import { z } from 'zod';
import { isApiError } from '../../api/client';
import { bookingsApi, itinerariesApi } from '../../api/endpoints';
import { MEALS, type Itinerary, type ItineraryDay, type ItineraryInput, type Meal } from '../../api/types';
import { CustomerPicker } from '../../components/CustomerPicker';
import { Alert, ErrorState, ServiceBanner, Spinner, errorMessage } from '../../components/Feedback';
import { FieldGroup, TextAreaField, TextField, ctxLabel } from '../../components/Form';
import { addDays, dayCount, formatWeekday, isoDay } from '../../lib/format';
import { valueLabel } from '../../lib/labels';
import { isDay, isObjectId } from '../../lib/listParams';
import { applyFieldError, isVersionConflict } from '../../lib/serverErrors';
import { useDocumentTitle } from '../../lib/useDocumentTitle';

const MAX_DAYS = 60;
const MAX_ACTIVITIES = 30;
const TIME = /^([01]\d|2[0-3]):[0-5]\d$/;

const activitySchema = z.object({
  time: z.string().refine((v) => v === '' || TIME.test(v), 'Use a time like 09:30'),
  title: z.string().trim().min(1, 'Enter what happens').max(200, 'At most 200 characters'),
  location: z.string().trim().max(200, 'At most 200 characters'),
  description: z.string().max(2000, 'At most 2000 characters'),
});

const daySchema = z.object({
  day: z.string().refine((v) => /^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= MAX_DAYS, `A day number from 1 to ${MAX_DAYS}`),
  title: z.string().trim().min(1, 'Give the day a title').max(200, 'At most 200 characters'),
  accommodation: z.string().trim().max(200, 'At most 200 characters'),
  meals: z.array(z.enum(MEALS)),
  notes: z.string().max(2000, 'At most 2000 characters'),
  activities: z.array(activitySchema).max(MAX_ACTIVITIES, `At most ${MAX_ACTIVITIES} activities a day`),
});

const schema = z
  .object({
    title: z.string().trim().min(1, 'Enter a title').max(200, 'At most 200 characters'),
    destination: z.string().trim().min(1, 'Enter a destination').max(120, 'At most 120 characters'),
    startDate: z.string().refine(isDay, 'Enter the start date'),
    endDate: z.string().refine(isDay, 'Enter the end date'),
    customer: z.string(),
    booking: z.string(),
    notes: z.string().max(2000, 'At most 2000 characters'),
    days: z.array(daySchema).max(MAX_DAYS, `At most ${MAX_DAYS} days`),
  })
  .superRefine((v, ctx) => {
    if (isDay(v.startDate) && isDay(v.endDate) && v.endDate < v.startDate) {
      ctx.addIssue({ code: 'custom', path: ['endDate'], message: 'The end date must not be before the start date' });
      return;
    }
    const total = isDay(v.startDate) && isDay(v.endDate) ? dayCount(v.startDate, v.endDate) : MAX_DAYS;
    let prev = 0;
    v.days.forEach((d, i) => {
      const n = Number(d.day);
      if (!Number.isInteger(n)) return;
      if (n <= prev) ctx.addIssue({ code: 'custom', path: ['days', i, 'day'], message: 'Day numbers must go up: each day after the one before' });
      else if (n > total) ctx.addIssue({ code: 'custom', path: ['days', i, 'day'], message: `The trip has ${total} ${total === 1 ? 'day' : 'days'}` });
      prev = Math.max(prev, n);
    });
  });

type FormValues = z.infer<typeof schema>;
type DayValues = FormValues['days'][number];

const FIELDS = [
  'title',
  'destination',
  'startDate',
  'endDate',
  'customer',
  'booking',
  'notes',
  'days',
  'days.*.day',
  'days.*.date',
  'days.*.title',
  'days.*.accommodation',
  'days.*.meals',
  'days.*.notes',
  'days.*.activities',
  'days.*.activities.*.time',
  'days.*.activities.*.title',
  'days.*.activities.*.location',
  'days.*.activities.*.description',
];

const emptyActivity = () => ({ time: '', title: '', location: '', description: '' });
const emptyDay = (n: number): DayValues => ({ day: String(n), title: '', accommodation: '', meals: [], notes: '', activities: [] });

function formValues(it?: Itinerary, preset?: Partial<FormValues>): FormValues {
  return {
    title: it?.title ?? preset?.title ?? '',
    destination: it?.destination ?? preset?.destination ?? '',
    startDate: isoDay(it?.startDate) || preset?.startDate || '',
    endDate: isoDay(it?.endDate) || preset?.endDate || '',
    customer: it?.customer ?? preset?.customer ?? '',
    booking: it?.booking ?? preset?.booking ?? '',
    notes: it?.notes ?? '',
    days: (it?.days ?? []).map((d) => ({
      day: String(d.day),
      title: d.title ?? '',
      accommodation: d.accommodation ?? '',
      meals: (d.meals ?? []) as Meal[],
      notes: d.notes ?? '',
      activities: (d.activities ?? []).map((a) => ({ time: a.time ?? '', title: a.title ?? '', location: a.location ?? '', description: a.description ?? '' })),
    })),
  };
}

function toBody(v: FormValues, it?: Itinerary): ItineraryInput {
  const days: ItineraryDay[] = v.days.map((d) => {
    const day: ItineraryDay = {
      day: Number(d.day),
      title: d.title.trim(),
      activities: d.activities.map((a) => {
        const act: ItineraryDay['activities'][number] = { title: a.title.trim() };
        if (a.time) act.time = a.time;
        if (a.location.trim()) act.location = a.location.trim();
        if (a.description.trim()) act.description = a.description.trim();
        return act;
      }),
      meals: d.meals,
    };
    if (d.accommodation.trim()) day.accommodation = d.accommodation.trim();
    if (d.notes.trim()) day.notes = d.notes.trim();
    return day;
  });
  const body: ItineraryInput = {
    title: v.title.trim(),
    destination: v.destination.trim(),
    startDate: v.startDate,
    endDate: v.endDate,
    days,
  };
  if (it) {
    body.notes = v.notes.trim();
    body.version = it.version;
    if (v.booking !== (it.booking ?? '')) body.booking = v.booking || null;
    if (v.customer !== (it.customer ?? '')) body.customer = v.customer || null;
  } else {
    if (v.notes.trim()) body.notes = v.notes.trim();
    if (v.booking) body.booking = v.booking;
    if (v.customer && !v.booking) body.customer = v.customer;
  }
  return body;
}

export function ItineraryFormPage() {
  const { id } = useParams();
  const [params] = useSearchParams();
  const bookingId = !id && isObjectId(params.get('booking') ?? '') ? (params.get('booking') as string) : '';
  const q = useQuery({ queryKey: ['itineraries', 'one', id], queryFn: () => itinerariesApi.get(id!), enabled: Boolean(id) });
  const booking = useQuery({ queryKey: ['bookings', 'one', bookingId], queryFn: () => bookingsApi.get(bookingId), enabled: Boolean(bookingId) });
  useDocumentTitle(id ? 'Edit itinerary' : 'New itinerary');
  if (id) {
    if (q.isPending) return <Spinner label="Loading the itinerary…" />;
    if (q.isError) {
      return (
        <section className="page">
          <h1>Edit itinerary</h1>
          <ErrorState error={q.error} onRetry={() => void q.refetch()} what="the itinerary" />
        </section>
      );
    }
    return <ItineraryForm itinerary={q.data} onReload={() => q.refetch()} />;
  }
  if (bookingId && booking.isPending) return <Spinner label="Loading the booking…" />;
  const b = booking.data;
  const preset: Partial<FormValues> | undefined = b
    ? {
        title: `${b.tripDetails.title} itinerary`,
        destination: b.tripDetails.destination,
        startDate: isoDay(b.tripDetails.startDate),
        endDate: isoDay(b.tripDetails.endDate),
        booking: b._id,
        customer: b.customer,
      }
    : undefined;
  return <ItineraryForm preset={preset} bookingRef={b?.bookingReference} />;
}

function ItineraryForm({
  itinerary,
  preset,
  bookingRef,
  onReload,
}: {
  itinerary?: Itinerary;
  preset?: Partial<FormValues>;
  bookingRef?: string;
  onReload?: () => Promise<{ data?: Itinerary }>;
}) {
  const navigate = useNavigate();
  const qc = useQueryClient();
  const [error, setError] = useState<unknown>(null);
  const {
    register,
    control,
    handleSubmit,
    watch,
    reset,
    setValue,
    getValues,
    setError: setFieldError,
    formState: { errors, isSubmitting },
  } = useForm<FormValues>({ resolver: zodResolver(schema), defaultValues: formValues(itinerary, preset) });
  const days = useFieldArray({ control, name: 'days' });
  const [startDate, endDate, booking] = watch(['startDate', 'endDate', 'booking']);
  const total = isDay(startDate) && isDay(endDate) && endDate >= startDate ? dayCount(startDate, endDate) : 0;

  const onSubmit = handleSubmit(async (v) => {
    setError(null);
    try {
      const body = toBody(v, itinerary);
      const saved = itinerary ? await itinerariesApi.update(itinerary._id, body) : await itinerariesApi.create(body);
      qc.setQueryData(['itineraries', 'one', saved._id], saved);
      void qc.invalidateQueries({ queryKey: ['itineraries', 'list'] });
      navigate(`/itineraries/${saved._id}`, { state: { flash: itinerary ? 'The itinerary was saved.' : 'The itinerary was created.' } });
    } catch (e) {
      if (applyFieldError(e, FIELDS, setFieldError)) return;
      setError(e);
    }
  });

  const addDay = () => {
    const last = days.fields.length ? Number(watch(`days.${days.fields.length - 1}.day`)) || days.fields.length : 0;
    days.append(emptyDay(last + 1), { shouldFocus: true, focusName: `days.${days.fields.length}.title` });
  };
  const fillDays = () => {
    const have = new Set(watch('days').map((d) => Number(d.day)));
    const all = watch('days').slice();
    for (let n = 1; n <= Math.min(total, MAX_DAYS); n++) if (!have.has(n)) all.push(emptyDay(n));
    all.sort((a, b) => Number(a.day) - Number(b.day));
    setValue('days', all, { shouldDirty: true });
  };

  const title = itinerary ? `Edit ${itinerary.title}` : 'New itinerary';
  return (
    <section className="page page-narrow" aria-labelledby="itinerary-form-title">
      <header className="page-header">
        <div>
          <nav className="breadcrumbs" aria-label="Breadcrumb">
            <Link to="/itineraries">Itineraries</Link>
            {itinerary && (
              <>
                {' / '}
                <Link to={`/itineraries/${itinerary._id}`}>{itinerary.title}</Link>
              </>
            )}
          </nav>
          <h1 id="itinerary-form-title">{title}</h1>
        </div>
      </header>
      <ServiceBanner error={error} />
      {isVersionConflict(error) && (
        <Alert kind="warning" title="Someone else changed this itinerary">
          <p>Your changes were not saved because the itinerary changed after you opened it.</p>
          <button
            type="button"
            className="btn btn-small"
            onClick={async () => {
              const r = await onReload?.();
              if (r?.data) reset(formValues(r.data));
              setError(null);
            }}
          >
            Reload the latest version
          </button>
        </Alert>
      )}
      {error != null && !isVersionConflict(error) && !(isApiError(error) && error.unavailable) && (
        <Alert title={itinerary ? 'The itinerary was not saved' : 'The itinerary was not created'}>{errorMessage(error)}</Alert>
      )}
      <form className="form" onSubmit={onSubmit} noValidate aria-labelledby="itinerary-form-title">
        <div className="card form">
          <FieldGroup legend="Trip">
            <div className="form-row">
              <TextField label="Title" error={errors.title?.message} {...register('title')} />
              <TextField label="Destination" error={errors.destination?.message} {...register('destination')} />
            </div>
            <div className="form-row">
              <TextField label="Start date" type="date" error={errors.startDate?.message} {...register('startDate')} />
              <TextField label="End date" type="date" error={errors.endDate?.message} hint={total ? `${total} ${total === 1 ? 'day' : 'days'}` : undefined} {...register('endDate')} />
            </div>
            {booking ? (
              <p className="small">
                Linked to booking <Link to={`/bookings/${booking}`}>{bookingRef ?? 'view booking'}</Link>; its customer is used.{' '}
                {itinerary && (
                  <button type="button" className="link-button" onClick={() => setValue('booking', '', { shouldDirty: true })}>
                    Unlink the booking
                  </button>
                )}
              </p>
            ) : (
              <Controller
                control={control}
                name="customer"
                render={({ field }) => (
                  <CustomerPicker ref={field.ref} label="Customer (optional)" value={field.value} onChange={(cid) => field.onChange(cid)} onBlur={field.onBlur} error={errors.customer?.message} />
                )}
              />
            )}
            {errors.booking?.message && <div className="field-error">{errors.booking.message}</div>}
          </FieldGroup>
          <TextAreaField label="Notes (optional)" error={errors.notes?.message} {...register('notes')} />
        </div>

        <section aria-labelledby="days-title">
          <div className="section-head">
            <h2 id="days-title">Day by day</h2>
            <div className="actions">
              {total > 0 && days.fields.length < Math.min(total, MAX_DAYS) && (
                <button type="button" className="btn btn-small" onClick={fillDays}>
                  Add a day for every trip day
                </button>
              )}
              <button type="button" className="btn btn-small btn-primary" onClick={addDay} disabled={days.fields.length >= MAX_DAYS}>
                Add a day
              </button>
            </div>
          </div>
          {errors.days?.message && <div className="field-error">{errors.days.message}</div>}
          {days.fields.length === 0 && <p className="muted">No days yet. Add the first day of the trip.</p>}
          <ol className="day-editor">
            {days.fields.map((f, i) => (
              <DayEditor
                key={f.id}
                index={i}
                count={days.fields.length}
                startDate={isDay(startDate) ? startDate : ''}
                register={register}
                control={control}
                errors={errors}
                dayNumber={watch(`days.${i}.day`)}
                onRemove={() => days.remove(i)}
                onMove={(to) => {
                  // the plans change places; the day numbers stay in order
                  const a = getValues(`days.${i}.day`);
                  const b = getValues(`days.${to}.day`);
                  days.swap(i, to);
                  setValue(`days.${i}.day`, a);
                  setValue(`days.${to}.day`, b);
                }}
              />
            ))}
          </ol>
        </section>

        <div className="actions">
          <button type="submit" className="btn btn-primary" disabled={isSubmitting}>
            {isSubmitting ? 'Saving…' : itinerary ? 'Save itinerary' : 'Create itinerary'}
          </button>
          <Link className="btn" to={itinerary ? `/itineraries/${itinerary._id}` : '/itineraries'}>
            Cancel
          </Link>
        </div>
      </form>
    </section>
  );
}

function DayEditor({
  index: i,
  count,
  startDate,
  register,
  control,
  errors,
  dayNumber,
  onRemove,
  onMove,
}: {
  index: number;
  count: number;
  startDate: string;
  register: UseFormRegister<FormValues>;
  control: Control<FormValues>;
  errors: FieldErrors<FormValues>;
  dayNumber: string;
  onRemove: () => void;
  onMove: (to: number) => void;
}) {
  const acts = useFieldArray({ control, name: `days.${i}.activities` });
  const e = errors.days?.[i];
  const n = Number(dayNumber);
  const date = startDate && Number.isInteger(n) && n >= 1 ? addDays(startDate, n - 1) : '';
  const label = `Day ${dayNumber || i + 1}`;
  return (
    <li className="card day-edit" aria-label={label}>
      <div className="day-edit-head">
        <h3>
          {label}
          {date && <span className="muted small"> · {formatWeekday(date)}</span>}
        </h3>
        <div className="row-actions">
          <button type="button" className="btn btn-small btn-ghost" onClick={() => onMove(i - 1)} disabled={i === 0} aria-label={`Move ${label} up`}>
            ↑
          </button>
          <button type="button" className="btn btn-small btn-ghost" onClick={() => onMove(i + 1)} disabled={i === count - 1} aria-label={`Move ${label} down`}>
            ↓
          </button>
          <button type="button" className="btn btn-small btn-ghost-danger" onClick={onRemove} aria-label={`Remove ${label}`}>
            Remove
          </button>
        </div>
      </div>
      <div className="form-row day-row">
        <TextField label={ctxLabel(`${label}:`, 'Day number')} type="number" min={1} max={MAX_DAYS} className="day-number-field" error={e?.day?.message} {...register(`days.${i}.day`)} />
        <TextField label={ctxLabel(`${label}:`, 'Title')} placeholder="e.g. Arrival and old town walk" error={e?.title?.message} {...register(`days.${i}.title`)} />
      </div>
      <div className="form-row">
        <TextField label={ctxLabel(`${label}:`, 'Stay')} placeholder="Hotel or camp (optional)" error={e?.accommodation?.message} {...register(`days.${i}.accommodation`)} />
        <fieldset className="field-group meals">
          <legend>
            <span className="sr-only">{label}: </span>Meals included
          </legend>
          <div className="pill-options">
            {MEALS.map((m) => (
              <label key={m} className="checkbox">
                <input type="checkbox" value={m} {...register(`days.${i}.meals`)} /> {valueLabel(m)}
              </label>
            ))}
          </div>
        </fieldset>
      </div>
      <div className="activities">
        <h4>Activities</h4>
        {acts.fields.length === 0 && <p className="muted small">No activities yet.</p>}
        {acts.fields.map((a, j) => {
          const ae = e?.activities?.[j];
          const al = `${label}, activity ${j + 1}`;
          return (
            <div key={a.id} className="activity-edit" role="group" aria-label={al}>
              <TextField label={ctxLabel(`${al}:`, 'Time')} type="time" className="activity-time-field" error={ae?.time?.message} {...register(`days.${i}.activities.${j}.time`)} />
              <TextField label={ctxLabel(`${al}:`, 'What')} error={ae?.title?.message} {...register(`days.${i}.activities.${j}.title`)} />
              <TextField label={ctxLabel(`${al}:`, 'Where')} error={ae?.location?.message} {...register(`days.${i}.activities.${j}.location`)} />
              <TextField label={ctxLabel(`${al}:`, 'Details')} error={ae?.description?.message} {...register(`days.${i}.activities.${j}.description`)} />
              <button type="button" className="btn btn-small btn-ghost-danger activity-remove" onClick={() => acts.remove(j)} aria-label={`Remove ${al}`}>
                ×
              </button>
            </div>
          );
        })}
        {e?.activities?.message && <div className="field-error">{e.activities.message}</div>}
        <button
          type="button"
          className="btn btn-small"
          onClick={() => acts.append(emptyActivity(), { shouldFocus: true, focusName: `days.${i}.activities.${acts.fields.length}.title` })}
          disabled={acts.fields.length >= MAX_ACTIVITIES}
        >
          Add an activity
        </button>
      </div>
      <TextAreaField label={ctxLabel(`${label}:`, 'Notes')} rows={2} error={e?.notes?.message} {...register(`days.${i}.notes`)} />
    </li>
  );
}
