// @peculiar/x509 resolves its services through tsyringe, which needs the Reflect metadata API.
import 'reflect-metadata';
import { randomBytes, webcrypto, X509Certificate as NodeCertificate } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { spiffeIdIn } from '@flash-sale/config';

type X509Crypto = Parameters<typeof x509.cryptoProvider.set>[0];
x509.cryptoProvider.set(webcrypto as unknown as X509Crypto);

const KEY_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING_ALGORITHM = { name: 'ECDSA', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;
/** Certificates start a little in the past, so a peer whose clock is slightly behind accepts them at once. */
const BACKDATE_MS = 5 * 60_000;

/** A certificate and its private key (PKCS #8), both PEM. */
export interface CertificatePem {
  certPem: string;
  keyPem: string;
}

export interface CaOptions {
  commonName: string;
  days: number;
  notBefore?: Date;
}

export interface IssueOptions {
  /** The signing CA (what createCa returned). */
  ca: CertificatePem;
  commonName: string;
  /** The workload's identity, as the certificate's one URI SAN. */
  spiffeId?: string;
  dnsNames?: readonly string[];
  ipAddresses?: readonly string[];
  days: number;
  /** Start of validity; default a few minutes ago. A date far enough back makes an expired certificate (tests). */
  notBefore?: Date;
  /** `both` (default): a workload's, for its server and its client ends; `server`: a server's only. */
  usage?: 'both' | 'server';
}

/** A self-signed CA (ECDSA P-256) that may sign leaf certificates only. */
export async function createCa(options: CaOptions): Promise<CertificatePem> {
  const keys = await generateKeys();
  const { notBefore, notAfter } = validity(options.days, options.notBefore);
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: [{ CN: [options.commonName] }],
    notBefore,
    notAfter,
    signingAlgorithm: SIGNING_ALGORITHM,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: certificate.toString('pem'), keyPem: await privateKeyPem(keys.privateKey) };
}

/** A leaf certificate (ECDSA P-256) signed by `ca`, for both ends of a TLS connection unless `usage` says otherwise. */
export async function issueCertificate(options: IssueOptions): Promise<CertificatePem> {
  const names = [
    ...(options.spiffeId ? [{ type: 'url' as const, value: options.spiffeId }] : []),
    ...(options.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(options.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value })),
  ];
  if (names.length === 0) throw new Error('a certificate needs a SPIFFE ID, a DNS name or an IP address');
  const caCertificate = new x509.X509Certificate(options.ca.certPem);
  const caKey = await webcrypto.subtle.importKey('pkcs8', pemBody(options.ca.keyPem), KEY_ALGORITHM, false, ['sign']);
  const keys = await generateKeys();
  const { notBefore, notAfter } = validity(options.days, options.notBefore);
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: [{ CN: [options.commonName] }],
    issuer: caCertificate.subjectName,
    notBefore,
    notAfter,
    signingAlgorithm: SIGNING_ALGORITHM,
    publicKey: keys.publicKey,
    signingKey: caKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([
        x509.ExtendedKeyUsage.serverAuth,
        ...(options.usage === 'server' ? [] : [x509.ExtendedKeyUsage.clientAuth]),
      ]),
      new x509.SubjectAlternativeNameExtension(names),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(caCertificate),
    ],
  });
  return { certPem: certificate.toString('pem'), keyPem: await privateKeyPem(keys.privateKey) };
}

/** The SPIFFE ID a certificate names (see spiffeIdIn); undefined when it names none. */
export function spiffeIdOf(certPem: string | Buffer): string | undefined {
  return spiffeIdIn(new NodeCertificate(certPem).subjectAltName);
}

function generateKeys(): Promise<webcrypto.CryptoKeyPair> {
  return webcrypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify']);
}

async function privateKeyPem(key: webcrypto.CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN PRIVATE KEY-----\n${lines.join('\n')}\n-----END PRIVATE KEY-----\n`;
}

function pemBody(pem: string): Buffer {
  return Buffer.from(pem.replace(/-----(BEGIN|END) [A-Z ]+-----/g, '').replace(/\s+/g, ''), 'base64');
}

function validity(days: number, start?: Date): { notBefore: Date; notAfter: Date } {
  if (!(days > 0)) throw new Error(`days must be positive, not ${days}`);
  const notBefore = start ?? new Date(Date.now() - BACKDATE_MS);
  return { notBefore, notAfter: new Date(notBefore.getTime() + days * DAY_MS) };
}

/** 16 random bytes, positive (high bit clear) and never starting with a zero byte (DER would drop it). */
function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x01;
  return bytes.toString('hex');
}
