import { migrationSlug, timestamp } from './new-migration';

describe('migrationSlug', () => {
  it('when the name has spaces, capitals and punctuation, then it becomes snake_case', () => {
    expect(migrationSlug('Add Orders-Index!')).toBe('add_orders_index');
  });

  it('when the name has no letter or digit, then it throws', () => {
    expect(() => migrationSlug(' -- ')).toThrow(/Invalid migration name/);
  });
});

describe('timestamp', () => {
  it('when given a date, then it is its UTC time as YYYYMMDDHHMMSS', () => {
    expect(timestamp(new Date('2025-03-04T05:06:07.890Z'))).toBe('20250304050607');
  });
});
