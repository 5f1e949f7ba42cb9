// /leads/:id/convert: turn a lead into a customer (an existing one, or a new one made
// from the lead's details) and optionally book the trip at once. A booking conflict
// (409) shows at the dates with a link, and leaves the lead open.
import { zodResolver } from '@hookform/resolvers/zod';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { Controller, useForm, type UseFormRegister } from 'react-hook-form';
import { Link, useNavigate, useParams } from 'react-router-dom';
import { z } from 'zod';
import { isApiError } from '../../api/client';
import { leadsApi } from '../../api/endpoints';
import { CLOSED_LEAD_STATUSES, type ConvertLeadInput, type Lead } from '../../api/types';
import { CustomerPicker } from '../../components/CustomerPicker';
import { Alert, ErrorState, ServiceBanner, Spinner, errorMessage } from '../../components/Feedback';
import { FieldGroup, TextField } from '../../components/Form';
import { fullName, isoDay } from '../../lib/format';
import { applyFieldError, bookingConflict, isVersionConflict, possibleDuplicate, type Duplicate } from '../../lib/serverErrors';
import { useDocumentTitle } from '../../lib/useDocumentTitle';
import { isPhone, optionalEmail } from '../../lib/validation';
import { EMPTY_TRIP, TRIP_FIELDS, checkTrip, tripBody, tripShape, type TripValues } from '../bookings/bookingForm';
import { TripFields } from '../bookings/TripFields';
import { leadName } from './LeadsPage';

interface ConvertValues extends TripValues {
  mode: 'new' | 'existing';
  customerId: string;
  custFirstName: string;
  custLastName: string;
  custEmail: string;
  custPhone: string;
  withBooking: boolean;
}

const schema = z
  .object({
    mode: z.enum(['new', 'existing']),
    customerId: z.string(),
    custFirstName: z.string().trim().max(60, 'At most 60 characters'),
    custLastName: z.string().trim().max(60, 'At most 60 characters'),
    custEmail: optionalEmail,
    custPhone: z.string().trim(),
    withBooking: z.boolean(),
    ...Object.fromEntries(TRIP_FIELDS.map((f) => [f, z.string()])),
  })
  .superRefine((raw, ctx) => {
    const v = raw as unknown as ConvertValues;
    if (v.mode === 'existing' && !/^[0-9a-f]{24}$/i.test(v.customerId)) ctx.addIssue({ code: 'custom', path: ['customerId'], message: 'Choose a customer' });
    if (v.mode === 'new') {
      if (!v.custFirstName.trim()) ctx.addIssue({ code: 'custom', path: ['custFirstName'], message: 'Enter the first name' });
      if (!v.custLastName.trim()) ctx.addIssue({ code: 'custom', path: ['custLastName'], message: 'Enter the last name' });
      if (!isPhone(v.custPhone)) ctx.addIssue({ code: 'custom', path: ['custPhone'], message: 'A customer needs a valid phone number, like +91 98765 43210' });
    }
    if (v.withBooking) {
      const trip = z.object(tripShape).safeParse(v);
      if (!trip.success) for (const issue of trip.error.issues) ctx.addIssue({ code: 'custom', path: issue.path as (string | number)[], message: issue.message });
      checkTrip(v, ctx);
    }
  });

const FIELDS = ['customerId', 'custFirstName', 'custLastName', 'custEmail', 'custPhone', ...TRIP_FIELDS] as const;
const ALIASES: Record<string, string> = {
  customer: 'custFirstName',
  'customer.firstName': 'custFirstName',
  'customer.lastName': 'custLastName',
  'customer.email': 'custEmail',
  'customer.phone': 'custPhone',
  firstName: 'custFirstName',
  lastName: 'custLastName',
  email: 'custEmail',
  phone: 'custPhone',
  booking: 'title',
  tripDetails: 'title',
  'tripDetails.travellers': 'adults',
  pricing: 'totalAmount',
};

export function ConvertLeadPage() {
  const { id = '' } = useParams();
  const q = useQuery({ queryKey: ['leads', 'one', id], queryFn: () => leadsApi.get(id) });
  useDocumentTitle('Convert lead');
  if (q.isPending) return <Spinner label="Loading the lead…" />;
  if (q.isError) {
    return (
      <section className="page">
        <h1>Convert lead</h1>
        <ErrorState error={q.error} onRetry={() => void q.refetch()} what="the lead" />
      </section>
    );
  }
  return <ConvertForm lead={q.data} />;
}

function defaults(l: Lead): ConvertValues {
  return {
    ...EMPTY_TRIP,
    mode: 'new',
    customerId: '',
    custFirstName: l.name?.firstName ?? '',
    custLastName: l.name?.lastName ?? '',
    custEmail: l.contactInfo?.email ?? '',
    custPhone: l.contactInfo?.phone ?? '',
    withBooking: false,
    title: l.interestedDestination ? `${l.interestedDestination} trip` : '',
    destination: l.interestedDestination ?? '',
    startDate: isoDay(l.travelDates?.from),
    endDate: isoDay(l.travelDates?.to),
    totalAmount: l.budget ? String(l.budget.amount) : '',
    currency: l.budget?.currency ?? 'INR',
    priority: l.priority ?? 'medium',
  };
}

function ConvertForm({ lead }: { lead: Lead }) {
  const navigate = useNavigate();
  const qc = useQueryClient();
  const [error, setError] = useState<unknown>(null);
  const [conflict, setConflict] = useState<ReturnType<typeof bookingConflict>>(null);
  const conflictRef = useRef<HTMLDivElement>(null);
  const {
    register,
    control,
    handleSubmit,
    watch,
    setError: setFieldError,
    formState: { errors, isSubmitting },
  } = useForm<ConvertValues>({ resolver: zodResolver(schema) as never, defaultValues: defaults(lead) });
  const [duplicate, setDuplicate] = useState<Duplicate | null>(null);
  const mode = watch('mode');
  const withBooking = watch('withBooking');
  useEffect(() => {
    if (conflict) conflictRef.current?.focus();
  }, [conflict]);
  const closed = CLOSED_LEAD_STATUSES.includes(lead.status);

  const convert = async (v: ConvertValues, force: boolean) => {
    setError(null);
    setConflict(null);
    setDuplicate(null);
    const body: ConvertLeadInput = { version: lead.version, ...(force ? { force: true } : {}) };
    if (v.mode === 'existing') body.customerId = v.customerId;
    else {
      const c: NonNullable<ConvertLeadInput['customer']> = {
        firstName: v.custFirstName.trim(),
        lastName: v.custLastName.trim(),
        phone: v.custPhone.trim(),
      };
      if (v.custEmail.trim()) c.email = v.custEmail.trim();
      body.customer = c;
    }
    if (v.withBooking) body.booking = tripBody(v);
    try {
      const r = await leadsApi.convert(lead._id, body);
      qc.setQueryData(['leads', 'one', lead._id], r.lead);
      void qc.invalidateQueries({ queryKey: ['leads', 'list'] });
      void qc.invalidateQueries({ queryKey: ['customers'] });
      void qc.invalidateQueries({ queryKey: ['bookings'] });
      if (r.booking) navigate(`/bookings/${r.booking._id}`, { state: { flash: `${leadName(lead)} is now a customer, booked as ${r.booking.bookingReference}.` } });
      else navigate(`/customers/${r.customer._id}`, { state: { flash: `${leadName(lead)} was converted into customer ${fullName(r.customer)}.` } });
    } catch (e) {
      const c = bookingConflict(e);
      if (c) {
        setConflict(c);
        return;
      }
      const dup = possibleDuplicate(e);
      if (dup) {
        setDuplicate(dup);
        return;
      }
      if (applyFieldError(e, FIELDS, setFieldError, ALIASES)) return;
      setError(e);
    }
  };
  const onSubmit = handleSubmit((v) => convert(v, false));
  const convertAnyway = handleSubmit((v) => convert(v, true));

  return (
    <section className="page page-narrow" aria-labelledby="convert-title">
      <header className="page-header">
        <div>
          <nav className="breadcrumbs" aria-label="Breadcrumb">
            <Link to="/leads">Leads</Link> / <Link to={`/leads/${lead._id}`}>{leadName(lead)}</Link>
          </nav>
          <h1 id="convert-title">Convert {leadName(lead)}</h1>
          <p className="muted">The lead becomes a customer; you can book the trip in the same step.</p>
        </div>
      </header>
      {closed && (
        <Alert kind="warning" title="This lead is closed">
          A {lead.status} lead cannot be converted.
        </Alert>
      )}
      <ServiceBanner error={error} />
      {isVersionConflict(error) && (
        <Alert kind="warning" title="The lead changed meanwhile">
          Someone changed the lead after you opened this page; nothing was converted. <Link to={`/leads/${lead._id}`}>Open the lead</Link> and try again.
        </Alert>
      )}
      {error != null && !isVersionConflict(error) && !(isApiError(error) && error.unavailable) && <Alert title="The lead was not converted">{errorMessage(error)}</Alert>}

      {duplicate && (
        <Alert kind="warning" title="This customer may already exist">
          <p>
            {duplicate.message}
            {duplicate.customer && (
              <>
                {' '}
                <Link to={`/customers/${duplicate.customer._id}`}>Open {fullName(duplicate.customer)}</Link> — or choose “An existing customer” to link it.
              </>
            )}
          </p>
          <button type="button" className="btn btn-small" disabled={isSubmitting} onClick={() => void convertAnyway()}>
            Create a new customer anyway
          </button>
        </Alert>
      )}
      <form className="form card" onSubmit={onSubmit} noValidate aria-labelledby="convert-title">
        <FieldGroup legend="Customer">
          <div className="radio-row">
            <label className="radio">
              <input type="radio" value="new" {...register('mode')} /> New customer from this lead
            </label>
            <label className="radio">
              <input type="radio" value="existing" {...register('mode')} /> An existing customer
            </label>
          </div>
          {mode === 'existing' ? (
            <Controller
              control={control}
              name="customerId"
              render={({ field }) => (
                <CustomerPicker ref={field.ref} label="Existing customer" value={field.value} onChange={(cid) => field.onChange(cid)} onBlur={field.onBlur} error={errors.customerId?.message} />
              )}
            />
          ) : (
            <>
              <div className="form-row">
                <TextField label="First name" error={errors.custFirstName?.message} {...register('custFirstName')} />
                <TextField label="Last name" error={errors.custLastName?.message} {...register('custLastName')} />
              </div>
              <div className="form-row">
                <TextField label="Phone" type="tel" error={errors.custPhone?.message} {...register('custPhone')} />
                <TextField label="Email (optional)" type="email" error={errors.custEmail?.message} {...register('custEmail')} />
              </div>
            </>
          )}
        </FieldGroup>
        <label className="checkbox">
          <input type="checkbox" {...register('withBooking')} /> Also create a booking for this customer
        </label>
        {withBooking && (
          <TripFields register={register as unknown as UseFormRegister<TripValues>} errors={errors} conflict={conflict} conflictRef={conflictRef} />
        )}
        <div className="actions">
          <button type="submit" className="btn btn-primary" disabled={isSubmitting || closed}>
            {isSubmitting ? 'Converting…' : withBooking ? 'Convert and book' : 'Convert'}
          </button>
          <Link className="btn" to={`/leads/${lead._id}`}>
            Cancel
          </Link>
        </div>
      </form>
    </section>
  );
}
