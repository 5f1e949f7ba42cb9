// Records as the booking service answers them, for component tests.
import type { Booking, Customer, Lead } from '../api/types';

export function makeBooking(over: Partial<Booking> = {}): Booking {
  return {
    _id: '6b080aefdfe7af34aa0e68d2',
    bookingReference: 'TD-261126-JCFN1',
    customer: '6b080aefdfe7af34aa0e68d1',
    customerName: 'Anil Sharma',
    agent: 'a1',
    tripDetails: {
      title: 'Goa getaway',
      destination: 'Goa',
      startDate: '2026-12-10T00:00:00.000Z',
      endDate: '2026-12-15T00:00:00.000Z',
      tripType: 'leisure',
      travellers: { adults: 2, children: 0, infants: 0 },
    },
    pricing: { totalAmount: 50000, currency: 'INR', taxAmount: 0, discount: 0 },
    priority: 'medium',
    status: 'pending',
    paymentStatus: 'unpaid',
    createdAt: '2026-11-26T10:33:19.591Z',
    updatedAt: '2026-11-26T10:33:19.591Z',
    version: 1,
    ...over,
  };
}

export function makeCustomer(over: Partial<Customer> = {}): Customer {
  return {
    _id: '6b080aefdfe7af34aa0e68d1',
    firstName: 'Anil',
    lastName: 'Sharma',
    phone: '+91 98200 11111',
    email: 'anil@example.com',
    city: 'Mumbai',
    agent: 'a1',
    createdAt: '2026-11-26T10:33:19.476Z',
    updatedAt: '2026-11-26T10:33:19.476Z',
    version: 1,
    ...over,
  };
}

export function makeLead(over: Partial<Lead> = {}): Lead {
  return {
    _id: '6b080aefdfe7af34aa0e6900',
    name: { firstName: 'Ravi', lastName: 'Menon' },
    contactInfo: { email: 'ravi@example.com', phone: '+91 98765 43210' },
    source: 'website',
    priority: 'high',
    status: 'new',
    interestedDestination: 'Kerala',
    budget: { amount: 80000, currency: 'INR' },
    assignedAgent: 'a1',
    createdAt: '2026-11-20T09:00:00.000Z',
    updatedAt: '2026-11-20T09:00:00.000Z',
    version: 1,
    ...over,
  };
}
