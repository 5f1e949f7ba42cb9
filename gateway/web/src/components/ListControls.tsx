// The search box, sort and page-size controls of a list page. They read and write
// the list state that lives in the URL (lib/listParams).
import { useEffect, useRef, useState } from 'react';
import { PAGE_SIZES } from '../lib/listParams';
import { SORT_LABELS } from '../lib/labels';
import { useDebounced } from '../lib/useDebounced';
import { SelectField, TextField } from './Form';

/** A search field that reports its text 300 ms after typing stops. */
export function SearchBox({
  value,
  onSearch,
  label = 'Search',
  placeholder,
  className,
}: {
  value: string;
  onSearch: (text: string) => void;
  label?: string;
  placeholder?: string;
  className?: string;
}) {
  const [text, setText] = useState(value);
  const debounced = useDebounced(text, 300);
  const last = useRef(value);
  // A change from outside (clear filters, back button) replaces the text.
  useEffect(() => {
    if (value !== last.current) {
      last.current = value;
      setText(value);
    }
  }, [value]);
  useEffect(() => {
    const v = debounced.trim();
    if (v !== last.current) {
      last.current = v;
      onSearch(v);
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [debounced]);
  return (
    <TextField
      label={label}
      type="search"
      placeholder={placeholder}
      value={text}
      maxLength={100}
      onChange={(e) => setText(e.target.value)}
      onKeyDown={(e) => {
        if (e.key === 'Enter') {
          e.preventDefault();
          const v = text.trim();
          if (v !== last.current) {
            last.current = v;
            onSearch(v);
          }
        }
      }}
      className={className ?? 'filter-search'}
    />
  );
}

/** Sort field and direction; '' means the API's default (newest first). */
export function SortControl({
  sorts,
  sortBy,
  sortOrder,
  onChange,
  defaultLabel = 'Newest first',
}: {
  sorts: readonly string[];
  sortBy: string;
  sortOrder: string;
  onChange: (patch: { sortBy: string; sortOrder: string }) => void;
  defaultLabel?: string;
}) {
  return (
    <>
      <SelectField label="Sort by" value={sortBy} onChange={(e) => onChange({ sortBy: e.target.value, sortOrder: e.target.value ? sortOrder : '' })}>
        <option value="">{defaultLabel}</option>
        {sorts.map((s) => (
          <option key={s} value={s}>
            {SORT_LABELS[s] ?? s}
          </option>
        ))}
      </SelectField>
      <SelectField label="Order" value={sortOrder || 'desc'} onChange={(e) => onChange({ sortBy: sortBy || 'createdAt', sortOrder: e.target.value })}>
        <option value="desc">Descending</option>
        <option value="asc">Ascending</option>
      </SelectField>
    </>
  );
}

export function PageSizeSelect({ value, onChange }: { value: string; onChange: (v: string) => void }) {
  return (
    <SelectField label="Per page" value={value || '20'} onChange={(e) => onChange(e.target.value === '20' ? '' : e.target.value)}>
      {PAGE_SIZES.map((n) => (
        <option key={n} value={String(n)}>
          {n}
        </option>
      ))}
    </SelectField>
  );
}
