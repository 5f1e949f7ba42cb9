import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LazyPart } from './LazyPart';

function Hello({ name }: { name: string }) {
  return <p>Hello {name}</p>;
}

describe('LazyPart', () => {
  afterEach(() => vi.restoreAllMocks());

  it('renders the loaded part with its props', async () => {
    render(<LazyPart load={async () => ({ default: Hello })} props={{ name: 'Meera' }} what="the greeting" />);
    expect(await screen.findByText('Hello Meera')).toBeInTheDocument();
  });

  it('shows a notice instead of unmounting the page when the code cannot be fetched, and Retry loads it', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => {}); // React reports the caught error
    const load = vi
      .fn<() => Promise<{ default: typeof Hello }>>()
      .mockRejectedValueOnce(new TypeError('Failed to fetch dynamically imported module'))
      .mockResolvedValue({ default: Hello });
    render(
      <div>
        <h1>Page title</h1>
        <LazyPart load={load} props={{ name: 'again' }} what="the chart" />
      </div>,
    );
    expect(await screen.findByRole('alert')).toHaveTextContent('Could not load the chart.');
    expect(screen.getByRole('heading', { name: 'Page title' })).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: 'Retry' }));
    expect(await screen.findByText('Hello again')).toBeInTheDocument();
    expect(load).toHaveBeenCalledTimes(2);
  });
});
