import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { Route, Routes } from 'react-router-dom';
import { describe, expect, it } from 'vitest';
import { makeCustomer, makeLead } from '../../test/fixtures';
import { fail, mockApi, ok, renderAs, staticAuth } from '../../test/utils';
import { ConvertLeadPage } from './ConvertLeadPage';

describe('lead conversion duplicate warning', () => {
  it('names the existing customer and converts anyway with force', async () => {
    const lead = makeLead();
    const existing = { _id: '6b080aefdfe7af34aa0e6811', firstName: 'Ravi', lastName: 'Menon' };
    let posts = 0;
    const api = mockApi({
      [`GET /api/leads/${lead._id}`]: ok(lead),
      [`POST /api/leads/${lead._id}/convert`]: () =>
        ++posts === 1
          ? fail(409, 'POSSIBLE_DUPLICATE', 'A customer with this phone already exists: Ravi Menon', { field: 'phone', customer: existing })
          : ok({ lead: { ...lead, status: 'converted' }, customer: makeCustomer({ _id: '6b080aefdfe7af34aa0e6899' }), booking: null }),
    });
    renderAs(
      staticAuth('agent'),
      <Routes>
        <Route path="/leads/:id/convert" element={<ConvertLeadPage />} />
        <Route path="/customers/:id" element={<p>Customer page</p>} />
      </Routes>,
      `/leads/${lead._id}/convert`,
    );
    const user = userEvent.setup();
    const submit = await screen.findByRole('button', { name: /^Convert/ });
    await user.click(submit);
    expect(await screen.findByText('This customer may already exist')).toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'Open Ravi Menon' })).toHaveAttribute('href', `/customers/${existing._id}`);
    await user.click(screen.getByRole('button', { name: 'Create a new customer anyway' }));
    expect(await screen.findByText('Customer page')).toBeInTheDocument();
    const bodies = api.called('POST', `/api/leads/${lead._id}/convert`).map((c) => c.body as Record<string, unknown>);
    expect(bodies[0]).not.toHaveProperty('force');
    expect(bodies[1]).toMatchObject({ force: true, customer: { phone: lead.contactInfo!.phone } });
  });
});
