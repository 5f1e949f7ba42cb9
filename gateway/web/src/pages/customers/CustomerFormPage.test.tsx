import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { Route, Routes } from 'react-router-dom';
import { describe, expect, it } from 'vitest';
import { makeCustomer } from '../../test/fixtures';
import { fail, mockApi, ok, renderAs, staticAuth } from '../../test/utils';
import { CustomerFormPage } from './CustomerFormPage';

const ui = (
  <Routes>
    <Route path="/customers/new" element={<CustomerFormPage />} />
    <Route path="/customers/:id" element={<p>Customer page</p>} />
  </Routes>
);

async function fill(user: ReturnType<typeof userEvent.setup>) {
  await user.type(screen.getByLabelText('First name'), 'Asha');
  await user.type(screen.getByLabelText('Last name'), 'Rao');
  await user.type(screen.getByLabelText('Phone'), '+91 98200 22222');
}

describe('customer form duplicate warning', () => {
  it('names the possible duplicate with a link and creates anyway with force', async () => {
    const existing = { _id: '6b080aefdfe7af34aa0e6811', firstName: 'Asha', lastName: 'Rao' };
    let posts = 0;
    const api = mockApi({
      'POST /api/customers': () =>
        ++posts === 1
          ? fail(409, 'POSSIBLE_DUPLICATE', 'A customer with this phone already exists: Asha Rao', { field: 'phone', customer: existing })
          : ok(makeCustomer({ _id: '6b080aefdfe7af34aa0e6899' })),
    });
    renderAs(staticAuth('agent'), ui, '/customers/new');
    const user = userEvent.setup();
    await fill(user);
    await user.click(screen.getByRole('button', { name: 'Add customer' }));
    expect(await screen.findByText('This customer may already exist')).toBeInTheDocument();
    expect(screen.getByText(/A customer with this phone already exists/)).toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'Open Asha Rao' })).toHaveAttribute('href', `/customers/${existing._id}`);
    expect(api.called('POST', '/api/customers')[0].body).not.toHaveProperty('force');
    await user.click(screen.getByRole('button', { name: 'Create anyway' }));
    expect(await screen.findByText('Customer page')).toBeInTheDocument();
    const second = api.called('POST', '/api/customers')[1].body as Record<string, unknown>;
    expect(second).toMatchObject({ firstName: 'Asha', lastName: 'Rao', phone: '+91 98200 22222', force: true });
  });

  it("says only that another agent's customer matches when it may not be shown", async () => {
    mockApi({
      'POST /api/customers': fail(409, 'POSSIBLE_DUPLICATE', "Another agent's customer has this phone", { field: 'phone', customer: null }),
    });
    renderAs(staticAuth('agent'), ui, '/customers/new');
    const user = userEvent.setup();
    await fill(user);
    await user.click(screen.getByRole('button', { name: 'Add customer' }));
    expect(await screen.findByText("Another agent's customer has this phone")).toBeInTheDocument();
    expect(screen.queryByRole('link', { name: /^Open / })).not.toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Create anyway' })).toBeInTheDocument();
    // not shown as an error of the phone field
    expect(screen.getByLabelText('Phone')).not.toHaveAttribute('aria-invalid', 'true');
  });
});
