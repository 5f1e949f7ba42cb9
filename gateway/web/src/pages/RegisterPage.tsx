import { zodResolver } from '@hookform/resolvers/zod';
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { Link } from 'react-router-dom';
import { isApiError } from '../api/client';
import { authApi } from '../api/endpoints';
import type { Agent } from '../api/types';
import { Alert, ServiceBanner } from '../components/Feedback';
import { TextField } from '../components/Form';
import { applyFieldError } from '../lib/serverErrors';
import { PASSWORD_HINT, registerSchema, type RegisterValues } from '../lib/validation';
import { AuthShell } from './AuthShell';
import { useDocumentTitle } from '../lib/useDocumentTitle';

const FIELDS = ['firstName', 'lastName', 'email', 'phone', 'agencyName', 'password'] as const;

export function RegisterPage() {
  useDocumentTitle('Create your account');
  const [done, setDone] = useState<Agent | null>(null);
  const [error, setError] = useState<unknown>(null);
  const {
    register,
    handleSubmit,
    setError: setFieldError,
    formState: { errors, isSubmitting },
  } = useForm<RegisterValues>({
    resolver: zodResolver(registerSchema),
    defaultValues: { firstName: '', lastName: '', email: '', phone: '', agencyName: '', password: '', confirmPassword: '' },
  });

  const onSubmit = handleSubmit(async ({ confirmPassword: _unused, ...body }) => {
    setError(null);
    try {
      setDone(await authApi.register(body));
    } catch (e) {
      if (isApiError(e) && e.code === 'EMAIL_TAKEN') {
        setFieldError('email', { type: 'server', message: 'An account with this email already exists' }, { shouldFocus: true });
        return;
      }
      if (applyFieldError(e, FIELDS, setFieldError)) return;
      setError(e);
    }
  });

  if (done) {
    return (
      <AuthShell title="Registration received">
        <Alert kind="success" title="Thanks — your registration has been received.">
          An admin must approve your account before you can sign in. We’ll let you know at{' '}
          <strong>{done.email}</strong> once it’s active.
        </Alert>
        <Link className="btn btn-primary btn-block" to="/login">
          Back to sign in
        </Link>
      </AuthShell>
    );
  }

  return (
    <AuthShell title="Create your account" subtitle="Register as an agent. An admin approves new accounts." wide>
      <ServiceBanner error={error} />
      {error !== null && !(isApiError(error) && error.unavailable) && (
        <Alert kind="error" title="Registration failed">
          {error instanceof Error ? error.message : 'Something went wrong.'}
        </Alert>
      )}
      <form className="form" onSubmit={onSubmit} noValidate aria-label="Create your account">
        <div className="form-row">
          <TextField label="First name" autoComplete="given-name" autoFocus error={errors.firstName?.message} {...register('firstName')} />
          <TextField label="Last name" autoComplete="family-name" error={errors.lastName?.message} {...register('lastName')} />
        </div>
        <TextField label="Work email" type="email" autoComplete="email" error={errors.email?.message} {...register('email')} />
        <div className="form-row">
          <TextField label="Phone" type="tel" autoComplete="tel" error={errors.phone?.message} {...register('phone')} />
          <TextField label="Agency name" autoComplete="organization" error={errors.agencyName?.message} {...register('agencyName')} />
        </div>
        <div className="form-row">
          <TextField
            label="Password"
            type="password"
            autoComplete="new-password"
            hint={PASSWORD_HINT}
            error={errors.password?.message}
            {...register('password')}
          />
          <TextField
            label="Confirm password"
            type="password"
            autoComplete="new-password"
            error={errors.confirmPassword?.message}
            {...register('confirmPassword')}
          />
        </div>
        <button type="submit" className="btn btn-primary btn-block" disabled={isSubmitting}>
          {isSubmitting ? 'Creating account…' : 'Create account'}
        </button>
      </form>
      <p className="auth-footer">
        Already have an account? <Link to="/login">Sign in</Link>
      </p>
    </AuthShell>
  );
}
