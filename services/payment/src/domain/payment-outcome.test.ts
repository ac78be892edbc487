import { paymentOutcome } from './payment';

describe('payment outcomes', () => {
  it.each([
    [{ status: 'SUCCEEDED' }, 'succeeded'],
    [{ status: 'REFUNDED' }, 'refunded'],
    [{ status: 'FAILED', failureCode: 'PAYMENT_DECLINED' }, 'declined'],
    [{ status: 'FAILED', failureCode: 'PAYMENT_ABANDONED' }, 'abandoned'],
    [{ status: 'FAILED', failureCode: 'ORDER_NOT_PAYABLE' }, 'failed'],
    [{ status: 'FAILED', failureCode: 'ORDER_BEING_PAID' }, 'failed'],
    [{ status: 'PENDING' }, undefined],
  ] as const)('when a payment is %j, then its outcome is %s', (payment, outcome) => {
    expect(paymentOutcome(payment)).toBe(outcome);
  });
});
