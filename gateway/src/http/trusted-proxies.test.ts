import { loadGatewayConfig } from '../config';
import { isProxyAddress, trustProxy } from './trusted-proxies';

const base = { JWT_SECRET: 'a-test-secret-of-at-least-32-characters' };

describe('trusted proxies', () => {
  it.each(['10.0.0.0/8', '192.168.1.7', '0.0.0.0/0', 'fd00::/8', '::1', 'loopback', 'uniquelocal'])(
    'when %s is given, then it is a proxy address',
    (value) => expect(isProxyAddress(value)).toBe(true),
  );

  it.each(['ingress.example.com', '10.0.0.0/33', 'fd00::/129', '10.0.0.0/8/8', '10.0.0.0/', '10.0.0.0/255.0.0.0', ''])(
    'when %j is given, then it is not',
    (value) => expect(isProxyAddress(value)).toBe(false),
  );

  it('when TRUSTED_PROXIES is unset, then none is trusted and Express ignores X-Forwarded-For', () => {
    const config = loadGatewayConfig(base);
    expect(config.TRUSTED_PROXIES).toEqual([]);
    expect(trustProxy(config.TRUSTED_PROXIES)).toBe(false);
  });

  it('when TRUSTED_PROXIES lists ranges, then Express trusts exactly those', () => {
    const config = loadGatewayConfig({ ...base, TRUSTED_PROXIES: '10.0.0.0/8, fd00::/8' });
    expect(trustProxy(config.TRUSTED_PROXIES)).toEqual(['10.0.0.0/8', 'fd00::/8']);
  });

  it('when TRUSTED_PROXIES names a host, then the configuration is refused naming the variable', () => {
    expect(() => loadGatewayConfig({ ...base, TRUSTED_PROXIES: '10.0.0.0/8,ingress.local' })).toThrow(
      /TRUSTED_PROXIES.*IP address or a CIDR range/,
    );
  });
});
