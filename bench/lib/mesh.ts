import { nodeOptions } from '@flash-sale/observability';
import { startProcess, stopProcess, type Running } from './processes';

export const HOST = '127.0.0.1';
const env = process.env;
export const REDIS_URL = env.REDIS_URL ?? `redis://${HOST}:${env.REDIS_PORT ?? 6379}`;
const KAFKA = env.KAFKA_BROKERS ?? `${HOST}:${env.KAFKA_PORT ?? 9092}`;
export const databaseUrl = (role: string, database: string) =>
  `postgresql://${role}:${role}@${HOST}:${env.PG_PORT ?? 5432}/${database}?schema=${role}`;
export const addr = (port: number) => `${HOST}:${port}`;

export type ServiceName = 'inventory' | 'order' | 'payment' | 'promotion' | 'gateway';
export const SERVICES: ServiceName[] = ['inventory', 'order', 'payment', 'promotion', 'gateway'];

export interface MeshOptions {
  ports: Record<ServiceName, number>;
  jwtSecret: string;
  /** Node flags for every service (OpenTelemetry's register, --cpu-prof ...). */
  nodeArgs: string[];
  /** Where the gateway finds inventory (a fault proxy in front of it, for instance). */
  gatewayInventoryAddr?: string;
  /**
   * The PostgreSQL database and the Kafka topic prefix of this mesh: never `npm start`'s (flashsale, no prefix),
   * whose consumers would otherwise take the run's purchases for their own (docs/operations.md, "Isolation").
   */
  database: string;
  topicPrefix: string;
  /** Extra environment per service. */
  env?: Partial<Record<ServiceName, Record<string, string>>>;
  /** Mutual TLS between the processes (the default), or plaintext to measure what mTLS costs (BENCH_MTLS=off). */
  mtls?: 'on' | 'off';
  /** The services serve /metrics (the default, as shipped), or not, to measure what metrics cost (BENCH_METRICS=off). */
  metrics?: 'on' | 'off';
}

/** A service's metrics port: its gRPC port + 10 (the gateway serves /metrics on its HTTP port). */
export const metricsPort = (grpcPort: number) => grpcPort + 10;

function onOff(variable: 'BENCH_MTLS' | 'BENCH_METRICS'): 'on' | 'off' {
  const mode = env[variable] ?? 'on';
  if (mode !== 'on' && mode !== 'off') throw new Error(`${variable} must be on or off, not ${mode}`);
  return mode;
}

/** BENCH_MTLS=off runs a mesh in plaintext (MTLS_MODE=off), for the on/off comparison; on by default. */
export const benchMtls = () => onOff('BENCH_MTLS');

/** BENCH_METRICS=off runs a mesh without /metrics and without a Prometheus scraping it; on by default. */
export const benchMetrics = () => onOff('BENCH_METRICS');

/**
 * The mesh as five processes from dist/, on ports of its own, each of which can be killed, stopped and started
 * again with the same settings. Fresh consumer groups that start at the topics' ends: a run reads its own events.
 */
export class Mesh {
  private readonly running = new Map<ServiceName, Running>();
  private readonly groupPrefix = `bench-${Date.now()}.`;

  constructor(private readonly options: MeshOptions) {}

  startAll(): void {
    for (const name of SERVICES) this.start(name);
  }

  start(name: ServiceName): Running {
    const { ports } = this.options;
    const pgUrl = (role: string) => databaseUrl(role, this.options.database);
    const shared = {
      REDIS_URL,
      KAFKA_BROKERS: KAFKA,
      LOG_LEVEL: 'error',
      KAFKA_GROUP_PREFIX: this.groupPrefix,
      KAFKA_TOPIC_PREFIX: this.options.topicPrefix,
      KAFKA_NEW_GROUP_START: 'end',
      // The certificates are the local PKI's (.infra/pki, from scripts/infra.sh up), as for `npm start`.
      MTLS_MODE: this.options.mtls ?? 'on',
      // The heap sizes the images run with; nodeArgs (BENCH_NODE_ARGS) come on the command line and win.
      NODE_OPTIONS: nodeOptions(env),
    };
    const own: Record<ServiceName, Record<string, string>> = {
      inventory: { GRPC_PORT: String(ports.inventory), DATABASE_URL: pgUrl('inventory') },
      order: { GRPC_PORT: String(ports.order), DATABASE_URL: pgUrl('orders'), INVENTORY_ADDR: addr(ports.inventory) },
      payment: { GRPC_PORT: String(ports.payment), DATABASE_URL: pgUrl('payment'), ORDER_ADDR: addr(ports.order) },
      promotion: {
        GRPC_PORT: String(ports.promotion),
        DATABASE_URL: pgUrl('promotion'),
        INVENTORY_ADDR: addr(ports.inventory),
      },
      gateway: {
        HTTP_PORT: String(ports.gateway),
        // The gRPC door is not measured here; any free port, so a running `npm start` does not clash.
        GRPC_DOOR_PORT: '0',
        JWT_SECRET: this.options.jwtSecret,
        PROMOTION_ADDR: addr(ports.promotion),
        INVENTORY_ADDR: this.options.gatewayInventoryAddr ?? addr(ports.inventory),
        ORDER_ADDR: addr(ports.order),
        PAYMENT_ADDR: addr(ports.payment),
        // Every client here comes from one address: the per-address limit would measure itself.
        RATE_LIMIT_IP_PER_SECOND: '0',
      },
    };
    if (this.options.metrics !== 'off' && name !== 'gateway') own[name].METRICS_PORT = String(metricsPort(ports[name]));
    const entry = name === 'gateway' ? 'gateway/dist/main.js' : `services/${name}/dist/main.js`;
    const running = startProcess(
      name,
      entry,
      { ...shared, ...own[name], ...this.options.env?.[name] },
      this.options.nodeArgs,
    );
    this.running.set(name, running);
    return running;
  }

  /** Where each process serves /metrics, for a Prometheus to scrape (none with metrics off). */
  metricsTargets(): Record<ServiceName, string> | undefined {
    if (this.options.metrics === 'off') return undefined;
    const { ports } = this.options;
    return Object.fromEntries(
      SERVICES.map((name) => [name, addr(name === 'gateway' ? ports.gateway : metricsPort(ports[name]))]),
    ) as Record<ServiceName, string>;
  }

  get(name: ServiceName): Running {
    return this.running.get(name)!;
  }

  processes(): Running[] {
    return [...this.running.values()];
  }

  /** Sends a signal; for SIGKILL and SIGTERM, waits until the process is gone. */
  async signal(name: ServiceName, signal: NodeJS.Signals): Promise<void> {
    const child = this.get(name).child!;
    if (signal !== 'SIGKILL' && signal !== 'SIGTERM') {
      child.kill(signal);
      return;
    }
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.processes().map(stopProcess));
  }
}
