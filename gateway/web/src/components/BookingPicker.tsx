// Choose a booking by typing part of its reference (or its title, destination or
// customer): an ARIA 1.2 combobox over GET /api/bookings?search= (debounced), like
// the agent and customer pickers. "Any booking" clears the choice. The chosen
// booking's reference stays in the box, and bookingLabel gives it to filter chips.
import { useQuery } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { bookingsApi } from '../api/endpoints';
import type { Booking } from '../api/types';
import { isObjectId } from '../lib/listParams';
import { useDebounced } from '../lib/useDebounced';
import { errorMessage } from './Feedback';

export const BOOKING_PICK_LIMIT = 8;
export const BOOKING_PICK_DEBOUNCE_MS = 250;

// references of the bookings seen so far, for the chips of a filter
const references = new Map<string, string>();

/** The booking's reference when known, else the end of its id. */
export function bookingLabel(id: string): string {
  return references.get(id) ?? (isObjectId(id) ? `…${id.slice(-6)}` : id);
}

function describe(b: Booking): string {
  return [b.customerName, b.tripDetails?.destination, b.tripDetails?.startDate?.slice(0, 10)].filter(Boolean).join(' · ');
}

export function BookingPicker({ id, value, onChange, anyLabel = 'Any booking' }: { id: string; value: string; onChange: (v: string, booking?: Booking) => void; anyLabel?: string }) {
  const listId = `${id}-list`;
  const [text, setText] = useState('');
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(-1);
  const typed = useRef(false);
  const search = useDebounced(text.trim(), BOOKING_PICK_DEBOUNCE_MS);

  // the chosen booking's reference (the value may come from the URL)
  const selected = useQuery({
    queryKey: ['bookings', 'one', value],
    queryFn: () => bookingsApi.get(value),
    enabled: isObjectId(value) && !references.has(value),
    staleTime: 60_000,
    retry: false,
  });
  if (selected.data) references.set(selected.data._id, selected.data.bookingReference);
  const shown = value ? bookingLabel(value) : '';
  useEffect(() => {
    if (!typed.current) setText(shown);
  }, [shown]);

  const results = useQuery({
    queryKey: ['bookings', 'pick', search],
    queryFn: async () => {
      const page = await bookingsApi.list({ search: search || undefined, limit: BOOKING_PICK_LIMIT, page: 1, sortBy: 'createdAt', sortOrder: 'desc' });
      for (const b of page.items) references.set(b._id, b.bookingReference);
      return page;
    },
    enabled: open && typed.current && search.length > 0,
    staleTime: 15_000,
    retry: false,
  });
  const found = results.data?.items ?? [];
  const choices: { id: string; label: string; note?: string; booking?: Booking }[] = [
    { id: '', label: anyLabel },
    ...found.map((b) => ({ id: b._id, label: b.bookingReference, note: describe(b), booking: b })),
  ];

  const pick = (c: (typeof choices)[number]) => {
    typed.current = false;
    setText(c.id ? c.label : '');
    setOpen(false);
    setActive(-1);
    onChange(c.id, c.booking);
  };

  const onKeyDown = (e: React.KeyboardEvent<HTMLInputElement>) => {
    if (e.key === 'ArrowDown') {
      e.preventDefault();
      setOpen(true);
      setActive((i) => Math.min(choices.length - 1, i + 1));
    } else if (e.key === 'ArrowUp') {
      e.preventDefault();
      setActive((i) => Math.max(0, i - 1));
    } else if (e.key === 'Enter' && open) {
      e.preventDefault();
      if (active >= 0 && choices[active]) pick(choices[active]);
    } else if (e.key === 'Escape' && open) {
      e.preventDefault();
      e.stopPropagation();
      setOpen(false);
    }
  };

  return (
    <div className="combobox">
      <input
        id={id}
        type="text"
        role="combobox"
        autoComplete="off"
        aria-autocomplete="list"
        aria-expanded={open}
        aria-controls={listId}
        aria-activedescendant={open && active >= 0 && choices[active] ? `${listId}-${active}` : undefined}
        placeholder={`${anyLabel} — type a booking reference`}
        value={text}
        onChange={(e) => {
          typed.current = true;
          setText(e.target.value);
          setOpen(true);
          setActive(-1);
        }}
        onFocus={() => setOpen(true)}
        onClick={() => setOpen(true)}
        onBlur={() => {
          setOpen(false);
          typed.current = false;
          setText(shown);
        }}
        onKeyDown={onKeyDown}
      />
      {open && (
        <ul id={listId} role="listbox" className="combobox-list" aria-label="Bookings">
          {choices.map((c, i) => (
            <li
              key={c.id || 'any'}
              id={`${listId}-${i}`}
              role="option"
              aria-selected={i === active || c.id === value}
              className={`combobox-option${i === active ? ' active' : ''}`}
              onMouseDown={(e) => e.preventDefault()}
              onClick={() => pick(c)}
            >
              <span className="cell-strong mono">{c.label}</span>
              {c.note && <span className="muted small">{c.note}</span>}
            </li>
          ))}
          {typed.current && !search && <li className="combobox-note">Type part of a booking reference</li>}
          {results.isFetching && <li className="combobox-note">Searching…</li>}
          {results.isError && <li className="combobox-note">{errorMessage(results.error)}</li>}
          {results.isSuccess && !results.isFetching && search && found.length === 0 && <li className="combobox-note">No booking matches “{search}”</li>}
        </ul>
      )}
    </div>
  );
}
