import { isIP } from 'node:net';

/** The named ranges Express (proxy-addr) accepts beside addresses. */
const NAMED_RANGES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** True for an IP address, a CIDR range (10.0.0.0/8, fd00::/8) or a named range (loopback, linklocal, uniquelocal). */
export function isProxyAddress(value: string): boolean {
  if (NAMED_RANGES.has(value)) return true;
  const [address = '', prefix, ...rest] = value.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  return prefix === undefined || (/^[0-9]{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128));
}

/**
 * Express's `trust proxy` for the gateway. With proxies, X-Forwarded-For is read from the right, hop by hop, while
 * the hop is one of them: `req.ip` (what the per-address rate limit counts) is the buyer's address behind a trusted
 * ingress, and whatever a client wrote further left is ignored. With none, X-Forwarded-For is ignored altogether
 * and `req.ip` is the peer, so no client chooses its own address.
 */
export const trustProxy = (proxies: readonly string[]): false | string[] => (proxies.length > 0 ? [...proxies] : false);
