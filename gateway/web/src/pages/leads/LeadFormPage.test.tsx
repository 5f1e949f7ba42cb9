import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { Route, Routes } from 'react-router-dom';
import { describe, expect, it } from 'vitest';
import { makeLead } from '../../test/fixtures';
import { mockApi, ok, renderAs, staticAuth } from '../../test/utils';
import { LeadFormPage } from './LeadFormPage';

const ui = (
  <Routes>
    <Route path="/leads/new" element={<LeadFormPage />} />
    <Route path="/leads/:id" element={<p>Lead page</p>} />
  </Routes>
);
const agent = staticAuth('agent');

async function fillWho(user: ReturnType<typeof userEvent.setup>) {
  await user.type(screen.getByLabelText('First name'), 'Asha');
  await user.type(screen.getByLabelText('Last name'), 'Rao');
  await user.type(screen.getByLabelText('Phone'), '+91 98200 22222');
}

describe('lead form budget', () => {
  it('records a lead without a budget although a currency is pre-filled', async () => {
    const lead = makeLead();
    const api = mockApi({ 'POST /api/leads': ok(lead) });
    renderAs(agent, ui, '/leads/new');
    const user = userEvent.setup();
    expect(screen.getByLabelText('Budget currency')).toHaveValue('INR');
    await fillWho(user);
    await user.click(screen.getByRole('button', { name: 'Record lead' }));
    expect(await screen.findByText('Lead page')).toBeInTheDocument();
    const body = api.called('POST', '/api/leads')[0].body as Record<string, unknown>;
    expect(body).not.toHaveProperty('budget');
    expect(screen.queryByText('Give the budget amount')).not.toBeInTheDocument();
  });

  it('sends the budget with its currency when an amount is given, and checks the currency then', async () => {
    const api = mockApi({ 'POST /api/leads': ok(makeLead()) });
    renderAs(agent, ui, '/leads/new');
    const user = userEvent.setup();
    await fillWho(user);
    await user.type(screen.getByLabelText('Budget'), '250000');
    await user.clear(screen.getByLabelText('Budget currency'));
    await user.type(screen.getByLabelText('Budget currency'), 'R$');
    await user.click(screen.getByRole('button', { name: 'Record lead' }));
    expect(await screen.findByText('Use a 3-letter ISO 4217 code such as INR')).toBeInTheDocument();
    expect(api.called('POST', '/api/leads')).toHaveLength(0);
    await user.clear(screen.getByLabelText('Budget currency'));
    await user.type(screen.getByLabelText('Budget currency'), 'EUR');
    await user.click(screen.getByRole('button', { name: 'Record lead' }));
    await waitFor(() => expect(api.called('POST', '/api/leads')).toHaveLength(1));
    expect(api.called('POST', '/api/leads')[0].body).toMatchObject({ budget: { amount: 250000, currency: 'EUR' } });
  });
});
