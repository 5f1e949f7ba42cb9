// /customers/new and /customers/:id/edit.
import { zodResolver } from '@hookform/resolvers/zod';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { Link, useNavigate, useParams } from 'react-router-dom';
import { isApiError } from '../../api/client';
import { customersApi } from '../../api/endpoints';
import type { Customer } from '../../api/types';
import { Alert, ErrorState, ServiceBanner, Spinner, errorMessage } from '../../components/Feedback';
import { FieldGroup, TextAreaField, TextField } from '../../components/Form';
import { fullName } from '../../lib/format';
import { applyFieldError, isVersionConflict, possibleDuplicate, type Duplicate } from '../../lib/serverErrors';
import { useDocumentTitle } from '../../lib/useDocumentTitle';
import { PHONE_HINT } from '../../lib/validation';
import { CUSTOMER_FIELDS, EMPTY_CUSTOMER, customerBody, customerSchema, customerValues, type CustomerValues } from './customerForm';

export function CustomerFormPage() {
  const { id } = useParams();
  const q = useQuery({ queryKey: ['customers', 'one', id], queryFn: () => customersApi.get(id!), enabled: Boolean(id) });
  useDocumentTitle(id ? 'Edit customer' : 'New customer');
  if (!id) return <CustomerForm />;
  if (q.isPending) return <Spinner label="Loading the customer…" />;
  if (q.isError) {
    return (
      <section className="page">
        <h1>Edit customer</h1>
        <ErrorState error={q.error} onRetry={() => void q.refetch()} what="the customer" />
      </section>
    );
  }
  return <CustomerForm customer={q.data} onReload={() => q.refetch()} />;
}

/** Optional fields the API cannot empty once set. */
const STICKY = ['email', 'city', 'country', 'address', 'dateOfBirth', 'passportNumber'] as const;

function CustomerForm({ customer, onReload }: { customer?: Customer; onReload?: () => Promise<{ data?: Customer }> }) {
  const navigate = useNavigate();
  const qc = useQueryClient();
  const [error, setError] = useState<unknown>(null);
  const [duplicate, setDuplicate] = useState<Duplicate | null>(null);
  const {
    register,
    handleSubmit,
    reset,
    setError: setFieldError,
    formState: { errors, isSubmitting },
  } = useForm<CustomerValues>({
    resolver: zodResolver(customerSchema),
    defaultValues: customer ? customerValues(customer) : EMPTY_CUSTOMER,
  });

  const save = async (v: CustomerValues, force: boolean) => {
    setError(null);
    setDuplicate(null);
    if (customer) {
      const was = customerValues(customer);
      const emptied = STICKY.filter((k) => was[k] && !v[k].trim());
      if (emptied.length) {
        for (const k of emptied) setFieldError(k, { type: 'sticky', message: 'This cannot be emptied once set; enter a new value instead' }, { shouldFocus: true });
        return;
      }
    }
    try {
      const body = { ...customerBody(v, Boolean(customer)), ...(force ? { force: true } : {}) };
      const saved = customer
        ? await customersApi.update(customer._id, { ...body, version: customer.version })
        : await customersApi.create(body);
      qc.setQueryData(['customers', 'one', saved._id], saved);
      void qc.invalidateQueries({ queryKey: ['customers', 'list'] });
      void qc.invalidateQueries({ queryKey: ['customers', 'pick'] });
      navigate(`/customers/${saved._id}`, { state: { flash: customer ? 'The customer was saved.' : `${fullName(saved)} was added.` } });
    } catch (e) {
      const dup = possibleDuplicate(e);
      if (dup) {
        setDuplicate(dup);
        return;
      }
      if (applyFieldError(e, CUSTOMER_FIELDS, setFieldError)) return;
      setError(e);
    }
  };
  const onSubmit = handleSubmit((v) => save(v, false));
  const saveAnyway = handleSubmit((v) => save(v, true));

  const title = customer ? `Edit ${fullName(customer)}` : 'New customer';
  return (
    <section className="page page-narrow" aria-labelledby="customer-form-title">
      <header className="page-header">
        <div>
          <nav className="breadcrumbs" aria-label="Breadcrumb">
            <Link to="/customers">Customers</Link>
            {customer && (
              <>
                {' / '}
                <Link to={`/customers/${customer._id}`}>{fullName(customer)}</Link>
              </>
            )}
          </nav>
          <h1 id="customer-form-title">{title}</h1>
        </div>
      </header>
      <ServiceBanner error={error} />
      {isVersionConflict(error) && (
        <Alert kind="warning" title="Someone else changed this customer">
          <p>Your changes were not saved because the customer changed after you opened it.</p>
          <button
            type="button"
            className="btn btn-small"
            onClick={async () => {
              const r = await onReload?.();
              if (r?.data) reset(customerValues(r.data));
              setError(null);
            }}
          >
            Reload the latest version
          </button>
        </Alert>
      )}
      {error != null && !isVersionConflict(error) && !(isApiError(error) && error.unavailable) && (
        <Alert title={customer ? 'The customer was not saved' : 'The customer was not added'}>{errorMessage(error)}</Alert>
      )}
      {duplicate && (
        <Alert kind="warning" title={customer ? 'This may be another customer' : 'This customer may already exist'}>
          <p>
            {duplicate.message}
            {duplicate.customer && (
              <>
                {' '}
                <Link to={`/customers/${duplicate.customer._id}`}>Open {fullName(duplicate.customer)}</Link>
              </>
            )}
          </p>
          <button type="button" className="btn btn-small" disabled={isSubmitting} onClick={() => void saveAnyway()}>
            {customer ? 'Save anyway' : 'Create anyway'}
          </button>
        </Alert>
      )}
      <form className="form card" onSubmit={onSubmit} noValidate aria-labelledby="customer-form-title">
        <FieldGroup legend="Name and contact">
          <div className="form-row">
            <TextField label="First name" autoComplete="off" error={errors.firstName?.message} {...register('firstName')} />
            <TextField label="Last name" autoComplete="off" error={errors.lastName?.message} {...register('lastName')} />
          </div>
          <div className="form-row">
            <TextField label="Phone" type="tel" hint={PHONE_HINT} error={errors.phone?.message} {...register('phone')} />
            <TextField label="Email (optional)" type="email" error={errors.email?.message} {...register('email')} />
          </div>
        </FieldGroup>
        <FieldGroup legend="Address">
          <div className="form-row">
            <TextField label="City (optional)" error={errors.city?.message} {...register('city')} />
            <TextField label="Country (optional)" error={errors.country?.message} {...register('country')} />
          </div>
          <TextField label="Address (optional)" error={errors.address?.message} {...register('address')} />
        </FieldGroup>
        <FieldGroup legend="Travel documents">
          <div className="form-row">
            <TextField label="Date of birth (optional)" type="date" error={errors.dateOfBirth?.message} {...register('dateOfBirth')} />
            <TextField label="Passport number (optional)" autoComplete="off" error={errors.passportNumber?.message} {...register('passportNumber')} />
          </div>
        </FieldGroup>
        <TextAreaField label="Notes (optional)" error={errors.notes?.message} {...register('notes')} />
        <div className="actions">
          <button type="submit" className="btn btn-primary" disabled={isSubmitting}>
            {isSubmitting ? 'Saving…' : customer ? 'Save changes' : 'Add customer'}
          </button>
          <Link className="btn" to={customer ? `/customers/${customer._id}` : '/customers'}>
            Cancel
          </Link>
        </div>
      </form>
    </section>
  );
}
