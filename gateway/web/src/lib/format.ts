/** "3d 4h", "2h 5m", "4m 10s", "12s" for a number of seconds. */
export function formatUptime(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '—';
  const s = Math.floor(seconds);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m ${sec}s`;
  return `${sec}s`;
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const dateOnly = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });
const timeOnly = new Intl.DateTimeFormat(undefined, { timeStyle: 'medium' });

function toDate(v: string | number | Date | null | undefined): Date | null {
  if (v === null || v === undefined || v === '') return null;
  const d = v instanceof Date ? v : new Date(v);
  return Number.isNaN(d.getTime()) ? null : d;
}

export function formatDateTime(v: string | number | Date | null | undefined): string {
  const d = toDate(v);
  return d ? dateTime.format(d) : '—';
}

export function formatDate(v: string | number | Date | null | undefined): string {
  const d = toDate(v);
  return d ? dateOnly.format(d) : '—';
}

export function formatTime(v: string | number | Date | null | undefined): string {
  const d = toDate(v);
  return d ? timeOnly.format(d) : '—';
}

export function fullName(a: { firstName?: string; lastName?: string; email?: string }): string {
  const n = `${a.firstName ?? ''} ${a.lastName ?? ''}`.trim();
  return n || a.email || 'Unknown';
}

// Trip and birth dates are calendar days stored as midnight UTC: format them in UTC
// so a viewer west of Greenwich does not see the day before.
const dayUtc = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeZone: 'UTC' });
const dayShortUtc = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', timeZone: 'UTC' });
const weekdayUtc = new Intl.DateTimeFormat(undefined, { weekday: 'short', day: 'numeric', month: 'short', timeZone: 'UTC' });

/** "10 Dec 2026" for a calendar day ("2026-12-10" or "2026-12-10T00:00:00.000Z"). */
export function formatDay(v: string | null | undefined): string {
  const d = toDate(v && v.length === 10 ? `${v}T00:00:00Z` : v);
  return d ? dayUtc.format(d) : '—';
}

/** "Thu, 10 Dec" for a calendar day. */
export function formatWeekday(v: string | null | undefined): string {
  const d = toDate(v && v.length === 10 ? `${v}T00:00:00Z` : v);
  return d ? weekdayUtc.format(d) : '—';
}

/** "10 Dec – 15 Dec 2026" (or "10 Dec 2026 – 2 Jan 2027" across years). */
export function formatDayRange(from: string | null | undefined, to: string | null | undefined): string {
  const a = toDate(from);
  const b = toDate(to);
  if (!a || !b) return `${formatDay(from)} – ${formatDay(to)}`;
  if (a.getUTCFullYear() === b.getUTCFullYear()) return `${dayShortUtc.format(a)} – ${dayUtc.format(b)}`;
  return `${dayUtc.format(a)} – ${dayUtc.format(b)}`;
}

/** "2026-12-10" from an ISO date-time (the UTC calendar day), '' when absent. */
export function isoDay(v: string | null | undefined): string {
  return typeof v === 'string' && /^\d{4}-\d{2}-\d{2}/.test(v) ? v.slice(0, 10) : '';
}

/** The calendar day n days after a "YYYY-MM-DD" day. */
export function addDays(day: string, n: number): string {
  const d = new Date(`${day}T00:00:00Z`);
  if (Number.isNaN(d.getTime())) return '';
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

/** Whole days from one "YYYY-MM-DD" to another, counting both (10th–12th is 3). */
export function dayCount(from: string, to: string): number {
  const a = Date.parse(`${from}T00:00:00Z`);
  const b = Date.parse(`${to}T00:00:00Z`);
  if (Number.isNaN(a) || Number.isNaN(b)) return 0;
  return Math.round((b - a) / 86_400_000) + 1;
}

/** "₹50,000.00" for an amount in a currency; a plain number when the code is unknown. */
export function formatMoney(amount: number | null | undefined, currency: string | null | undefined): string {
  if (amount === null || amount === undefined || !Number.isFinite(amount)) return '—';
  try {
    return new Intl.NumberFormat(undefined, { style: 'currency', currency: currency || 'INR' }).format(amount);
  } catch {
    return `${amount.toFixed(2)} ${currency ?? ''}`.trim();
  }
}

export function formatCount(n: number): string {
  return new Intl.NumberFormat().format(n);
}
