import { infra, serviceEnv, uniqueSuffix } from '@flash-sale/testing';
import { startGateway } from '../gateway/src/main';
import { loadGatewayConfig } from '../gateway/src/config';
import { loadInventoryConfig } from '../services/inventory/src/config';
import { startInventoryService } from '../services/inventory/src/service';
import { loadOrderConfig } from '../services/order/src/config';
import { startOrderService } from '../services/order/src/service';
import { loadPaymentConfig } from '../services/payment/src/config';
import { startPaymentService } from '../services/payment/src/service';
import { loadPromotionConfig } from '../services/promotion/src/config';
import { startPromotionService } from '../services/promotion/src/service';

export const JWT_SECRET = `e2e-secret-${uniqueSuffix()}-0123456789`;

export interface Mesh {
  url: string;
  /** The gateway's gRPC front door (TLS, the local PKI's front-door certificate), `127.0.0.1:<port>`. */
  door: string;
  /** The services' gRPC addresses, for a second gateway. */
  addresses: { PROMOTION_ADDR: string; INVENTORY_ADDR: string; ORDER_ADDR: string; PAYMENT_ADDR: string };
  /** Each component's Prometheus `/metrics` URL (the services' on a free METRICS_PORT, the gateway's on its HTTP port). */
  metrics: Record<'promotion' | 'inventory' | 'order' | 'payment' | 'gateway', string>;
  stop(): Promise<void>;
}

/** Extra environment per service, over the defaults (each serves its metrics on a free port unless told one). */
export interface MeshOptions {
  inventory?: Record<string, string>;
  promotion?: Record<string, string>;
  order?: Record<string, string>;
  payment?: Record<string, string>;
  gateway?: Record<string, string>;
}

/** A gateway's environment in tests: the given upstreams, port 0, quiet, limits off unless `extra` sets them. */
export function gatewayEnv(addresses: Mesh['addresses'], extra: Record<string, string> = {}): Record<string, string> {
  return {
    HTTP_PORT: '0',
    GRPC_DOOR_PORT: '0',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    JWT_SECRET,
    ...addresses,
    SHUTDOWN_GRACE_MS: '2000',
    REDIS_URL: infra.redisUrl,
    // Long, so tests prove that signals (not the TTL) open a sale again.
    SOLD_OUT_TTL_MS: '600000',
    // Tests drive many requests per user from one address; the limits have tests of their own.
    RATE_LIMIT_USER_PER_SECOND: '0',
    RATE_LIMIT_IP_PER_SECOND: '0',
    ...extra,
  };
}

/** Boots the four services and the gateway in this process, each on a free port, against the real infrastructure. */
export async function startMesh(options: MeshOptions = {}): Promise<Mesh> {
  const address = (port: number) => `127.0.0.1:${port}`;
  const metrics = { METRICS_PORT: '0' };
  const inventory = await startInventoryService(
    loadInventoryConfig(serviceEnv('inventory', { ...metrics, ...options.inventory })),
  );
  const order = await startOrderService(
    loadOrderConfig(serviceEnv('orders', { ...metrics, INVENTORY_ADDR: address(inventory.port), ...options.order })),
  );
  const payment = await startPaymentService(
    loadPaymentConfig(
      serviceEnv('payment', {
        ...metrics,
        ORDER_ADDR: address(order.port),
        PROVIDER_LATENCY_MS: '5',
        ...options.payment,
      }),
    ),
  );
  const promotion = await startPromotionService(
    loadPromotionConfig(
      serviceEnv('promotion', { ...metrics, INVENTORY_ADDR: address(inventory.port), ...options.promotion }),
    ),
  );
  const addresses = {
    PROMOTION_ADDR: address(promotion.port),
    INVENTORY_ADDR: address(inventory.port),
    ORDER_ADDR: address(order.port),
    PAYMENT_ADDR: address(payment.port),
  };
  const gateway = await startGateway(loadGatewayConfig(gatewayEnv(addresses, options.gateway)));
  const url = `http://127.0.0.1:${gateway.port}`;
  const metricsAt = (service: { metricsPort?: number | undefined }) =>
    service.metricsPort === undefined ? '' : `http://127.0.0.1:${service.metricsPort}/metrics`;
  return {
    url,
    door: address(gateway.grpcPort),
    addresses,
    metrics: {
      promotion: metricsAt(promotion),
      inventory: metricsAt(inventory),
      order: metricsAt(order),
      payment: metricsAt(payment),
      gateway: `${url}/metrics`,
    },
    async stop() {
      await gateway.stop();
      await Promise.all([promotion.stop(), payment.stop()]);
      await order.stop();
      await inventory.stop();
    },
  };
}
