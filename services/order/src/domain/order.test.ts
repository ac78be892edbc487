import { DomainError } from '@flash-sale/errors';
import {
  assertCancellable,
  assertVisible,
  isOverdue,
  orderFromRequest,
  orderRequestProblem,
  paymentOutcome,
  type Order,
} from './order';

const request = {
  eventId: '10',
  orderId: '11',
  promotionId: '12',
  userId: 'alice',
  quantity: 2,
  amountCents: 3_000n,
  reservedAt: new Date('2030-01-01T00:00:00Z'),
  paymentTimeoutSeconds: 600,
};
const order: Order = orderFromRequest(request);

describe('order', () => {
  it('when a reservation becomes an order, then it awaits payment until reservation time plus the timeout', () => {
    expect(order).toMatchObject({ id: '11', status: 'AWAITING_PAYMENT', amountCents: 3_000n });
    expect(order.expiresAt.toISOString()).toBe('2030-01-01T00:10:00.000Z');
  });

  it('when somebody else looks at an order, then it does not exist for them; admins see it', () => {
    expect(() => assertVisible(order, { userId: 'bob', isAdmin: false }, '11')).toThrow(DomainError);
    expect(assertVisible(order, { userId: 'bob', isAdmin: true }, '11')).toBe(order);
    expect(() => assertVisible(undefined, { userId: 'alice', isAdmin: false }, '11')).toThrow(/does not exist/);
  });

  it('when an order is not awaiting payment, then it cannot be cancelled', () => {
    expect(() => assertCancellable(order, { userId: 'alice', isAdmin: false })).not.toThrow();
    const paid = { ...order, status: 'PAID' as const };
    expect(() => assertCancellable(paid, { userId: 'alice', isAdmin: false })).toThrow(/cannot be cancelled/);
    expect(() => assertCancellable(order, { userId: 'bob', isAdmin: false })).toThrow(/does not exist/);
  });

  it.each([
    ['AWAITING_PAYMENT', undefined, 'PAY'],
    ['PAID', 'p1', 'ALREADY_APPLIED'],
    ['REFUNDED', 'p1', 'ALREADY_APPLIED'],
    ['PAID', 'p2', 'REFUND'],
    ['EXPIRED', undefined, 'REFUND'],
    ['CANCELLED', undefined, 'REFUND'],
  ] as const)('when payment p1 meets an order %s (paid by %s), then %s', (status, paidWith, expected) => {
    expect(paymentOutcome({ status, ...(paidWith ? { paymentId: paidWith } : {}) }, 'p1')).toBe(expected);
  });

  it('when a reservation event is well formed, then it has no problem', () => {
    expect(orderRequestProblem(request)).toBeUndefined();
  });

  it.each([
    ['order_id', { orderId: '0' }],
    ['event_id', { eventId: 'abc' }],
    ['promotion_id', { promotionId: '9223372036854775808' }],
    ['user_id', { userId: ' ' }],
    ['quantity', { quantity: 0 }],
    ['amount_cents', { amountCents: -1n }],
    ['payment_timeout_seconds', { paymentTimeoutSeconds: 0 }],
    ['payment_timeout_seconds', { paymentTimeoutSeconds: 86_401 }],
    ['reserve_time', { reservedAt: new Date(Number.NaN) }],
  ])('when a reservation event has a bad %s, then its problem names it', (field, bad) => {
    expect(orderRequestProblem({ ...request, ...bad })).toContain(field);
  });

  it('when the clock reaches the deadline, then the order is overdue (not a millisecond later)', () => {
    expect(isOverdue(order, new Date('2030-01-01T00:09:59.999Z'))).toBe(false);
    expect(isOverdue(order, new Date('2030-01-01T00:10:00.000Z'))).toBe(true);
  });
});
