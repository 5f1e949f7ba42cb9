// Choose a customer by typing part of a name, email, phone or city: an ARIA 1.2
// combobox over GET /api/customers?search=. Arrow keys move, Enter picks, Escape
// closes; the chosen customer's name stays in the box.
import { useQuery } from '@tanstack/react-query';
import { forwardRef, useEffect, useId, useRef, useState, type ReactNode } from 'react';
import { customersApi } from '../api/endpoints';
import type { Customer } from '../api/types';
import { fullName } from '../lib/format';
import { useDebounced } from '../lib/useDebounced';
import { errorMessage } from './Feedback';

export interface CustomerPickerProps {
  value: string;
  onChange: (id: string, customer?: Customer) => void;
  onBlur?: () => void;
  /** With a label the picker renders its own field; without, `id` names the input. */
  label?: string;
  id?: string;
  error?: string;
  hint?: ReactNode;
  placeholder?: string;
}

function describe(c: Customer): string {
  return [c.email, c.phone, c.city].filter(Boolean).join(' · ');
}

export const CustomerPicker = forwardRef<HTMLInputElement, CustomerPickerProps>(function CustomerPicker(
  { value, onChange, onBlur, label, id, error, hint, placeholder = 'Type a name, email or phone' },
  ref,
) {
  const autoId = useId();
  const inputId = id ?? autoId;
  const listId = `${inputId}-list`;
  const hintId = hint ? `${inputId}-hint` : undefined;
  const errorId = error ? `${inputId}-error` : undefined;
  const [text, setText] = useState('');
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(-1);
  const chosen = useRef<Customer | null>(null);
  const search = useDebounced(text.trim(), 250);

  // The selected customer (for its name when the value comes from outside).
  const selected = useQuery({
    queryKey: ['customers', 'one', value],
    queryFn: () => customersApi.get(value),
    enabled: Boolean(value) && chosen.current?._id !== value,
    staleTime: 60_000,
    retry: false,
  });
  const shownName = useRef('');
  useEffect(() => {
    if (!value) {
      chosen.current = null;
      // cleared from outside (not by typing): empty the box too
      setText((t) => (t === shownName.current ? '' : t));
      shownName.current = '';
      return;
    }
    const c = chosen.current?._id === value ? chosen.current : selected.data;
    if (c) {
      shownName.current = fullName(c);
      setText(shownName.current);
    }
  }, [value, selected.data]);

  const results = useQuery({
    queryKey: ['customers', 'pick', search],
    queryFn: () => customersApi.list({ search: search || undefined, limit: 8, page: 1, sortBy: search ? 'name' : 'updatedAt', sortOrder: search ? 'asc' : 'desc' }),
    enabled: open,
    staleTime: 15_000,
    retry: false,
  });
  const items = results.data?.items ?? [];

  const pick = (c: Customer) => {
    chosen.current = c;
    setText(fullName(c));
    setOpen(false);
    setActive(-1);
    onChange(c._id, c);
  };

  const onKeyDown = (e: React.KeyboardEvent<HTMLInputElement>) => {
    if (e.key === 'ArrowDown') {
      e.preventDefault();
      setOpen(true);
      setActive((i) => Math.min(items.length - 1, i + 1));
    } else if (e.key === 'ArrowUp') {
      e.preventDefault();
      setActive((i) => Math.max(0, i - 1));
    } else if (e.key === 'Enter') {
      if (open && active >= 0 && items[active]) {
        e.preventDefault();
        pick(items[active]);
      } else if (open) {
        e.preventDefault();
      }
    } else if (e.key === 'Escape') {
      if (open) {
        e.preventDefault();
        e.stopPropagation();
        setOpen(false);
      }
    }
  };

  const input = (
    <div className="combobox">
      <input
        ref={ref}
        id={inputId}
        type="text"
        role="combobox"
        autoComplete="off"
        aria-autocomplete="list"
        aria-expanded={open}
        aria-controls={listId}
        aria-activedescendant={open && active >= 0 && items[active] ? `${listId}-${active}` : undefined}
        aria-invalid={error ? true : undefined}
        aria-describedby={[hintId, errorId].filter(Boolean).join(' ') || undefined}
        placeholder={placeholder}
        value={text}
        onChange={(e) => {
          shownName.current = '';
          setText(e.target.value);
          setOpen(true);
          setActive(-1);
          if (value) {
            chosen.current = null;
            onChange('');
          }
        }}
        onFocus={() => setOpen(true)}
        onClick={() => setOpen(true)}
        onBlur={() => {
          setOpen(false);
          onBlur?.();
        }}
        onKeyDown={onKeyDown}
      />
      {open && (
        <ul id={listId} role="listbox" className="combobox-list" aria-label="Customers">
          {results.isPending && <li className="combobox-note">Searching…</li>}
          {results.isError && <li className="combobox-note">{errorMessage(results.error)}</li>}
          {results.isSuccess && items.length === 0 && (
            <li className="combobox-note">{search ? `No customer matches “${search}”` : 'No customers yet'}</li>
          )}
          {items.map((c, i) => (
            <li
              key={c._id}
              id={`${listId}-${i}`}
              role="option"
              aria-selected={i === active || c._id === value}
              className={`combobox-option${i === active ? ' active' : ''}`}
              onMouseDown={(e) => e.preventDefault()}
              onClick={() => pick(c)}
            >
              <span className="cell-strong">{fullName(c)}</span>
              <span className="muted small">{describe(c)}</span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );

  if (!label) return input;
  return (
    <div className={`field${error ? ' field-invalid' : ''}`}>
      <label htmlFor={inputId}>{label}</label>
      {input}
      {hint && (
        <div id={hintId} className="field-hint">
          {hint}
        </div>
      )}
      {error && (
        <div id={errorId} className="field-error">
          {error}
        </div>
      )}
    </div>
  );
});
