#!/usr/bin/env node
/**
 * Mints a JWT for local use: `npm run token -- <user> [--admin] [--ttl 3600]`.
 * Signs with JWT_SECRET, or with the local development secret `npm start` keeps in .infra/jwt-secret.
 */
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const { SignJWT } = require('jose');

const SECRET_FILE = join(__dirname, '..', '.infra', 'jwt-secret');

function secret() {
  if (process.env.JWT_SECRET) return process.env.JWT_SECRET;
  try {
    return readFileSync(SECRET_FILE, 'utf8').trim();
  } catch {
    console.error(`No JWT_SECRET set and no ${SECRET_FILE}; run npm start once or export JWT_SECRET.`);
    process.exit(2);
  }
}

/** Returns a signed HS256 token for `user`, with role admin when asked, valid for `ttlSeconds`. */
async function mint(user, { admin = false, ttlSeconds = 3600, key = secret() } = {}) {
  return new SignJWT({ roles: admin ? ['buyer', 'admin'] : ['buyer'] })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(user)
    .setIssuedAt()
    .setExpirationTime(`${ttlSeconds}s`)
    .sign(new TextEncoder().encode(key));
}

module.exports = { mint };

if (require.main === module) {
  const args = process.argv.slice(2);
  const user = args.find((arg) => !arg.startsWith('--'));
  if (!user) {
    console.error('usage: npm run token -- <user> [--admin] [--ttl SECONDS]');
    process.exit(2);
  }
  const ttlIndex = args.indexOf('--ttl');
  const ttlSeconds = ttlIndex >= 0 ? Number(args[ttlIndex + 1]) : 3600;
  mint(user, { admin: args.includes('--admin'), ttlSeconds }).then((token) => console.log(token));
}
