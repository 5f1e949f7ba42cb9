// /leads/new and /leads/:id/edit.
import { zodResolver } from '@hookform/resolvers/zod';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { Link, useNavigate, useParams } from 'react-router-dom';
import { z } from 'zod';
import { isApiError } from '../../api/client';
import { leadsApi } from '../../api/endpoints';
import { CLOSED_LEAD_STATUSES, LEAD_SOURCES, PRIORITIES, type Lead, type LeadInput, type LeadSource, type Priority } from '../../api/types';
import { useAuth } from '../../auth/AuthContext';
import { AgentSelect } from '../../components/AgentSelect';
import { Alert, ErrorState, ServiceBanner, Spinner, errorMessage } from '../../components/Feedback';
import { FieldGroup, SelectField, TextAreaField, TextField } from '../../components/Form';
import { isoDay } from '../../lib/format';
import { CURRENCIES, valueLabel } from '../../lib/labels';
import { isDay } from '../../lib/listParams';
import { applyFieldError, isVersionConflict } from '../../lib/serverErrors';
import { useDocumentTitle } from '../../lib/useDocumentTitle';
import { PHONE_HINT, optionalEmail, optionalText, phoneField, requiredName } from '../../lib/validation';
import { leadName } from './LeadsPage';

const MONEY = /^\d+(\.\d{1,2})?$/;

const leadSchema = z
  .object({
    firstName: requiredName('first name'),
    lastName: requiredName('last name'),
    email: optionalEmail,
    phone: phoneField(false),
    source: z.enum(LEAD_SOURCES),
    priority: z.enum(PRIORITIES),
    interestedDestination: optionalText('Destination', 1, 120),
    budgetAmount: z.string().trim().refine((v) => v === '' || (MONEY.test(v) && Number(v) <= 1e10), 'Enter an amount of 0 or more, up to 2 decimals'),
    // The budget is optional: its currency only counts (and is only checked) with an amount.
    budgetCurrency: z.string().trim(),
    travelFrom: z.string().refine((v) => v === '' || isDay(v), 'Enter a date'),
    travelTo: z.string().refine((v) => v === '' || isDay(v), 'Enter a date'),
    notes: z.string().max(2000, 'Keep the notes under 2000 characters'),
    assignedAgent: z.string(),
  })
  .superRefine((v, ctx) => {
    if (!v.email.trim() && !v.phone.trim()) ctx.addIssue({ code: 'custom', path: ['phone'], message: 'Give a phone number or an email address' });
    if (v.budgetAmount.trim() && !v.budgetCurrency.trim()) ctx.addIssue({ code: 'custom', path: ['budgetCurrency'], message: 'Give the budget’s currency' });
    else if (v.budgetAmount.trim() && !/^[A-Z]{3}$/.test(v.budgetCurrency.trim().toUpperCase())) ctx.addIssue({ code: 'custom', path: ['budgetCurrency'], message: 'Use a 3-letter ISO 4217 code such as INR' });
    if (v.travelFrom && v.travelTo && v.travelTo < v.travelFrom) ctx.addIssue({ code: 'custom', path: ['travelTo'], message: 'The end must not be before the start' });
  });
type LeadValues = z.infer<typeof leadSchema>;

const FIELDS = ['firstName', 'lastName', 'email', 'phone', 'source', 'priority', 'interestedDestination', 'budgetAmount', 'budgetCurrency', 'travelFrom', 'travelTo', 'notes', 'assignedAgent'] as const;
const ALIASES: Record<string, string> = {
  name: 'firstName',
  contactInfo: 'phone',
  'budget.amount': 'budgetAmount',
  'budget.currency': 'budgetCurrency',
  amount: 'budgetAmount',
  currency: 'budgetCurrency',
  budget: 'budgetAmount',
  'travelDates.from': 'travelFrom',
  'travelDates.to': 'travelTo',
  from: 'travelFrom',
  to: 'travelTo',
  travelDates: 'travelFrom',
};

function leadValues(l?: Lead): LeadValues {
  return {
    firstName: l?.name?.firstName ?? '',
    lastName: l?.name?.lastName ?? '',
    email: l?.contactInfo?.email ?? '',
    phone: l?.contactInfo?.phone ?? '',
    source: l?.source ?? 'website',
    priority: l?.priority ?? 'medium',
    interestedDestination: l?.interestedDestination ?? '',
    budgetAmount: l?.budget ? String(l.budget.amount) : '',
    budgetCurrency: l?.budget?.currency ?? (l ? '' : 'INR'),
    travelFrom: isoDay(l?.travelDates?.from),
    travelTo: isoDay(l?.travelDates?.to),
    notes: l?.notes ?? '',
    assignedAgent: '',
  };
}

function leadBody(v: LeadValues, editing: boolean): LeadInput {
  const body: LeadInput = {
    name: { firstName: v.firstName.trim(), lastName: v.lastName.trim() },
    source: v.source as LeadSource,
    priority: v.priority as Priority,
  };
  const contact: LeadInput['contactInfo'] = {};
  if (v.email.trim()) contact.email = v.email.trim();
  if (v.phone.trim()) contact.phone = v.phone.trim();
  body.contactInfo = contact;
  if (v.interestedDestination.trim()) body.interestedDestination = v.interestedDestination.trim();
  if (v.budgetAmount.trim()) body.budget = { amount: Number(v.budgetAmount), currency: v.budgetCurrency.trim().toUpperCase() };
  if (v.travelFrom || v.travelTo) {
    body.travelDates = {};
    if (v.travelFrom) body.travelDates.from = v.travelFrom;
    if (v.travelTo) body.travelDates.to = v.travelTo;
  }
  if (editing || v.notes.trim()) body.notes = v.notes.trim();
  if (!editing && v.assignedAgent) body.assignedAgent = v.assignedAgent;
  return body;
}

export function LeadFormPage() {
  const { id } = useParams();
  const q = useQuery({ queryKey: ['leads', 'one', id], queryFn: () => leadsApi.get(id!), enabled: Boolean(id) });
  useDocumentTitle(id ? 'Edit lead' : 'New lead');
  if (!id) return <LeadForm />;
  if (q.isPending) return <Spinner label="Loading the lead…" />;
  if (q.isError) {
    return (
      <section className="page">
        <h1>Edit lead</h1>
        <ErrorState error={q.error} onRetry={() => void q.refetch()} what="the lead" />
      </section>
    );
  }
  return <LeadForm lead={q.data} onReload={() => q.refetch()} />;
}

function LeadForm({ lead, onReload }: { lead?: Lead; onReload?: () => Promise<{ data?: Lead }> }) {
  const navigate = useNavigate();
  const qc = useQueryClient();
  const { permissions } = useAuth();
  const [error, setError] = useState<unknown>(null);
  const {
    register,
    handleSubmit,
    reset,
    watch,
    setValue,
    setError: setFieldError,
    formState: { errors, isSubmitting },
  } = useForm<LeadValues>({ resolver: zodResolver(leadSchema), defaultValues: leadValues(lead) });

  const onSubmit = handleSubmit(async (v) => {
    setError(null);
    try {
      const body = leadBody(v, Boolean(lead));
      const saved = lead ? await leadsApi.update(lead._id, { ...body, version: lead.version }) : await leadsApi.create(body);
      qc.setQueryData(['leads', 'one', saved._id], saved);
      void qc.invalidateQueries({ queryKey: ['leads', 'list'] });
      navigate(`/leads/${saved._id}`, { state: { flash: lead ? 'The lead was saved.' : 'The lead was recorded.' } });
    } catch (e) {
      if (applyFieldError(e, FIELDS, setFieldError, ALIASES)) return;
      setError(e);
    }
  });

  const closed = lead && CLOSED_LEAD_STATUSES.includes(lead.status);
  const title = lead ? `Edit ${leadName(lead)}` : 'New lead';
  return (
    <section className="page page-narrow" aria-labelledby="lead-form-title">
      <header className="page-header">
        <div>
          <nav className="breadcrumbs" aria-label="Breadcrumb">
            <Link to="/leads">Leads</Link>
            {lead && (
              <>
                {' / '}
                <Link to={`/leads/${lead._id}`}>{leadName(lead)}</Link>
              </>
            )}
          </nav>
          <h1 id="lead-form-title">{title}</h1>
        </div>
      </header>
      {closed && (
        <Alert kind="warning" title="This lead is closed">
          A {lead.status} lead cannot be edited.
        </Alert>
      )}
      <ServiceBanner error={error} />
      {isVersionConflict(error) && (
        <Alert kind="warning" title="Someone else changed this lead">
          <p>Your changes were not saved because the lead changed after you opened it.</p>
          <button
            type="button"
            className="btn btn-small"
            onClick={async () => {
              const r = await onReload?.();
              if (r?.data) reset(leadValues(r.data));
              setError(null);
            }}
          >
            Reload the latest version
          </button>
        </Alert>
      )}
      {error != null && !isVersionConflict(error) && !(isApiError(error) && error.unavailable) && (
        <Alert title={lead ? 'The lead was not saved' : 'The lead was not recorded'}>{errorMessage(error)}</Alert>
      )}
      <form className="form card" onSubmit={onSubmit} noValidate aria-labelledby="lead-form-title">
        <FieldGroup legend="Who">
          <div className="form-row">
            <TextField label="First name" error={errors.firstName?.message} {...register('firstName')} />
            <TextField label="Last name" error={errors.lastName?.message} {...register('lastName')} />
          </div>
          <div className="form-row">
            <TextField label="Phone" type="tel" hint={PHONE_HINT} error={errors.phone?.message} {...register('phone')} />
            <TextField label="Email" type="email" hint="A phone number or an email is needed." error={errors.email?.message} {...register('email')} />
          </div>
          <div className="form-row">
            <SelectField label="Source" error={errors.source?.message} {...register('source')}>
              {LEAD_SOURCES.map((s) => (
                <option key={s} value={s}>
                  {valueLabel(s)}
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
        <FieldGroup legend="Trip interest (optional)">
          <TextField label="Destination" error={errors.interestedDestination?.message} {...register('interestedDestination')} />
          <div className="form-row">
            <TextField label="Budget" type="number" min={0} step="0.01" inputMode="decimal" error={errors.budgetAmount?.message} {...register('budgetAmount')} />
            <TextField label="Budget currency" list="lead-currencies" maxLength={3} error={errors.budgetCurrency?.message} {...register('budgetCurrency')} />
            <datalist id="lead-currencies">
              {CURRENCIES.map((c) => (
                <option key={c} value={c} />
              ))}
            </datalist>
          </div>
          <div className="form-row">
            <TextField label="Travel from" type="date" error={errors.travelFrom?.message} {...register('travelFrom')} />
            <TextField label="Travel to" type="date" error={errors.travelTo?.message} {...register('travelTo')} />
          </div>
        </FieldGroup>
        {!lead && permissions.canAssignLeads === true && (
          <div className="field">
            <label htmlFor="lead-assignee">Assign to</label>
            <AgentSelect id="lead-assignee" value={watch('assignedAgent')} onChange={(v) => setValue('assignedAgent', v)} anyLabel="Me (default)" />
            {errors.assignedAgent?.message && <div className="field-error">{errors.assignedAgent.message}</div>}
          </div>
        )}
        <TextAreaField label="Notes" error={errors.notes?.message} {...register('notes')} />
        <div className="actions">
          <button type="submit" className="btn btn-primary" disabled={isSubmitting || Boolean(closed)}>
            {isSubmitting ? 'Saving…' : lead ? 'Save changes' : 'Record lead'}
          </button>
          <Link className="btn" to={lead ? `/leads/${lead._id}` : '/leads'}>
            Cancel
          </Link>
        </div>
      </form>
    </section>
  );
}
