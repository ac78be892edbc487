import { setTimeout as sleep } from 'node:timers/promises';
import { Metadata, status, type Client, type ServiceError } from '@grpc/grpc-js';
import CircuitBreaker from 'opossum';
import { inventoryV1, orderV1, paymentV1, promotionV1 } from '@flash-sale/contracts';
import {
  callerMetadata,
  callUnary,
  createClient,
  isServiceError,
  type GrpcMetrics,
  type MeshTransport,
} from '@flash-sale/grpc-kit';
import type { Principal } from './auth/jwt';
import type { GatewayConfig } from './config';
import { httpProblem } from './http/problem';
import { RetryBudget } from './resilience/retry-budget';

export interface UpstreamClients {
  promotion: promotionV1.PromotionServiceClient;
  inventory: inventoryV1.InventoryServiceClient;
  order: orderV1.OrderServiceClient;
  payment: paymentV1.PaymentServiceClient;
}
export type UpstreamName = keyof UpstreamClients;

export interface CallScope {
  principal?: Principal;
  requestId: string;
  timeoutMs: number;
  /** The call may be sent again after UNAVAILABLE (reads, and writes the upstream dedupes by key). */
  retry?: boolean;
}

export interface BreakerSettings {
  /** Share of failed calls, in percent, over the rolling window that opens the circuit. */
  errorThresholdPercentage: number;
  /** Calls in the window before the share counts. */
  volumeThreshold: number;
  /** How long an open circuit refuses calls before one probe is let through. */
  resetTimeoutMs: number;
}

export interface UpstreamEvents {
  failure(upstream: UpstreamName, code: string): void;
  retry(upstream: UpstreamName): void;
  state(upstream: UpstreamName, state: 'closed' | 'open' | 'half-open'): void;
}

/** Failures that say the upstream is unwell; every other status is an answer and does not trip the circuit. */
const UNWELL = new Set([
  status.UNAVAILABLE,
  status.DEADLINE_EXCEEDED,
  status.INTERNAL,
  status.UNKNOWN,
  status.DATA_LOSS,
]);

type Method<Req, Res> = Parameters<typeof callUnary<Req, Res>>[0];

/**
 * The gateway's calls to the services: one long-lived channel per upstream (keepalive agreed with the servers,
 * see grpc-kit), a deadline on every call, a circuit breaker per upstream (opossum) that answers 503 at once while
 * the upstream is down, and one retry after UNAVAILABLE for calls that may be repeated, within a retry budget.
 */
export class Upstreams {
  readonly clients: UpstreamClients;
  private readonly breakers = new Map<UpstreamName, CircuitBreaker<[() => Promise<unknown>], unknown>>();
  private readonly budget = new RetryBudget();

  constructor(
    config: Pick<GatewayConfig, 'PROMOTION_ADDR' | 'INVENTORY_ADDR' | 'ORDER_ADDR' | 'PAYMENT_ADDR'>,
    private readonly breaker: BreakerSettings,
    private readonly events: UpstreamEvents,
    /** How the gateway reaches the services: mTLS as the gateway workload, checking each is the one it should be. */
    transport: MeshTransport,
    /** Counts every call (the client side of the gRPC RED metrics), whether it came over HTTP or the door. */
    metrics?: GrpcMetrics,
  ) {
    this.clients = {
      promotion: createClient(
        promotionV1.PromotionServiceClient,
        config.PROMOTION_ADDR,
        transport.client('promotion'),
        { metrics },
      ),
      inventory: createClient(
        inventoryV1.InventoryServiceClient,
        config.INVENTORY_ADDR,
        transport.client('inventory'),
        { metrics },
      ),
      order: createClient(orderV1.OrderServiceClient, config.ORDER_ADDR, transport.client('order'), { metrics }),
      payment: createClient(paymentV1.PaymentServiceClient, config.PAYMENT_ADDR, transport.client('payment'), {
        metrics,
      }),
    };
    for (const name of Object.keys(this.clients) as UpstreamName[]) this.breakers.set(name, this.createBreaker(name));
  }

  /**
   * Calls `method` of upstream `name` with the caller's identity and request id in metadata (the trace context is
   * added by OpenTelemetry's grpc-js instrumentation).
   */
  async call<Req, Res>(name: UpstreamName, method: Method<Req, Res>, request: Req, scope: CallScope): Promise<Res> {
    const client = this.clients[name] as Client;
    const metadata = new Metadata();
    metadata.set('x-request-id', scope.requestId);
    if (scope.principal) callerMetadata(scope.principal, metadata);
    const deadline = Date.now() + scope.timeoutMs;
    const attempt = () =>
      this.guarded(name, () => callUnary(method, client, request, { timeoutMs: deadline - Date.now(), metadata }));
    this.budget.deposit();
    try {
      return await attempt();
    } catch (error) {
      const retryable =
        scope.retry && isServiceError(error) && error.code === status.UNAVAILABLE && deadline - Date.now() > 100;
      if (!retryable || !this.budget.withdraw()) throw error;
      this.events.retry(name);
      await sleep(20 + Math.random() * 30);
      return attempt();
    }
  }

  state(name: UpstreamName): 'closed' | 'open' | 'half-open' {
    const breaker = this.breakers.get(name)!;
    return breaker.opened ? 'open' : breaker.halfOpen ? 'half-open' : 'closed';
  }

  close(): void {
    for (const breaker of this.breakers.values()) breaker.shutdown();
    for (const client of Object.values(this.clients) as Client[]) client.close();
  }

  private async guarded<Res>(name: UpstreamName, run: () => Promise<Res>): Promise<Res> {
    try {
      return (await this.breakers.get(name)!.fire(run)) as Res;
    } catch (error) {
      if ((error as { code?: string }).code === 'EOPENBREAKER') {
        this.events.failure(name, 'CIRCUIT_OPEN');
        const detail = `the ${name} service is unavailable; try again later`;
        throw httpProblem(503, 'UPSTREAM_UNAVAILABLE', detail, {}, Math.ceil(this.breaker.resetTimeoutMs / 1000));
      }
      if (isServiceError(error)) this.events.failure(name, status[(error as ServiceError).code]);
      throw error;
    }
  }

  private createBreaker(name: UpstreamName) {
    const breaker = new CircuitBreaker((run: () => Promise<unknown>) => run(), {
      timeout: false, // every call has its own gRPC deadline
      errorThresholdPercentage: this.breaker.errorThresholdPercentage,
      volumeThreshold: this.breaker.volumeThreshold,
      resetTimeout: this.breaker.resetTimeoutMs,
      rollingCountTimeout: 10_000,
      rollingCountBuckets: 10,
      errorFilter: (error: unknown) => !(isServiceError(error) && UNWELL.has(error.code)),
    });
    breaker.on('open', () => this.events.state(name, 'open'));
    breaker.on('halfOpen', () => this.events.state(name, 'half-open'));
    breaker.on('close', () => this.events.state(name, 'closed'));
    return breaker;
  }
}
