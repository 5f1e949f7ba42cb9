import { act, cleanup, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AgentSelect } from '../components/AgentSelect';
import { mockApi, ok, renderAs, staticAuth } from '../test/utils';
import { resetAgentNames, useAgentDirectory } from './useAgents';

const page = (n: number) => ({ page: 1, limit: 10, totalDocs: n, totalPages: 1, hasNext: false, hasPrev: false });
const meera = { _id: '6b080adc27f9d7e0bb0c7777', firstName: 'Meera', lastName: 'Iyer', email: 'meera@sunrise.travel', role: 'agent' };
const ravi = { _id: '6b080adc27f9d7e0bb0c8888', firstName: 'Ravi', lastName: 'Kumar', email: 'ravi@sunrise.travel', role: 'senior_agent' };

function Names({ ids }: { ids: string[] }) {
  const { nameOf } = useAgentDirectory();
  return <ul>{ids.map((id) => <li key={id}>{nameOf(id)}</li>)}</ul>;
}

afterEach(() => {
  cleanup(); // unmount first: a mounted list would ask for its names again
  act(() => resetAgentNames());
});

describe('agent names', () => {
  it('names the agents a page shows with one ?ids= request (canViewAllBookings)', async () => {
    const api = mockApi({ 'GET /api/agents/directory': ok([meera, ravi], page(2)) });
    renderAs(staticAuth('senior_agent', { canViewAllBookings: true }), <Names ids={[meera._id, ravi._id, 'a1']} />);
    expect(await screen.findByText('Meera Iyer')).toBeInTheDocument();
    expect(screen.getByText('Ravi Kumar')).toBeInTheDocument();
    expect(screen.getByText('You')).toBeInTheDocument();
    const calls = api.called('GET', '/api/agents/directory');
    expect(calls).toHaveLength(1);
    expect(decodeURIComponent(calls[0].url)).toContain(`ids=${meera._id},${ravi._id}`);
    expect(api.calls.some((c) => c.path === '/api/agents')).toBe(false);
  });

  it('asks nothing without a permission that opens the directory', async () => {
    const api = mockApi({});
    renderAs(staticAuth('agent'), <Names ids={[meera._id]} />);
    expect(screen.getByText('Another agent')).toBeInTheDocument();
    await new Promise((r) => setTimeout(r, 20));
    expect(api.calls.filter((c) => c.path.startsWith('/api/agents'))).toHaveLength(0);
  });
});

describe('AgentSelect', () => {
  it('searches the directory as you type, debounced, and picks a match', async () => {
    const api = mockApi({ 'GET /api/agents/directory': (c) => ok(c.url.includes('search=rav') ? [ravi] : [], page(1)) });
    const onChange = vi.fn();
    renderAs(staticAuth('senior_agent', { canViewAllBookings: true }), <><label htmlFor="who">Agent</label><AgentSelect id="who" value="" onChange={onChange} /></>);
    const user = userEvent.setup();
    await user.type(screen.getByRole('combobox', { name: 'Agent' }), 'rav');
    await user.click(await screen.findByRole('option', { name: /Ravi Kumar/ }));
    expect(onChange).toHaveBeenLastCalledWith(ravi._id, ravi);
    const searches = api.called('GET', '/api/agents/directory').map((c) => new URL(c.url, 'http://x').searchParams.get('search'));
    expect(searches).not.toContain('r'); // debounced: not one request per key
    expect(searches).toContain('rav');
    expect(api.called('GET', '/api/agents/directory').every((c) => !c.url.includes('limit=100'))).toBe(true);
  });

  it('shows the chosen agent by name, fetched through ?ids=', async () => {
    mockApi({ 'GET /api/agents/directory': (c) => ok(c.url.includes('ids=') ? [meera] : [], page(1)) });
    renderAs(staticAuth('admin', { canViewAllAgents: true }), <><label htmlFor="who">Agent</label><AgentSelect id="who" value={meera._id} onChange={vi.fn()} /></>);
    await waitFor(() => expect(screen.getByRole('combobox', { name: 'Agent' })).toHaveValue('Meera Iyer'));
  });

  it('is a plain select of Anyone and Me without the directory', () => {
    mockApi({});
    renderAs(staticAuth('agent'), <><label htmlFor="who">Agent</label><AgentSelect id="who" value="" onChange={vi.fn()} /></>);
    const select = screen.getByRole('combobox', { name: 'Agent' });
    expect(select.tagName).toBe('SELECT');
    expect(screen.getAllByRole('option').map((o) => o.textContent)).toEqual(['Anyone', 'Me (Asha Rao)']);
  });
});
