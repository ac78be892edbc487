import { assertId, DomainError } from './index';

describe('assertId', () => {
  it.each(['1', '123', '9223372036854775807'])('when %s is given, then it is accepted', (value) => {
    expect(assertId(value, 'order_id')).toBe(value);
  });

  it.each(['0', '-1', '01', '12a', '', '9223372036854775808', '1'.repeat(20)])(
    'when %p is given, then INVALID_ID names the field',
    (value) => {
      try {
        assertId(value, 'order_id');
        throw new Error('accepted');
      } catch (error) {
        expect(error).toBeInstanceOf(DomainError);
        expect(error).toMatchObject({ kind: 'invalid', code: 'INVALID_ID', details: { field: 'order_id' } });
      }
    },
  );
});
