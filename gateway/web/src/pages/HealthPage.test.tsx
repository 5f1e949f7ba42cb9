import { screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import type { Health, ServiceHealth } from '../api/types';
import { fail, mockApi, ok, renderAs, staticAuth } from '../test/utils';
import { HealthPage } from './HealthPage';
import { ServiceCard } from './ServiceCard';

const up = (over: Partial<ServiceHealth> = {}): ServiceHealth => ({
  status: 'up',
  instances: 1,
  connected: 1,
  uptime: 3725,
  version: '0.1.0',
  mongodb: 'up',
  redis: 'up',
  pids: [4242],
  ...over,
});

const health: Health = {
  status: 'degraded',
  time: '2026-02-14T10:00:00.000Z',
  gateway: { status: 'up', version: '0.1.0', uptime: 90061 },
  registry: { status: 'up', uptime: 90000 },
  services: {
    auth: up(),
    booking: up({ status: 'degraded', mongodb: 'down' }),
    payment: up({ status: 'down', instances: 0, connected: 0, uptime: 0, version: null, mongodb: 'unknown', redis: 'unknown', pids: [] }),
    notification: up({ redis: 'unused', instances: 2, connected: 2, pids: [1, 2] }),
    analytics: up(),
  },
};

describe('ServiceCard', () => {
  it('renders status, instances, uptime and dependency states', () => {
    renderAs(staticAuth('admin'), <ServiceCard name="booking" health={up({ status: 'degraded', mongodb: 'down' })} />);
    const card = screen.getByRole('article', { name: 'Booking' });
    expect(card).toHaveAttribute('data-status', 'degraded');
    expect(within(card).getByText('Degraded')).toBeInTheDocument();
    expect(within(card).getByText('1 running')).toBeInTheDocument();
    expect(within(card).getByText('1h 2m')).toBeInTheDocument();
    expect(within(card).getByText('Unreachable')).toBeInTheDocument(); // MongoDB down
    expect(within(card).getByText('Connected')).toBeInTheDocument(); // Redis up
  });

  it('renders a missing service as down', () => {
    renderAs(staticAuth('admin'), <ServiceCard name="payment" health={undefined} />);
    const card = screen.getByRole('article', { name: 'Payment' });
    expect(within(card).getByText('Down')).toBeInTheDocument();
    expect(within(card).getByText('0 running')).toBeInTheDocument();
  });
});

describe('HealthPage', () => {
  it('shows one card per service with its status', async () => {
    mockApi({ 'GET /api/health': ok(health) });
    renderAs(staticAuth('admin'), <HealthPage />);
    expect(await screen.findByText('Some services need attention')).toBeInTheDocument();
    const cards = screen.getAllByTestId('service-card');
    expect(cards.map((c) => c.getAttribute('data-service'))).toEqual(['auth', 'booking', 'payment', 'notification', 'analytics']);
    expect(cards.map((c) => c.getAttribute('data-status'))).toEqual(['up', 'degraded', 'down', 'up', 'up']);
    expect(screen.getByText('3 of 5 services up')).toBeInTheDocument();
    expect(within(cards[3]).getByText('Not used')).toBeInTheDocument();
    expect(within(cards[3]).getByText('2 running')).toBeInTheDocument();
    expect(screen.getByText(/v0\.1\.0 · up 1d 1h/)).toBeInTheDocument();
  });

  it('says all systems are operational when every service is up', async () => {
    mockApi({
      'GET /api/health': ok({
        ...health,
        status: 'ok',
        services: { auth: up(), booking: up(), payment: up(), notification: up(), analytics: up() },
      }),
    });
    renderAs(staticAuth('admin'), <HealthPage />);
    expect(await screen.findByText('All systems operational')).toBeInTheDocument();
    expect(screen.getByText('5 of 5 services up')).toBeInTheDocument();
  });

  it('shows an error state when health cannot be loaded', async () => {
    mockApi({ 'GET /api/health': fail(504, 'SERVICE_TIMEOUT', 'The registry did not answer in time') });
    renderAs(staticAuth('admin'), <HealthPage />);
    expect(await screen.findByTestId('service-banner')).toHaveTextContent('not answering in time');
    expect(screen.queryByTestId('service-card')).not.toBeInTheDocument();
  });
});
