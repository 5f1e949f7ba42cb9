// List pages keep their filters, sort and page in the URL's query string, under the
// API's own parameter names, so a filtered view can be bookmarked, shared and
// reloaded, and the query string maps one to one onto the list request. Values the
// API would refuse (an unknown status, a malformed date) are dropped when read, so
// a hand-edited URL degrades to a wider list instead of an error.
import { useCallback, useMemo } from 'react';
import { useLocation, useNavigate } from 'react-router-dom';
import type { ListQuery } from '../api/types';

export type ParamSpec =
  | { kind: 'text'; max?: number }
  /** Comma-separated values of an enumeration (the API's `status=a,b`). */
  | { kind: 'multi'; values: readonly string[] }
  | { kind: 'enum'; values: readonly string[] }
  /** A calendar day, YYYY-MM-DD. */
  | { kind: 'date' }
  /** A non-negative decimal. */
  | { kind: 'number' }
  /** A 24-hex record id. */
  | { kind: 'id' }
  | { kind: 'page' }
  | { kind: 'limit'; values: readonly number[] };

export type ListSpec = Record<string, ParamSpec>;
export type ListValues = Record<string, string>;

export const PAGE_SIZES = [10, 20, 50, 100] as const;
export const DEFAULT_LIMIT = 20;

const DAY = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;
const OBJECT_ID = /^[0-9a-fA-F]{24}$/;
const NUMBER = /^\d+(\.\d{1,2})?$/;

export const isDay = (v: string): boolean => DAY.test(v) && !Number.isNaN(Date.parse(`${v}T00:00:00Z`));
export const isObjectId = (v: string): boolean => OBJECT_ID.test(v);
export const isAmount = (v: string): boolean => NUMBER.test(v) && Number(v) <= 1e10;

/** Splits "a,b" into ["a", "b"] (empty entries dropped). */
export function splitMulti(v: string | undefined | null): string[] {
  return (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** A value as the spec allows it, or '' when it does not. */
export function cleanValue(spec: ParamSpec, raw: string | null | undefined): string {
  const v = (raw ?? '').trim();
  if (!v) return '';
  switch (spec.kind) {
    case 'text':
      return v.slice(0, spec.max ?? 100);
    case 'multi': {
      const seen = new Set<string>();
      for (const s of splitMulti(v)) if (spec.values.includes(s)) seen.add(s);
      // keep the enumeration's order: one URL per selection
      return spec.values.filter((s) => seen.has(s)).join(',');
    }
    case 'enum':
      return spec.values.includes(v) ? v : '';
    case 'date':
      return isDay(v) ? v : '';
    case 'number':
      return isAmount(v) ? String(Number(v)) : '';
    case 'id':
      return isObjectId(v) ? v.toLowerCase() : '';
    case 'page': {
      const n = Number(v);
      return Number.isInteger(n) && n > 1 && n <= 1_000_000 ? String(n) : '';
    }
    case 'limit': {
      const n = Number(v);
      return spec.values.includes(n) ? String(n) : '';
    }
  }
}

/** Reads the spec's parameters from a query string ('' for absent or invalid). */
export function readListParams(spec: ListSpec, params: URLSearchParams): ListValues {
  const out: ListValues = {};
  for (const [key, s] of Object.entries(spec)) out[key] = cleanValue(s, params.get(key));
  return out;
}

/** The list request's query: the non-empty values, page and limit as numbers. */
export function toApiQuery(values: ListValues, defaultLimit = DEFAULT_LIMIT): ListQuery {
  const q: ListQuery = {};
  for (const [k, v] of Object.entries(values)) if (v) q[k] = v;
  q.page = Number(values.page) || 1;
  q.limit = Number(values.limit) || defaultLimit;
  return q;
}

export interface ListParams {
  /** Every parameter of the spec, '' when not set. */
  values: ListValues;
  /** The API query for these values. */
  query: ListQuery;
  /** Sets (or with '' removes) parameters; any change but `page` goes back to page 1. */
  set: (patch: ListValues, opts?: { replace?: boolean }) => void;
  /** Removes every filter (keeps sort and page size). */
  clearFilters: (filterKeys: string[]) => void;
}

/** "?status=pending,confirmed&…": the query string with its commas left readable
 * (URLSearchParams writes %2C; both mean the same to the API and the browser). */
export function searchString(params: URLSearchParams): string {
  const qs = params.toString().replace(/%2C/gi, ',');
  return qs ? `?${qs}` : '';
}

/** The list state of a page, kept in the URL. */
export function useListParams(spec: ListSpec, defaultLimit = DEFAULT_LIMIT): ListParams {
  const location = useLocation();
  const navigate = useNavigate();
  const key = location.search;
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const values = useMemo(() => readListParams(spec, new URLSearchParams(key)), [key]);
  const query = useMemo(() => toApiQuery(values, defaultLimit), [values, defaultLimit]);

  const set = useCallback(
    (patch: ListValues, opts?: { replace?: boolean }) => {
      const next = new URLSearchParams(key);
      for (const [k, raw] of Object.entries(patch)) {
        const v = spec[k] ? cleanValue(spec[k], raw) : raw;
        if (v) next.set(k, v);
        else next.delete(k);
      }
      if (!('page' in patch)) next.delete('page');
      navigate({ search: searchString(next) }, { replace: opts?.replace ?? false });
    },
    [key, navigate, spec],
  );

  const clearFilters = useCallback(
    (filterKeys: string[]) => set(Object.fromEntries(filterKeys.map((k) => [k, '']))),
    [set],
  );

  return { values, query, set, clearFilters };
}
