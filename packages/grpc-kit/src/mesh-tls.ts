import { createServer as createTlsServer, type PeerCertificate, type TLSSocket } from 'node:tls';
import {
  credentials,
  experimental,
  ServerCredentials,
  type ChannelCredentials,
  type ChannelOptions,
  type Server,
} from '@grpc/grpc-js';
import {
  spiffeIdFor,
  spiffeIdIn,
  spiffeNamingOf,
  workloadOf,
  type MeshConfig,
  type MeshWorkload,
  type SpiffeNaming,
} from '@flash-sale/config';
import type { Logger } from '@flash-sale/logging';
import { checkPeer, type MeshPeer } from './peer';
import { TLS_RELOAD_MS, TlsFiles } from './tls-files';

/** How a client reaches one upstream: the channel's credentials and the channel options they need. */
export interface ClientTransport {
  credentials: ChannelCredentials;
  options: ChannelOptions;
}

/** A listening gRPC port; `close` stops accepting connections (the server drains the open ones). */
export interface Listener {
  port: number;
  close(): void;
}

/** The remote end of a call, as grpc-js reports it to interceptors. */
export interface ConnectionAddress {
  remoteAddress?: string;
  remotePort?: number;
  localPort?: number;
}

/**
 * How one workload's process talks gRPC: mutual TLS with its certificate (`on`), or plaintext (`off`, for meshes
 * whose sidecars do mTLS). One per process: its clients and its server share the certificate files.
 */
export interface MeshTransport {
  readonly mode: 'on' | 'off';
  /** Whose certificate it presents (with mTLS on). */
  readonly workload?: MeshWorkload;
  /** Credentials for channels to `target`: with mTLS, the server must prove it is that workload. */
  client(target: MeshWorkload): ClientTransport;
  /** Binds `server` on host:port. */
  listen(server: Server, host: string, port: number): Promise<Listener>;
  /** The proven caller of a call on a connection this transport accepted; undefined with mTLS off. */
  peerOf(connection: ConnectionAddress, certificate: () => PeerCertificate | undefined): MeshPeer | undefined;
  close(): void;
}

export interface MeshTransportOptions {
  /** How often the certificate files are read for changes. */
  reloadMs?: number;
}

/** The transport a process's mesh settings (MTLS_MODE, TLS_DIR, SPIFFE_*) describe. */
export function meshTransport(
  config: MeshConfig,
  workload: MeshWorkload,
  logger: Logger,
  options: MeshTransportOptions = {},
): MeshTransport {
  if (config.MTLS_MODE === 'off') {
    logger.warn(
      { workload },
      'MTLS_MODE=off: gRPC is plaintext, callers are not identified and methods are not authorized; ' +
        'only for a mesh whose sidecars do mTLS',
    );
    return plaintextTransport();
  }
  return new MutualTls(config.TLS_DIR, spiffeNamingOf(config), workload, logger, options.reloadMs ?? TLS_RELOAD_MS);
}

/** Plaintext gRPC: no certificates, no caller identity. */
export function plaintextTransport(): MeshTransport {
  const client = { credentials: credentials.createInsecure(), options: {} };
  return {
    mode: 'off',
    client: () => client,
    async listen(server, host, port) {
      const bound = await new Promise<number>((resolve, reject) =>
        server.bindAsync(`${host}:${port}`, ServerCredentials.createInsecure(), (error, value) =>
          error ? reject(error) : resolve(value),
        ),
      );
      return { port: bound, close: () => undefined };
    },
    peerOf: () => undefined,
    close: () => undefined,
  };
}

class MutualTls implements MeshTransport {
  readonly mode = 'on';
  private readonly files: TlsFiles;
  private readonly clients = new Map<MeshWorkload, ClientTransport>();
  /** The proven peer of each open connection, by its addresses (one lookup per call, no certificate parsing). */
  private readonly peers = new Map<string, { socket: TLSSocket; peer: MeshPeer }>();

  constructor(
    dir: string,
    private readonly naming: SpiffeNaming,
    readonly workload: MeshWorkload,
    private readonly logger: Logger,
    reloadMs: number,
  ) {
    this.files = new TlsFiles(dir, spiffeIdFor(naming, workload), logger, reloadMs);
  }

  client(target: MeshWorkload): ClientTransport {
    let transport = this.clients.get(target);
    if (!transport) {
      const expected = spiffeIdFor(this.naming, target);
      const checkServerIdentity = (_host: string, certificate: PeerCertificate): Error | undefined => {
        let presented: string | undefined;
        try {
          presented = spiffeIdIn(certificate.subjectaltname);
        } catch (error) {
          presented = (error as Error).message;
        }
        if (presented === expected) return undefined;
        const message = `the server presents ${presented ?? 'no SPIFFE ID'}, not ${expected}`;
        this.logger.warn(
          { target, expected, presented, reason: 'WRONG_SERVER_IDENTITY' },
          `mTLS server refused: ${message}`,
        );
        return Object.assign(new Error(message), { code: 'WRONG_SERVER_IDENTITY' });
      };
      transport = {
        credentials: experimental.createCertificateProviderChannelCredentials(this.files, this.files, {
          checkServerIdentity,
        }),
        // The server is identified by its SPIFFE ID, not its address; naming the workload here also keeps TLS from
        // sending an IP address as the server name (SNI), which RFC 6066 forbids.
        options: { 'grpc.ssl_target_name_override': target },
      };
      this.clients.set(target, transport);
    }
    return transport;
  }

  async listen(server: Server, host: string, port: number): Promise<Listener> {
    // grpc-js serves the connections this TLS server accepted and verified (its own TLS cannot say why it drops one).
    const injector = server.createConnectionInjector(ServerCredentials.createInsecure());
    const contextOf = () => {
      const { cert, key, ca } = this.files.current();
      return { cert, key, ca };
    };
    const tlsServer = createTlsServer({
      ...contextOf(),
      requestCert: true,
      // Verified below, where a refusal can be logged with its reason; nothing is served before that.
      rejectUnauthorized: false,
      ALPNProtocols: ['h2'],
    });
    const unsubscribe = this.files.onChange(() => tlsServer.setSecureContext(contextOf()));
    tlsServer.on('secureConnection', (socket: TLSSocket) => {
      const checked = checkPeer(socket, this.naming);
      if ('refusal' in checked) {
        const { reason, message, presented } = checked.refusal;
        this.logger.warn(
          { reason, presented, remote: `${socket.remoteAddress}:${socket.remotePort}` },
          `mTLS connection refused: ${message}`,
        );
        socket.destroy();
        return;
      }
      const key = addressKey(socket);
      this.peers.set(key, { socket, peer: checked.peer });
      socket.once('close', () => {
        if (this.peers.get(key)?.socket === socket) this.peers.delete(key);
      });
      injector.injectConnection(socket);
    });
    tlsServer.on('tlsClientError', (error: NodeJS.ErrnoException, socket: TLSSocket) => {
      this.logger.warn(
        { reason: 'TLS_HANDSHAKE_FAILED', code: error.code, remote: `${socket.remoteAddress}:${socket.remotePort}` },
        `mTLS connection refused: the TLS handshake failed: ${error.message}`,
      );
    });
    await new Promise<void>((resolve, reject) => {
      tlsServer.once('error', reject);
      tlsServer.listen(port, host, () => {
        tlsServer.off('error', reject);
        resolve();
      });
    });
    tlsServer.on('error', (error) => this.logger.error({ err: error }, 'mTLS listener error'));
    return {
      port: (tlsServer.address() as { port: number }).port,
      close: () => {
        unsubscribe();
        tlsServer.close();
      },
    };
  }

  peerOf(connection: ConnectionAddress, certificate: () => PeerCertificate | undefined): MeshPeer | undefined {
    const known = this.peers.get(addressKey(connection));
    if (known) return known.peer;
    // Not one of ours (should not happen): read the certificate of the call's connection.
    const spiffeId = spiffeIdIn(certificate()?.subjectaltname);
    const workload = spiffeId ? workloadOf(this.naming, spiffeId) : undefined;
    return spiffeId && workload ? { workload, spiffeId } : undefined;
  }

  close(): void {
    this.files.close();
  }
}

/** A connection's key among the open ones: a client port may be reused towards another local port. */
const addressKey = (connection: ConnectionAddress) =>
  `${connection.remoteAddress}|${connection.remotePort}|${connection.localPort}`;
