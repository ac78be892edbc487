import { join } from 'node:path';

export * as promotionV1 from './gen/flashsale/promotion/v1/promotion';
export * as inventoryV1 from './gen/flashsale/inventory/v1/inventory';
export * as inventoryEventsV1 from './gen/flashsale/inventory/v1/events';
export * as orderV1 from './gen/flashsale/order/v1/order';
export * as orderEventsV1 from './gen/flashsale/order/v1/events';
export * as paymentV1 from './gen/flashsale/payment/v1/payment';
export * as paymentEventsV1 from './gen/flashsale/payment/v1/events';

/** The FileDescriptorSet of every proto (with imports), for server reflection and transcoding. */
export const descriptorSetPath = join(__dirname, '..', 'descriptor', 'flashsale.binpb');

/** The FileDescriptorSet of the gRPC protos every server implements besides ours: health and reflection. */
export const grpcDescriptorSetPath = join(__dirname, '..', 'descriptor', 'grpc.binpb');

/** Fully qualified names of the mesh's gRPC services. */
export const SERVICE_NAMES = [
  'flashsale.promotion.v1.PromotionService',
  'flashsale.inventory.v1.InventoryService',
  'flashsale.order.v1.OrderService',
  'flashsale.payment.v1.PaymentService',
] as const;
export { INVENTORY_EVENTS_CHANNEL } from './channels';
export { loadHttpRules, meshHttpRules, type HttpRule } from './http-rules';
