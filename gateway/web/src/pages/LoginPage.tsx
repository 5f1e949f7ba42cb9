import { zodResolver } from '@hookform/resolvers/zod';
import { useEffect, useState } from 'react';
import { useForm } from 'react-hook-form';
import { Link, Navigate, useLocation, useNavigate } from 'react-router-dom';
import { isApiError } from '../api/client';
import { useAuth } from '../auth/AuthContext';
import { Alert, ServiceBanner } from '../components/Feedback';
import { TextField } from '../components/Form';
import { applyFieldError } from '../lib/serverErrors';
import { loginSchema, type LoginValues } from '../lib/validation';
import { AuthShell } from './AuthShell';
import { useDocumentTitle } from '../lib/useDocumentTitle';

/** The message for a failed sign-in; null when a banner or field error says it. */
function loginMessage(err: unknown): { title: string; text?: string; kind?: 'error' | 'warning' } | null {
  if (!isApiError(err)) return { title: 'Sign-in failed', text: err instanceof Error ? err.message : undefined };
  if (err.unavailable) return null;
  switch (err.code) {
    case 'INVALID_CREDENTIALS':
      return { title: 'Wrong email or password', text: err.message };
    case 'ACCOUNT_PENDING':
      return { title: 'Your account is awaiting approval', text: err.message, kind: 'warning' };
    case 'ACCOUNT_DEACTIVATED':
      return { title: 'Your account is deactivated', text: err.message };
    case 'TOO_MANY_ATTEMPTS':
      return { title: 'Too many sign-in attempts', text: err.message };
    default:
      if (err.status === 404) return { title: 'Sign-in is not available yet', text: 'The server does not offer sign-in right now.' };
      return { title: 'Sign-in failed', text: err.message };
  }
}

export function LoginPage() {
  useDocumentTitle('Sign in');
  const auth = useAuth();
  const navigate = useNavigate();
  const location = useLocation();
  const from = (location.state as { from?: string } | null)?.from ?? '/';
  const [error, setError] = useState<unknown>(null);
  const [lockedFor, setLockedFor] = useState(0);

  const {
    register,
    handleSubmit,
    setError: setFieldError,
    formState: { errors, isSubmitting },
  } = useForm<LoginValues>({ resolver: zodResolver(loginSchema), defaultValues: { email: '', password: '' } });

  // Counts down a Retry-After lock.
  useEffect(() => {
    if (lockedFor <= 0) return;
    const t = setTimeout(() => setLockedFor((s) => s - 1), 1000);
    return () => clearTimeout(t);
  }, [lockedFor]);

  if (auth.status === 'authenticated') return <Navigate to={from} replace />;

  const onSubmit = handleSubmit(async (values) => {
    setError(null);
    try {
      await auth.login(values);
      navigate(from, { replace: true });
    } catch (e) {
      if (applyFieldError(e, ['email', 'password'], setFieldError)) return;
      if (isApiError(e) && e.code === 'TOO_MANY_ATTEMPTS' && e.retryAfter) setLockedFor(e.retryAfter);
      setError(e);
    }
  });

  const message = error ? loginMessage(error) : null;
  return (
    <AuthShell title="Sign in" subtitle="Welcome back. Sign in to your agency workspace.">
      {auth.notice && !error && <Alert kind="info">{auth.notice}</Alert>}
      <ServiceBanner error={error} />
      {message && (
        <Alert kind={message.kind ?? 'error'} title={message.title}>
          {message.text}
          {lockedFor > 0 && <div>You can try again in {lockedFor} s.</div>}
        </Alert>
      )}
      <form className="form" onSubmit={onSubmit} noValidate aria-label="Sign in">
        <TextField
          label="Email"
          type="email"
          autoComplete="username"
          autoFocus
          error={errors.email?.message}
          {...register('email')}
        />
        <TextField
          label="Password"
          type="password"
          autoComplete="current-password"
          error={errors.password?.message}
          {...register('password')}
        />
        <button type="submit" className="btn btn-primary btn-block" disabled={isSubmitting || lockedFor > 0}>
          {isSubmitting ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
      <p className="auth-footer">
        New agency agent? <Link to="/register">Create an account</Link>
      </p>
    </AuthShell>
  );
}
