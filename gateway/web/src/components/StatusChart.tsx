// A bar chart of counts by status (recharts). Loaded on demand: recharts is large.
import { Bar, BarChart, CartesianGrid, Cell, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';

const COLOURS: Record<string, string> = {
  pending: '#c27c0e',
  confirmed: '#1f4fd1',
  in_progress: '#5b7fe0',
  completed: '#1a7f4b',
  cancelled: '#b42318',
  refunded: '#8a94a6',
};

export default function StatusChart({ data }: { data: { status: string; label: string; count: number }[] }) {
  return (
    <div className="chart-box" aria-hidden="true">
      <ResponsiveContainer width="100%" height={220}>
        <BarChart data={data} margin={{ top: 8, right: 8, left: -16, bottom: 0 }}>
          <CartesianGrid strokeDasharray="3 3" vertical={false} stroke="#e6e9ef" />
          <XAxis dataKey="label" tick={{ fontSize: 12 }} interval={0} />
          <YAxis allowDecimals={false} tick={{ fontSize: 12 }} />
          <Tooltip cursor={{ fill: 'rgba(31,79,209,0.06)' }} />
          <Bar dataKey="count" name="Bookings" radius={[4, 4, 0, 0]} isAnimationActive={false}>
            {data.map((d) => (
              <Cell key={d.status} fill={COLOURS[d.status] ?? '#1f4fd1'} />
            ))}
          </Bar>
        </BarChart>
      </ResponsiveContainer>
    </div>
  );
}
