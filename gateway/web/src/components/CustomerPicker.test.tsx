import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { makeCustomer } from '../test/fixtures';
import { mockApi, ok, renderAs, staticAuth } from '../test/utils';
import { CustomerPicker } from './CustomerPicker';

const page = { page: 1, limit: 8, totalDocs: 2, totalPages: 1, hasNext: false, hasPrev: false };

describe('CustomerPicker', () => {
  it('searches as you type and picks with the keyboard', async () => {
    const anil = makeCustomer();
    const asha = makeCustomer({ _id: '6b080aefdfe7af34aa0e6811', firstName: 'Asha', lastName: 'Sharma', email: 'asha@example.com' });
    const api = mockApi({ 'GET /api/customers': ok([anil, asha], page) });
    const onChange = vi.fn();
    renderAs(staticAuth('agent'), <CustomerPicker label="Customer" value="" onChange={onChange} />);
    const user = userEvent.setup();
    const box = screen.getByRole('combobox', { name: 'Customer' });
    await user.type(box, 'shar');
    await screen.findByRole('option', { name: /Asha Sharma/ });
    await waitFor(() => expect(api.calls.some((c) => c.url.includes('search=shar'))).toBe(true));
    await user.keyboard('{ArrowDown}{ArrowDown}');
    expect(box).toHaveAttribute('aria-activedescendant', expect.stringContaining('-1'));
    await user.keyboard('{Enter}');
    expect(onChange).toHaveBeenLastCalledWith(asha._id, asha);
    expect(box).toHaveValue('Asha Sharma');
    expect(screen.queryByRole('listbox')).not.toBeInTheDocument();
  });

  it('closes on Escape and says when nothing matches', async () => {
    mockApi({ 'GET /api/customers': ok([], { ...page, totalDocs: 0, totalPages: 0 }) });
    renderAs(staticAuth('agent'), <CustomerPicker label="Customer" value="" onChange={vi.fn()} />);
    const user = userEvent.setup();
    await user.type(screen.getByRole('combobox', { name: 'Customer' }), 'zzz');
    expect(await screen.findByText('No customer matches “zzz”')).toBeInTheDocument();
    await user.keyboard('{Escape}');
    expect(screen.queryByRole('listbox')).not.toBeInTheDocument();
  });
});
