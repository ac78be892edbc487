import { Metadata, status } from '@grpc/grpc-js';
import { orderV1 } from '@flash-sale/contracts';
import { callerMetadata, callUnary, isServiceError } from '@flash-sale/grpc-kit';
import type { PayableOrder } from '../../domain/payment';
import type { OrderLookup } from '../../application/ports';

/** Reads the order from the order service as its buyer, so the order service's own visibility rules apply. */
export class GrpcOrderLookup implements OrderLookup {
  constructor(
    private readonly client: orderV1.OrderServiceClient,
    private readonly timeoutMs: number,
  ) {}

  async find(orderId: string, userId: string): Promise<PayableOrder | undefined> {
    const metadata = callerMetadata({ userId, roles: [] }, new Metadata());
    try {
      const { order } = await callUnary(
        this.client.getOrder,
        this.client,
        { orderId },
        { timeoutMs: this.timeoutMs, metadata },
      );
      if (!order) return undefined;
      return {
        id: order.orderId,
        userId: order.userId,
        status: orderV1.orderStatusToJSON(order.status).replace('ORDER_STATUS_', ''),
        amountCents: BigInt(order.amountCents),
        ...(order.expireTime ? { expiresAt: order.expireTime } : {}),
      };
    } catch (error) {
      if (isServiceError(error) && error.code === status.NOT_FOUND) return undefined;
      throw error;
    }
  }
}
