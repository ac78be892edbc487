import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { loadGatewayConfig } from '../config';
import { AuthError, createJwtVerifier, verificationKey } from './jwt';

async function rsaIssuer(kid: string) {
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const sign = (claims: Record<string, unknown> = {}, subject = 'alice') =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid })
      .setSubject(subject)
      .setExpirationTime('5m')
      .sign(privateKey);
  return { publicKey, sign };
}

const verifierFor = async (settings: Parameters<typeof verificationKey>[0]) =>
  createJwtVerifier({ key: await verificationKey(settings), clockToleranceSeconds: 5 });

describe('RS256 tokens', () => {
  it('when the gateway has the issuer public key (PEM), then its tokens pass and carry the roles', async () => {
    const issuer = await rsaIssuer('k1');
    const verify = await verifierFor({ JWT_ALGORITHM: 'RS256', JWT_PUBLIC_KEY: await exportSPKI(issuer.publicKey) });
    expect(await verify(`Bearer ${await issuer.sign({ roles: ['admin'] })}`)).toEqual({
      userId: 'alice',
      roles: ['admin'],
      isAdmin: true,
    });
  });

  it('when keys come from a JWKS file, then the token kid picks the key and a token of an unknown key is refused', async () => {
    const [current, next, stranger] = await Promise.all([rsaIssuer('2026-11'), rsaIssuer('2026-12'), rsaIssuer('x')]);
    const keys = await Promise.all(
      [
        ['2026-11', current],
        ['2026-12', next],
      ].map(async ([kid, issuer]) => ({
        ...(await exportJWK((issuer as typeof current).publicKey)),
        kid,
        alg: 'RS256',
      })),
    );
    const file = join(mkdtempSync(join(tmpdir(), 'jwks-')), 'jwks.json');
    writeFileSync(file, JSON.stringify({ keys }));
    const verify = await verifierFor({ JWT_ALGORITHM: 'RS256', JWT_JWKS_FILE: file });

    expect((await verify(`Bearer ${await current.sign()}`)).userId).toBe('alice');
    expect((await verify(`Bearer ${await next.sign({}, 'bob')}`)).userId).toBe('bob');
    await expect(verify(`Bearer ${await stranger.sign()}`)).rejects.toMatchObject({
      status: 401,
      code: 'INVALID_TOKEN',
    });
  });

  it('when an HS256 token is shown to an RS256 gateway, then it is refused (no algorithm confusion)', async () => {
    const issuer = await rsaIssuer('k1');
    const pem = await exportSPKI(issuer.publicKey);
    const verify = await verifierFor({ JWT_ALGORITHM: 'RS256', JWT_PUBLIC_KEY: pem });
    const forged = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('mallory')
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(pem));
    await expect(verify(`Bearer ${forged}`)).rejects.toBeInstanceOf(AuthError);
  });

  it('when RS256 is chosen without a key, or with both kinds, then start-up fails naming the variable', () => {
    expect(() => loadGatewayConfig({ JWT_ALGORITHM: 'RS256' })).toThrow(
      /JWT_PUBLIC_KEY: with JWT_ALGORITHM=RS256 set exactly one/,
    );
    expect(() => loadGatewayConfig({})).toThrow(/JWT_SECRET: required with JWT_ALGORITHM=HS256/);
  });
});

describe('HS256 tokens', () => {
  const secret = 'a-shared-secret-of-enough-length-0123456789';
  const sign = (key: string, expires: string | number = '5m', claims: Record<string, unknown> = {}) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('alice')
      .setExpirationTime(expires)
      .sign(new TextEncoder().encode(key));

  it('when tokens are signed with the secret, then they pass, again and again, and carry the roles', async () => {
    const verify = await verifierFor({ JWT_ALGORITHM: 'HS256', JWT_SECRET: secret });
    for (let i = 0; i < 3; i++) {
      expect(await verify(`Bearer ${await sign(secret, '5m', { roles: ['admin'] })}`)).toEqual({
        userId: 'alice',
        roles: ['admin'],
        isAdmin: true,
      });
    }
  });

  it('when a token is signed with another secret or has expired, then it is refused with its reason', async () => {
    const verify = await verifierFor({ JWT_ALGORITHM: 'HS256', JWT_SECRET: secret });
    await expect(verify(`Bearer ${await sign(`${secret}x`)}`)).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
    const expired = await sign(secret, Math.floor(Date.now() / 1000) - 60);
    await expect(verify(`Bearer ${expired}`)).rejects.toMatchObject({ code: 'TOKEN_EXPIRED' });
  });
});

describe('remembered tokens', () => {
  const secret = 'a-secret-of-sixteen-or-more';
  const hs256 = (claims: Record<string, unknown>, subject: string, expiresIn: string | number, key = secret) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(subject)
      .setIssuedAt(Math.floor(clock.at / 1000))
      .setExpirationTime(expiresIn)
      .sign(new TextEncoder().encode(key));
  const clock = { at: Date.parse('2030-01-01T10:00:00Z') };
  const verifier = (cacheSize: number) =>
    createJwtVerifier({
      key: { algorithm: 'HS256', secret },
      clockToleranceSeconds: 5,
      cacheSize,
      now: () => clock.at,
    });

  it('when a verified token comes again, then it answers the same principal, frozen against changes', async () => {
    const verify = verifier(10);
    const token = await hs256({ roles: ['buyer'] }, 'alice', Math.floor(clock.at / 1000) + 300);
    const first = await verify(`Bearer ${token}`);
    const again = await verify(`Bearer ${token}`);
    expect(again).toEqual({ userId: 'alice', roles: ['buyer'], isAdmin: false });
    expect(again).toBe(first);
    expect(Object.isFrozen(again) && Object.isFrozen(again.roles)).toBe(true);
  });

  it('when a token with the same claims carries another signature, then it is refused, even after the genuine one', async () => {
    const verify = verifier(10);
    const exp = Math.floor(clock.at / 1000) + 300;
    const genuine = await hs256({ roles: ['admin'] }, 'alice', exp);
    await verify(`Bearer ${genuine}`);
    const forged = await hs256({ roles: ['admin'] }, 'alice', exp, 'another-secret-of-sixteen');
    expect(forged.split('.').slice(0, 2)).toEqual(genuine.split('.').slice(0, 2));
    await expect(verify(`Bearer ${forged}`)).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
    // One byte of the genuine signature changed is another token too.
    const last = genuine.at(-2) === 'A' ? 'B' : 'A';
    await expect(verify(`Bearer ${genuine.slice(0, -2)}${last}${genuine.at(-1)}`)).rejects.toBeInstanceOf(AuthError);
  });

  it('when a remembered token expires, then it is refused as expired, as without the cache', async () => {
    const verify = verifier(10);
    const token = await hs256({}, 'bob', Math.floor(clock.at / 1000) + 20);
    await verify(`Bearer ${token}`);
    clock.at += 24_000; // within the 5 s tolerance
    expect((await verify(`Bearer ${token}`)).userId).toBe('bob');
    clock.at += 2_000; // past exp + tolerance
    await expect(verify(`Bearer ${token}`)).rejects.toMatchObject({ code: 'TOKEN_EXPIRED' });
  });

  it('when a token has not started yet (nbf), then it is refused until it has, and remembered from then', async () => {
    const verify = verifier(10);
    const start = Math.floor(clock.at / 1000) + 60;
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('carol')
      .setNotBefore(start)
      .setExpirationTime(start + 300)
      .sign(new TextEncoder().encode(secret));
    await expect(verify(`Bearer ${token}`)).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
    clock.at = start * 1000;
    expect((await verify(`Bearer ${token}`)).userId).toBe('carol');
  });

  it('when the cache is off or full, then tokens are verified every time and the oldest is forgotten', async () => {
    const exp = Math.floor(clock.at / 1000) + 300;
    const [a, b] = await Promise.all([hs256({}, 'a', exp), hs256({}, 'b', exp)]);
    const off = verifier(0);
    expect(await off(`Bearer ${a}`)).not.toBe(await off(`Bearer ${a}`));
    const one = verifier(1);
    const first = await one(`Bearer ${a}`);
    await one(`Bearer ${b}`);
    expect(await one(`Bearer ${a}`)).not.toBe(first);
  });
});
