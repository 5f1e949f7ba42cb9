import { z } from 'zod';

// Zod 4 probes `new Function` to speed up parsing; under the gateway's CSP (no
// 'unsafe-eval') that probe is a CSP violation in the console. Parse without it.
z.config({ jitless: true });

/** The server's password policy: at least 10 characters with upper, lower, digit, symbol. */
export const passwordPolicy = z
  .string()
  .min(10, 'Use at least 10 characters')
  .max(128, 'Use at most 128 characters')
  .regex(/[a-z]/, 'Include a lowercase letter')
  .regex(/[A-Z]/, 'Include an uppercase letter')
  .regex(/[0-9]/, 'Include a digit')
  .regex(/[^A-Za-z0-9]/, 'Include a symbol, such as ! or #');

export const PASSWORD_HINT = 'At least 10 characters, with an uppercase and a lowercase letter, a digit and a symbol.';

export const emailField = z
  .string()
  .trim()
  .min(1, 'Enter your email address')
  .max(254, 'That email address is too long')
  .email('Enter a valid email address, like name@agency.com');

export const loginSchema = z.object({
  email: emailField,
  password: z.string().min(1, 'Enter your password'),
});
export type LoginValues = z.infer<typeof loginSchema>;

const requiredText = (what: string, max = 100) =>
  z.string().trim().min(1, `Enter ${what}`).max(max, `Keep ${what} under ${max} characters`);

export const registerSchema = z
  .object({
    firstName: requiredText('your first name', 50),
    lastName: requiredText('your last name', 50),
    email: emailField,
    phone: z
      .string()
      .trim()
      .min(1, 'Enter your phone number')
      .regex(/^\+?[0-9 ()-]{7,20}$/, 'Enter a valid phone number, like +91 98765 43210'),
    agencyName: requiredText('your agency name', 100),
    password: passwordPolicy,
    confirmPassword: z.string().min(1, 'Repeat your password'),
  })
  .refine((v) => v.password === v.confirmPassword, {
    path: ['confirmPassword'],
    message: 'The passwords do not match',
  });
export type RegisterValues = z.infer<typeof registerSchema>;

export const changePasswordSchema = z
  .object({
    currentPassword: z.string().min(1, 'Enter your current password'),
    newPassword: passwordPolicy,
    confirmPassword: z.string().min(1, 'Repeat the new password'),
  })
  .refine((v) => v.newPassword === v.confirmPassword, {
    path: ['confirmPassword'],
    message: 'The passwords do not match',
  })
  .refine((v) => v.newPassword !== v.currentPassword, {
    path: ['newPassword'],
    message: 'Choose a password different from the current one',
  });
export type ChangePasswordValues = z.infer<typeof changePasswordSchema>;

// ---- booking service fields (the server's rules, services/booking and shared/validate.c)

/** A phone number as the booking service accepts it: 6–15 digits, + - ( ) . and spaces. */
export function isPhone(v: string): boolean {
  const s = v.trim();
  if (!/^[+(0-9][0-9+\-(). ]*$/.test(s)) return false;
  const digits = s.replace(/\D/g, '').length;
  return digits >= 6 && digits <= 15 && s.length <= 25;
}

export const PHONE_HINT = 'With the country code, like +91 98765 43210.';

export const optionalEmail = z
  .string()
  .trim()
  .max(254, 'That email address is too long')
  .refine((v) => v === '' || z.string().email().safeParse(v).success, 'Enter a valid email address, like name@example.com');

export const optionalText = (what: string, min: number, max: number) =>
  z
    .string()
    .trim()
    .refine((v) => v === '' || v.length >= min, `${what}: at least ${min} characters`)
    .refine((v) => v.length <= max, `${what}: at most ${max} characters`);

export const requiredName = (what: string) => z.string().trim().min(1, `Enter the ${what}`).max(60, `Keep the ${what} under 60 characters`);

export const phoneField = (required: boolean) =>
  z
    .string()
    .trim()
    .refine((v) => (!required && v === '') || isPhone(v), required ? 'Enter a valid phone number, like +91 98765 43210' : 'Enter a valid phone number, like +91 98765 43210');
