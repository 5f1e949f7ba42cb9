// Choose an agent: "Anyone" (anyLabel), "Me" and, for those who may read the agent
// directory, any active agent found by typing part of a name or email (an ARIA 1.2
// combobox over GET /api/agents/directory?search=, debounced). Without the directory
// a plain <select> of the first two.
import { useEffect, useRef, useState } from 'react';
import type { DirectoryAgent } from '../api/types';
import { fullName } from '../lib/format';
import { useAgentDirectory, useAgentSearch } from '../lib/useAgents';
import { errorMessage } from './Feedback';

interface Choice {
  id: string;
  label: string;
  note?: string;
}

export function AgentSelect({
  id,
  value,
  onChange,
  anyLabel = 'Anyone',
}: {
  id: string;
  value: string;
  onChange: (v: string, agent?: DirectoryAgent) => void;
  anyLabel?: string;
}) {
  const { me, canList, agentOf } = useAgentDirectory();
  if (!canList) {
    return (
      <select id={id} value={value} onChange={(e) => onChange(e.target.value)}>
        <option value="">{anyLabel}</option>
        {me && <option value={me._id}>Me ({fullName(me)})</option>}
        {value && value !== me?._id && <option value={value}>Agent {value.slice(-6)}</option>}
      </select>
    );
  }
  return <AgentSearch id={id} value={value} onChange={onChange} anyLabel={anyLabel} labelOf={(v) => (v === me?._id ? `Me (${fullName(me)})` : agentOf(v) ? fullName(agentOf(v)!) : `Agent ${v.slice(-6)}`)} />;
}

function AgentSearch({
  id,
  value,
  onChange,
  anyLabel,
  labelOf,
}: {
  id: string;
  value: string;
  onChange: (v: string, agent?: DirectoryAgent) => void;
  anyLabel: string;
  labelOf: (v: string) => string;
}) {
  const { me } = useAgentDirectory();
  const listId = `${id}-list`;
  const [text, setText] = useState(value ? labelOf(value) : '');
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(-1);
  const typed = useRef(false);
  const shown = value ? labelOf(value) : '';
  // the chosen agent's name once known (it may come from ?ids=), unless being typed over
  useEffect(() => {
    if (!typed.current) setText(shown);
  }, [shown]);
  const results = useAgentSearch(typed.current ? text : '', open);
  const found = (results.data ?? []).filter((a) => a._id !== me?._id);
  const choices: Choice[] = [
    { id: '', label: anyLabel },
    ...(me ? [{ id: me._id, label: `Me (${fullName(me)})` }] : []),
    ...found.map((a) => ({ id: a._id, label: fullName(a), note: a.email })),
  ];

  const pick = (c: Choice) => {
    typed.current = false;
    setText(c.id ? c.label : '');
    setOpen(false);
    setActive(-1);
    onChange(c.id, found.find((a) => a._id === c.id));
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
        placeholder={`${anyLabel} — type a name or email`}
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
        <ul id={listId} role="listbox" className="combobox-list" aria-label="Agents">
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
              <span className="cell-strong">{c.label}</span>
              {c.note && <span className="muted small">{c.note}</span>}
            </li>
          ))}
          {results.isFetching && <li className="combobox-note">Searching…</li>}
          {results.isError && <li className="combobox-note">{errorMessage(results.error)}</li>}
          {results.isSuccess && !results.isFetching && results.search && found.length === 0 && (
            <li className="combobox-note">No agent matches “{results.search}”</li>
          )}
        </ul>
      )}
    </div>
  );
}
