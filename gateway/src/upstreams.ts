import { Metadata, type Client } from '@grpc/grpc-js';
import { inventoryV1, orderV1, paymentV1, promotionV1 } from '@flash-sale/contracts';
import { callerMetadata, callUnary, createClient } from '@flash-sale/grpc-kit';
import type { Principal } from './auth/jwt';
import type { GatewayConfig } from './config';

export interface Upstreams {
  promotion: promotionV1.PromotionServiceClient;
  inventory: inventoryV1.InventoryServiceClient;
  order: orderV1.OrderServiceClient;
  payment: paymentV1.PaymentServiceClient;
}

/** One long-lived channel per upstream service. */
export function connectUpstreams(config: GatewayConfig): Upstreams {
  return {
    promotion: createClient(promotionV1.PromotionServiceClient, config.PROMOTION_ADDR),
    inventory: createClient(inventoryV1.InventoryServiceClient, config.INVENTORY_ADDR),
    order: createClient(orderV1.OrderServiceClient, config.ORDER_ADDR),
    payment: createClient(paymentV1.PaymentServiceClient, config.PAYMENT_ADDR),
  };
}

export function closeUpstreams(upstreams: Upstreams): void {
  for (const client of Object.values(upstreams) as Client[]) client.close();
}

export interface CallScope {
  principal?: Principal;
  requestId: string;
  timeoutMs: number;
}

type Method<Req, Res> = Parameters<typeof callUnary<Req, Res>>[0];

/** Calls an upstream with the caller's identity and the request id in metadata, and a deadline. */
export function invoke<Req, Res>(
  client: Client,
  method: Method<Req, Res>,
  request: Req,
  scope: CallScope,
): Promise<Res> {
  const metadata = new Metadata();
  metadata.set('x-request-id', scope.requestId);
  if (scope.principal) callerMetadata(scope.principal, metadata);
  return callUnary(method, client, request, { timeoutMs: scope.timeoutMs, metadata });
}
