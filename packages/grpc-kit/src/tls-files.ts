import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createSecureContext } from 'node:tls';
import type { experimental } from '@grpc/grpc-js';
import { spiffeIdIn } from '@flash-sale/config';
import type { Logger } from '@flash-sale/logging';

/** A workload's certificate, its key and the mesh CA, as read from the files. */
export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
  ca: Buffer;
}

type CaListener = experimental.CaCertificateUpdateListener;
type IdentityListener = experimental.IdentityCertificateUpdateListener;

/** How often TLS_DIR is read for changes. A renewed Secret reaches the pod within a minute or so anyway. */
export const TLS_RELOAD_MS = 5_000;

/**
 * The certificate files of one workload (`tls.crt`, `tls.key`, `ca.crt`, the Kubernetes TLS Secret layout), read
 * at start and again every `reloadMs`. A change is taken only once the three files agree (the key matches the
 * certificate, which still names this workload): a Secret being rewritten, or files copied one by one, are read
 * again at the next tick instead of breaking new connections. Connections already open keep the certificate they
 * were made with. Also the grpc-js certificate provider of the workload's client channels.
 */
export class TlsFiles implements experimental.CertificateProvider {
  private material: TlsMaterial;
  private readonly changeListeners = new Set<(material: TlsMaterial) => void>();
  private readonly caListeners = new Set<CaListener>();
  private readonly identityListeners = new Set<IdentityListener>();
  private readonly timer: NodeJS.Timeout;
  private refused = '';

  /** Throws, naming the file and the problem, when the files are missing or do not fit together. */
  constructor(
    readonly dir: string,
    /** The SPIFFE ID the certificate must name. */
    readonly spiffeId: string,
    private readonly logger: Logger,
    reloadMs = TLS_RELOAD_MS,
  ) {
    const files = this.files();
    const read = (file: string) => {
      try {
        return readFileSync(file);
      } catch (error) {
        throw new Error(
          `${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}; TLS_DIR must hold tls.crt, ` +
            'tls.key and ca.crt (locally `bash scripts/infra.sh up` creates them under .infra/pki), or set MTLS_MODE=off',
        );
      }
    };
    const material = { cert: read(files.cert), key: read(files.key), ca: read(files.ca) };
    const problem = this.problemOf(material);
    if (problem) throw new Error(`${dir}: ${problem}`);
    this.material = material;
    this.logLoaded('mTLS certificate loaded');
    this.timer = setInterval(() => void this.reload(), reloadMs).unref();
  }

  current(): TlsMaterial {
    return this.material;
  }

  /** Calls `listener` with every change taken from now on; returns the unsubscribe function. */
  onChange(listener: (material: TlsMaterial) => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  close(): void {
    clearInterval(this.timer);
  }

  addCaCertificateListener(listener: CaListener): void {
    this.caListeners.add(listener);
    process.nextTick(listener, { caCertificate: this.material.ca });
  }

  removeCaCertificateListener(listener: CaListener): void {
    this.caListeners.delete(listener);
  }

  addIdentityCertificateListener(listener: IdentityListener): void {
    this.identityListeners.add(listener);
    process.nextTick(listener, { certificate: this.material.cert, privateKey: this.material.key });
  }

  removeIdentityCertificateListener(listener: IdentityListener): void {
    this.identityListeners.delete(listener);
  }

  /** Reads the files again and takes them when they changed and fit together. */
  async reload(): Promise<void> {
    const files = this.files();
    let material: TlsMaterial;
    try {
      const [cert, key, ca] = await Promise.all([readFile(files.cert), readFile(files.key), readFile(files.ca)]);
      material = { cert, key, ca };
    } catch (error) {
      this.refuse(`unreadable: ${(error as Error).message}`, (error as Error).message);
      return;
    }
    const current = this.material;
    if (material.cert.equals(current.cert) && material.key.equals(current.key) && material.ca.equals(current.ca)) {
      this.refused = '';
      return;
    }
    const problem = this.problemOf(material);
    if (problem) {
      this.refuse(problem, fingerprint(material));
      return;
    }
    this.material = material;
    this.refused = '';
    this.logLoaded('mTLS certificate reloaded');
    for (const listener of this.changeListeners) listener(material);
    for (const listener of this.caListeners) listener({ caCertificate: material.ca });
    for (const listener of this.identityListeners) listener({ certificate: material.cert, privateKey: material.key });
  }

  private files() {
    return { cert: join(this.dir, 'tls.crt'), key: join(this.dir, 'tls.key'), ca: join(this.dir, 'ca.crt') };
  }

  /** Why these files cannot be used, or undefined. */
  private problemOf(material: TlsMaterial): string | undefined {
    try {
      const certificate = new X509Certificate(material.cert);
      if (!certificate.checkPrivateKey(createPrivateKey(material.key))) return 'tls.key does not match tls.crt';
      const id = spiffeIdIn(certificate.subjectAltName);
      if (id !== this.spiffeId) return `tls.crt names ${id ?? 'no SPIFFE ID'}, not this workload's ${this.spiffeId}`;
      createSecureContext({ cert: material.cert, key: material.key, ca: material.ca });
      return undefined;
    } catch (error) {
      return `the files are not a usable certificate, key and CA: ${(error as Error).message}`;
    }
  }

  /** Logs a refused change once per distinct content, not at every tick. */
  private refuse(problem: string, key: string): void {
    if (this.refused === key) return;
    this.refused = key;
    this.logger.warn({ dir: this.dir, problem }, 'mTLS certificate change not taken; the previous one stays in use');
  }

  private logLoaded(message: string): void {
    const certificate = new X509Certificate(this.material.cert);
    const expiresAt = new Date(certificate.validTo);
    const fields = { dir: this.dir, spiffeId: this.spiffeId, serial: certificate.serialNumber, expiresAt };
    if (expiresAt.getTime() <= Date.now()) this.logger.error(fields, `${message}, but it has expired`);
    else this.logger.info(fields, message);
  }
}

const fingerprint = (material: TlsMaterial) =>
  createHash('sha256').update(material.cert).update(material.key).update(material.ca).digest('hex');
