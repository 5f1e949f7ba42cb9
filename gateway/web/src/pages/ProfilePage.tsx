import { zodResolver } from '@hookform/resolvers/zod';
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { isApiError } from '../api/client';
import { authApi } from '../api/endpoints';
import { useAuth } from '../auth/AuthContext';
import { Badge, toneOf } from '../components/Badge';
import { Alert, ServiceBanner, errorMessage } from '../components/Feedback';
import { TextField } from '../components/Form';
import { formatDateTime, fullName } from '../lib/format';
import { STATUS_LABELS, roleLabel } from '../lib/labels';
import { applyFieldError } from '../lib/serverErrors';
import { PASSWORD_HINT, changePasswordSchema, type ChangePasswordValues } from '../lib/validation';
import { useDocumentTitle } from '../lib/useDocumentTitle';

export function ProfilePage() {
  useDocumentTitle('My profile');
  const { agent } = useAuth();
  const [done, setDone] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const {
    register,
    handleSubmit,
    reset,
    setError: setFieldError,
    formState: { errors, isSubmitting },
  } = useForm<ChangePasswordValues>({
    resolver: zodResolver(changePasswordSchema),
    defaultValues: { currentPassword: '', newPassword: '', confirmPassword: '' },
  });

  const onSubmit = handleSubmit(async ({ currentPassword, newPassword }) => {
    setError(null);
    setDone(false);
    try {
      await authApi.changePassword({ currentPassword, newPassword });
      reset();
      setDone(true);
    } catch (e) {
      if (isApiError(e) && (e.code === 'INVALID_CREDENTIALS' || e.code === 'WRONG_PASSWORD')) {
        setFieldError('currentPassword', { type: 'server', message: 'The current password is not correct' }, { shouldFocus: true });
        return;
      }
      if (applyFieldError(e, ['currentPassword', 'newPassword'], setFieldError)) return;
      setError(e);
    }
  });

  if (!agent) return null;
  return (
    <section className="page" aria-labelledby="profile-title">
      <header className="page-header">
        <div>
          <h1 id="profile-title">My profile</h1>
          <p className="muted">Your account details and password.</p>
        </div>
      </header>
      <div className="two-col">
        <section className="card" aria-labelledby="account-title">
          <h2 id="account-title">Account</h2>
          <dl className="kv-list">
            <div className="kv">
              <dt>Name</dt>
              <dd>{fullName(agent)}</dd>
            </div>
            <div className="kv">
              <dt>Email</dt>
              <dd>{agent.email}</dd>
            </div>
            <div className="kv">
              <dt>Phone</dt>
              <dd>{agent.phone || '—'}</dd>
            </div>
            <div className="kv">
              <dt>Agency</dt>
              <dd>{agent.agencyName || '—'}</dd>
            </div>
            <div className="kv">
              <dt>Role</dt>
              <dd>{roleLabel(agent.role)}</dd>
            </div>
            <div className="kv">
              <dt>Status</dt>
              <dd>
                <Badge tone={toneOf(agent.status)}>{STATUS_LABELS[agent.status] ?? agent.status}</Badge>
              </dd>
            </div>
            <div className="kv">
              <dt>Last sign-in</dt>
              <dd>{formatDateTime(agent.lastLoginAt)}</dd>
            </div>
          </dl>
        </section>
        <section className="card" aria-labelledby="password-title">
          <h2 id="password-title">Change password</h2>
          {done && <Alert kind="success">Your password has been changed.</Alert>}
          <ServiceBanner error={error} />
          {error !== null && !(isApiError(error) && error.unavailable) && (
            <Alert kind="error" title="Could not change the password">
              {errorMessage(error)}
            </Alert>
          )}
          <form className="form" onSubmit={onSubmit} noValidate aria-label="Change password">
            <TextField
              label="Current password"
              type="password"
              autoComplete="current-password"
              error={errors.currentPassword?.message}
              {...register('currentPassword')}
            />
            <TextField
              label="New password"
              type="password"
              autoComplete="new-password"
              hint={PASSWORD_HINT}
              error={errors.newPassword?.message}
              {...register('newPassword')}
            />
            <TextField
              label="Confirm new password"
              type="password"
              autoComplete="new-password"
              error={errors.confirmPassword?.message}
              {...register('confirmPassword')}
            />
            <button type="submit" className="btn btn-primary" disabled={isSubmitting}>
              {isSubmitting ? 'Saving…' : 'Change password'}
            </button>
          </form>
        </section>
      </div>
    </section>
  );
}
