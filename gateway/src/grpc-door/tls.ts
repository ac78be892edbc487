import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSecureContext } from 'node:tls';
import { experimental, type ServerCredentials } from '@grpc/grpc-js';
import { ConfigError } from '@flash-sale/config';

/** How often the certificate files are read again, so a renewed certificate is served with no restart. */
export const DOOR_TLS_RELOAD_MS = 10_000;

/**
 * Server-side TLS for the door from `dir` (`tls.crt`, the chain, and `tls.key`, the standard Secret layout),
 * reloaded when the files change. Clients present no certificate: they authenticate with a JWT. The files are
 * checked first, so a missing, mismatched or expired certificate stops the gateway at start-up with its reason.
 */
export function doorCredentials(dir: string, now = new Date()): ServerCredentials {
  const certificateFile = join(dir, 'tls.crt');
  const privateKeyFile = join(dir, 'tls.key');
  try {
    const cert = readFileSync(certificateFile);
    const key = readFileSync(privateKeyFile);
    createSecureContext({ cert, key });
    const leaf = new X509Certificate(cert);
    if (new Date(leaf.validTo) <= now) throw new Error(`the certificate expired on ${leaf.validTo}`);
  } catch (error) {
    throw new ConfigError([`GRPC_DOOR_TLS_DIR: ${dir}: ${(error as Error).message}`]);
  }
  const files = new experimental.FileWatcherCertificateProvider({
    certificateFile,
    privateKeyFile,
    refreshIntervalMs: DOOR_TLS_RELOAD_MS,
  });
  // grpc-js's declaration names this argument the CA provider, but its implementation takes the first argument as
  // the identity (the server's own certificate); no CA provider means no client certificate is asked for.
  return experimental.createCertificateProviderServerCredentials(files, null, false);
}
