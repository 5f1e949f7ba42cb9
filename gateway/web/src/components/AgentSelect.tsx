// A <select> of agents: "Anyone", "Me" and, with canViewAllAgents, every active agent.
import { fullName } from '../lib/format';
import { useAgentDirectory } from '../lib/useAgents';

export function AgentSelect({
  id,
  value,
  onChange,
  anyLabel = 'Anyone',
}: {
  id: string;
  value: string;
  onChange: (v: string) => void;
  anyLabel?: string;
}) {
  const { me, agents } = useAgentDirectory();
  const others = agents.filter((a) => a._id !== me?._id);
  const known = !value || value === me?._id || others.some((a) => a._id === value);
  return (
    <select id={id} value={value} onChange={(e) => onChange(e.target.value)}>
      <option value="">{anyLabel}</option>
      {me && <option value={me._id}>Me ({fullName(me)})</option>}
      {!known && <option value={value}>Agent {value.slice(-6)}</option>}
      {others.map((a) => (
        <option key={a._id} value={a._id}>
          {fullName(a)} · {a.email}
        </option>
      ))}
    </select>
  );
}
