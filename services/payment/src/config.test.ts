import { ConfigError } from '@flash-sale/config';
import { loadPaymentConfig } from './config';

describe('payment config', () => {
  it('when recovery would start before a charge times out, then start-up fails naming the variable', () => {
    const load = () => loadPaymentConfig({ PROVIDER_TIMEOUT_MS: '10000', PAYMENT_RECOVERY_AFTER_MS: '5000' });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(/PAYMENT_RECOVERY_AFTER_MS: must be longer than PROVIDER_TIMEOUT_MS/);
  });

  it('when recovery would start before a claim is sure to have committed, then start-up fails', () => {
    const load = () => loadPaymentConfig({ PROVIDER_TIMEOUT_MS: '300', PAYMENT_RECOVERY_AFTER_MS: '4000' });
    expect(load).toThrow(
      /PAYMENT_RECOVERY_AFTER_MS: must be longer than PROVIDER_TIMEOUT_MS and the order service's claim bound/,
    );
  });

  it('when the provider URL is not a URL, then start-up fails naming the variable', () => {
    expect(() => loadPaymentConfig({ PAYMENT_PROVIDER_URL: 'not a url' })).toThrow(/PAYMENT_PROVIDER_URL/);
  });

  it('when nothing is set, then the defaults recover after a minute', () => {
    expect(loadPaymentConfig({})).toMatchObject({ PROVIDER_TIMEOUT_MS: 2_500, PAYMENT_RECOVERY_AFTER_MS: 60_000 });
  });
});
