import { DomainError } from '@flash-sale/errors';
import {
  assertCancellable,
  assertVisible,
  claimDecision,
  isOverdue,
  orderFromRequest,
  orderRequestProblem,
  settlementFor,
  type Order,
  type OrderStatus,
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

  it('when an order is not awaiting payment, then it cannot be cancelled; one being paid says so', () => {
    expect(() => assertCancellable(order, { userId: 'alice', isAdmin: false })).not.toThrow();
    const paid = { ...order, status: 'PAID' as const };
    expect(() => assertCancellable(paid, { userId: 'alice', isAdmin: false })).toThrow(/cannot be cancelled/);
    const paying = { ...order, status: 'PAYING' as const, paymentId: 'p1' };
    expect(() => assertCancellable(paying, { userId: 'alice', isAdmin: false })).toThrow(
      expect.objectContaining({ code: 'ORDER_BEING_PAID' }),
    );
    expect(() => assertCancellable(order, { userId: 'bob', isAdmin: false })).toThrow(/does not exist/);
  });

  const before = new Date('2030-01-01T00:09:59.999Z');
  const atDeadline = new Date('2030-01-01T00:10:00.000Z');
  const as = (status: OrderStatus, paymentId?: string): Order => ({
    ...order,
    status,
    ...(paymentId ? { paymentId } : {}),
  });

  it('when a payment claims an order awaiting payment before its deadline, then it may; at the deadline it may not', () => {
    expect(claimDecision(order, 'alice', '11', 'p1', before)).toBe('CLAIM');
    expect(() => claimDecision(order, 'alice', '11', 'p1', atDeadline)).toThrow(
      expect.objectContaining({ code: 'ORDER_NOT_PAYABLE', details: expect.objectContaining({ status: 'EXPIRED' }) }),
    );
  });

  it.each([
    ['PAYING', 'p1', 'HELD'],
    ['PAID', 'p1', 'HELD'],
    ['PAYING', 'p2', 'ORDER_BEING_PAID'],
    ['PAID', 'p2', 'ORDER_NOT_PAYABLE'],
    ['EXPIRED', undefined, 'ORDER_NOT_PAYABLE'],
    ['CANCELLED', undefined, 'ORDER_NOT_PAYABLE'],
    ['REFUNDED', 'p2', 'ORDER_NOT_PAYABLE'],
  ] as const)('when payment p1 claims an order %s (held by %s), then %s', (status, holder, expected) => {
    const decide = () => claimDecision(as(status, holder), 'alice', '11', 'p1', before);
    if (expected === 'HELD') expect(decide()).toBe('HELD');
    else expect(decide).toThrow(expect.objectContaining({ code: expected }));
  });

  it('when somebody else claims my order, or it does not exist, then it does not exist for them', () => {
    expect(() => claimDecision(order, 'mallory', '11', 'p1', before)).toThrow(
      expect.objectContaining({ code: 'ORDER_NOT_FOUND' }),
    );
    expect(() => claimDecision(undefined, 'alice', '11', 'p1', before)).toThrow(
      expect.objectContaining({ code: 'ORDER_NOT_FOUND' }),
    );
  });

  const charged = (paidAt: Date) => ({ succeeded: true as const, paidAt });
  const failed = { succeeded: false as const };

  it.each([
    ['PAYING', 'p1', charged(atDeadline), before, 'PAY'],
    ['PAYING', 'p1', charged(new Date('2030-01-01T01:00:00Z')), atDeadline, 'PAY'],
    ['PAYING', 'p1', failed, before, 'RELEASE'],
    ['PAYING', 'p1', failed, atDeadline, 'EXPIRE'],
    ['PAYING', 'p2', failed, atDeadline, 'NONE'],
    ['AWAITING_PAYMENT', undefined, failed, atDeadline, 'NONE'],
    ['AWAITING_PAYMENT', undefined, charged(before), atDeadline, 'PAY'],
    ['AWAITING_PAYMENT', undefined, charged(atDeadline), atDeadline, 'REFUND'],
    ['PAID', 'p1', charged(before), before, 'NONE'],
    ['REFUNDED', 'p1', charged(before), before, 'NONE'],
    ['PAID', 'p2', charged(before), before, 'REFUND'],
    ['PAYING', 'p2', charged(before), before, 'REFUND'],
    ['EXPIRED', undefined, charged(before), before, 'REFUND'],
    ['CANCELLED', undefined, charged(before), before, 'REFUND'],
  ] as const)(
    'when payment p1 settles an order %s (held by %s) with %j at %s, then %s',
    (status, holder, result, now, expected) => {
      expect(settlementFor(as(status, holder), 'p1', result, now).kind).toBe(expected);
    },
  );

  it('when a captured payment is refunded, then the reason names what the order was', () => {
    expect(settlementFor(as('EXPIRED'), 'p1', charged(before), before)).toEqual({
      kind: 'REFUND',
      reason: 'order EXPIRED before the payment was applied',
    });
    expect(settlementFor(as('PAID', 'p2'), 'p1', charged(before), before)).toEqual({
      kind: 'REFUND',
      reason: 'order already paid by payment p2',
    });
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
