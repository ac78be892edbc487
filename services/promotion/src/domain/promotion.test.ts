import { DomainError } from '@flash-sale/errors';
import { statusAt, validateNewPromotion, type NewPromotion } from './promotion';

const now = new Date('2030-01-01T12:00:00Z');
const valid: NewPromotion = {
  itemId: 'sku-1',
  title: ' Phone ',
  priceCents: 19_900n,
  stock: 100,
  perUserLimit: 1,
  startsAt: new Date('2030-01-01T12:00:00Z'),
  endsAt: new Date('2030-01-01T13:00:00Z'),
  paymentTimeoutSeconds: 900,
};

describe('validateNewPromotion', () => {
  it('when the promotion is valid, then it is returned with a trimmed title', () => {
    expect(validateNewPromotion(valid, now).title).toBe('Phone');
  });

  it.each<[string, Partial<NewPromotion>]>([
    ['item_id', { itemId: '' }],
    ['item_id', { itemId: 'has space' }],
    ['title', { title: '   ' }],
    ['title', { title: 'Phone\u0000' }],
    ['title', { title: 'Phone\u0085' }],
    ['title', { title: 'Phone\ud800' }],
    ['price_cents', { priceCents: -1n }],
    ['stock', { stock: 0 }],
    ['stock', { stock: 1.5 }],
    ['per_user_limit', { perUserLimit: 0 }],
    ['per_user_limit', { perUserLimit: 101 }],
    ['ends_at', { endsAt: valid.startsAt }],
    ['ends_at', { startsAt: new Date('2029-12-31T00:00:00Z'), endsAt: new Date('2030-01-01T00:00:00Z') }],
    ['starts_at', { startsAt: new Date('nope') }],
    ['payment_timeout_seconds', { paymentTimeoutSeconds: 0 }],
  ])('when %s is bad (%p), then an invalid error names it', (field, change) => {
    const attempt = () => validateNewPromotion({ ...valid, ...change }, now);
    expect(attempt).toThrow(DomainError);
    try {
      attempt();
    } catch (error) {
      expect((error as DomainError).kind).toBe('invalid');
      expect((error as DomainError).details.field).toBe(field);
    }
  });
});

describe('statusAt', () => {
  const window = { startsAt: valid.startsAt, endsAt: valid.endsAt };
  it('when before the window, then SCHEDULED', () => {
    expect(statusAt(window, new Date('2030-01-01T11:59:59Z'), 0)).toBe('SCHEDULED');
  });
  it('when inside the window with stock, then ACTIVE', () => {
    expect(statusAt(window, now, 5)).toBe('ACTIVE');
  });
  it('when inside the window without stock, then SOLD_OUT', () => {
    expect(statusAt(window, now, 0)).toBe('SOLD_OUT');
  });
  it('when the window has closed, then ENDED, whatever the stock', () => {
    expect(statusAt(window, valid.endsAt, 5)).toBe('ENDED');
  });
});
