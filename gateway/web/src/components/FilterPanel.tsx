// A collapsible filter panel for list pages. It edits a draft of the filters and
// hands them over on "Apply filters" (or Enter), so a half-typed date range does not
// fire requests; the applied filters live in the URL and show as removable chips
// while the panel is closed.
import { useEffect, useId, useMemo, useState, type ReactNode } from 'react';
import type { ListValues } from '../lib/listParams';
import { isAmount, isDay, splitMulti } from '../lib/listParams';
import { formatDay } from '../lib/format';
import { valueLabel } from '../lib/labels';

export type FilterDef =
  | { kind: 'multi'; key: string; label: string; options: readonly string[]; format?: (v: string) => string }
  | { kind: 'text'; key: string; label: string; placeholder?: string }
  | { kind: 'dateRange'; from: string; to: string; label: string }
  | { kind: 'numberRange'; min: string; max: string; label: string; step?: string }
  | {
      kind: 'custom';
      key: string;
      label: string;
      /** Renders the control; `id` belongs on its labelled element. */
      render: (value: string, onChange: (v: string) => void, id: string) => ReactNode;
      chip?: (value: string) => string;
    };

export function filterKeys(defs: FilterDef[]): string[] {
  return defs.flatMap((d) => (d.kind === 'dateRange' ? [d.from, d.to] : d.kind === 'numberRange' ? [d.min, d.max] : [d.key]));
}

function pick(values: ListValues, keys: string[]): ListValues {
  return Object.fromEntries(keys.map((k) => [k, values[k] ?? '']));
}

interface Chip {
  id: string;
  text: string;
  keys: string[];
}

function chipsOf(defs: FilterDef[], values: ListValues): Chip[] {
  const out: Chip[] = [];
  for (const d of defs) {
    switch (d.kind) {
      case 'multi': {
        const v = splitMulti(values[d.key]);
        if (v.length) out.push({ id: d.key, keys: [d.key], text: `${d.label}: ${v.map(d.format ?? valueLabel).join(', ')}` });
        break;
      }
      case 'text':
        if (values[d.key]) out.push({ id: d.key, keys: [d.key], text: `${d.label}: ${values[d.key]}` });
        break;
      case 'custom':
        if (values[d.key]) out.push({ id: d.key, keys: [d.key], text: `${d.label}: ${d.chip ? d.chip(values[d.key]) : values[d.key]}` });
        break;
      case 'dateRange': {
        const a = values[d.from];
        const b = values[d.to];
        if (a || b) {
          const text = a && b ? `${formatDay(a)} – ${formatDay(b)}` : a ? `from ${formatDay(a)}` : `until ${formatDay(b)}`;
          out.push({ id: d.from, keys: [d.from, d.to], text: `${d.label}: ${text}` });
        }
        break;
      }
      case 'numberRange': {
        const a = values[d.min];
        const b = values[d.max];
        if (a || b) {
          const text = a && b ? `${a} – ${b}` : a ? `at least ${a}` : `at most ${b}`;
          out.push({ id: d.min, keys: [d.min, d.max], text: `${d.label}: ${text}` });
        }
        break;
      }
    }
  }
  return out;
}

/** Errors of a draft, by key: ranges the wrong way round, malformed values. */
export function validateFilters(defs: FilterDef[], draft: ListValues): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const d of defs) {
    if (d.kind === 'dateRange') {
      const a = draft[d.from];
      const b = draft[d.to];
      if (a && !isDay(a)) errors[d.from] = 'Enter a date';
      if (b && !isDay(b)) errors[d.to] = 'Enter a date';
      if (a && b && isDay(a) && isDay(b) && b < a) errors[d.to] = 'The end must not be before the start';
    } else if (d.kind === 'numberRange') {
      const a = draft[d.min];
      const b = draft[d.max];
      if (a && !isAmount(a)) errors[d.min] = 'Enter an amount of at least 0, with up to 2 decimals';
      if (b && !isAmount(b)) errors[d.max] = 'Enter an amount of at least 0, with up to 2 decimals';
      if (a && b && isAmount(a) && isAmount(b) && Number(b) < Number(a)) errors[d.max] = 'The maximum must not be below the minimum';
    }
  }
  return errors;
}

export function FilterPanel({
  defs,
  values,
  onApply,
  title = 'Filters',
  defaultOpen = false,
}: {
  defs: FilterDef[];
  /** The applied filters (from the URL). */
  values: ListValues;
  onApply: (patch: ListValues) => void;
  title?: string;
  defaultOpen?: boolean;
}) {
  const keys = useMemo(() => filterKeys(defs), [defs]);
  const applied = pick(values, keys);
  const appliedKey = JSON.stringify(applied);
  const [open, setOpen] = useState(defaultOpen);
  const [draft, setDraft] = useState<ListValues>(applied);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const panelId = useId();
  const baseId = useId();

  // The URL changed (applied, a chip removed, back button): start over from it.
  useEffect(() => {
    setDraft(JSON.parse(appliedKey) as ListValues);
    setErrors({});
  }, [appliedKey]);

  const chips = chipsOf(defs, applied);
  const set = (key: string, v: string) => {
    setDraft((d) => ({ ...d, [key]: v }));
    if (errors[key]) setErrors((e) => ({ ...e, [key]: '' }));
  };
  const apply = () => {
    const errs = validateFilters(defs, draft);
    setErrors(errs);
    if (Object.values(errs).some(Boolean)) return;
    onApply(draft);
  };
  const clear = () => {
    const empty = Object.fromEntries(keys.map((k) => [k, '']));
    setDraft(empty);
    setErrors({});
    onApply(empty);
  };
  const dirty = JSON.stringify(draft) !== appliedKey;

  return (
    <section className="card filter-panel" aria-label={title}>
      <div className="filter-panel-head">
        <button
          type="button"
          className="btn filter-toggle"
          aria-expanded={open}
          aria-controls={panelId}
          onClick={() => setOpen((o) => !o)}
        >
          <span aria-hidden="true" className={`chevron${open ? ' chevron-open' : ''}`}>
            ▸
          </span>
          {open ? `Hide ${title.toLowerCase()}` : `Show ${title.toLowerCase()}`}
          {chips.length > 0 && <span className="count-pill">{chips.length}</span>}
        </button>
        {chips.length > 0 && (
          <ul className="chip-list" aria-label="Active filters">
            {chips.map((c) => (
              <li key={c.id} className="chip">
                <span>{c.text}</span>
                <button
                  type="button"
                  className="chip-remove"
                  aria-label={`Remove filter ${c.text}`}
                  onClick={() => onApply(Object.fromEntries(c.keys.map((k) => [k, ''])))}
                >
                  ×
                </button>
              </li>
            ))}
            <li>
              <button type="button" className="btn btn-small btn-ghost" onClick={clear}>
                Clear all
              </button>
            </li>
          </ul>
        )}
      </div>
      <div id={panelId} hidden={!open}>
        <form
          className="filter-grid"
          aria-label={title}
          noValidate
          onSubmit={(e) => {
            e.preventDefault();
            apply();
          }}
        >
          {defs.map((d, i) => {
            const id = `${baseId}-${i}`;
            switch (d.kind) {
              case 'multi': {
                const selected = splitMulti(draft[d.key]);
                return (
                  <fieldset key={d.key} className="filter-group filter-wide">
                    <legend>{d.label}</legend>
                    <div className="pill-options">
                      {d.options.map((o) => {
                        const on = selected.includes(o);
                        return (
                          <label key={o} className={`pill-option${on ? ' pill-on' : ''}`}>
                            <input
                              type="checkbox"
                              checked={on}
                              onChange={() => set(d.key, (on ? selected.filter((s) => s !== o) : [...selected, o]).join(','))}
                            />
                            <span>{(d.format ?? valueLabel)(o)}</span>
                          </label>
                        );
                      })}
                    </div>
                  </fieldset>
                );
              }
              case 'text':
                return (
                  <div key={d.key} className="field">
                    <label htmlFor={id}>{d.label}</label>
                    <input id={id} type="text" maxLength={100} placeholder={d.placeholder} value={draft[d.key] ?? ''} onChange={(e) => set(d.key, e.target.value)} />
                  </div>
                );
              case 'custom':
                return (
                  <div key={d.key} className="field">
                    <label htmlFor={id}>{d.label}</label>
                    {d.render(draft[d.key] ?? '', (v) => set(d.key, v), id)}
                  </div>
                );
              case 'dateRange':
              case 'numberRange': {
                const [a, b] = d.kind === 'dateRange' ? [d.from, d.to] : [d.min, d.max];
                const type = d.kind === 'dateRange' ? 'date' : 'number';
                const extra = d.kind === 'numberRange' ? { min: 0, step: d.step ?? '0.01', inputMode: 'decimal' as const } : {};
                const words = d.kind === 'dateRange' ? ['From', 'To'] : ['Min', 'Max'];
                return (
                  <fieldset key={a} className="filter-group">
                    <legend>{d.label}</legend>
                    <div className="range">
                      {[a, b].map((k, j) => (
                        <div key={k} className={`field${errors[k] ? ' field-invalid' : ''}`}>
                          <label htmlFor={`${id}-${j}`}>
                            <span className="sr-only">{d.label} </span>
                            {words[j]}
                          </label>
                          <input
                            id={`${id}-${j}`}
                            type={type}
                            value={draft[k] ?? ''}
                            onChange={(e) => set(k, e.target.value)}
                            aria-invalid={errors[k] ? true : undefined}
                            aria-describedby={errors[k] ? `${id}-${j}-error` : undefined}
                            {...extra}
                          />
                          {errors[k] && (
                            <div id={`${id}-${j}-error`} className="field-error">
                              {errors[k]}
                            </div>
                          )}
                        </div>
                      ))}
                    </div>
                  </fieldset>
                );
              }
            }
          })}
          <div className="filter-actions">
            <button type="submit" className="btn btn-primary">
              Apply filters
            </button>
            <button type="button" className="btn" onClick={clear}>
              Clear filters
            </button>
            {dirty && <span className="muted small">Changes not applied yet</span>}
          </div>
        </form>
      </div>
    </section>
  );
}
