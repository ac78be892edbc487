import { status } from '@grpc/grpc-js';
import { orderV1 } from '@flash-sale/contracts';
import { notFound, precondition } from '@flash-sale/errors';
import { callUnary, isServiceError, readFailure, type UnaryMethod } from '@flash-sale/grpc-kit';
import type { OrderStatusName, PayableOrder } from '../../domain/payment';
import type { Orders } from '../../application/ports';

const statusName = (value: orderV1.OrderStatus): OrderStatusName =>
  orderV1.orderStatusToJSON(value).replace('ORDER_STATUS_', '');

/**
 * The order service's internal methods, each naming in the request the buyer it acts for, so the order service's
 * own ownership rules apply (caller metadata is for the fronts only; the order service refuses it from payment).
 * Its refusals (FAILED_PRECONDITION, NOT_FOUND) come back as domain errors with the order service's reason and
 * message; anything else (unavailable, deadline) is thrown as it is: the outcome is unknown.
 */
export class GrpcOrders implements Orders {
  constructor(
    private readonly client: orderV1.OrderServiceClient,
    private readonly timeoutMs: number,
  ) {}

  async find(orderId: string, userId: string): Promise<PayableOrder | undefined> {
    try {
      const { order } = await this.call(this.client.getBuyerOrder, { orderId, userId });
      if (!order) return undefined;
      return {
        id: order.orderId,
        userId: order.userId,
        status: statusName(order.status),
        amountCents: BigInt(order.amountCents),
        ...(order.expireTime ? { expiresAt: order.expireTime } : {}),
      };
    } catch (error) {
      if (isServiceError(error) && error.code === status.NOT_FOUND) return undefined;
      throw error;
    }
  }

  async claim(orderId: string, paymentId: string, userId: string): Promise<void> {
    await this.call(this.client.claimPayment, { orderId, paymentId, userId }).catch(asRefusal);
  }

  async settle(
    orderId: string,
    paymentId: string,
    userId: string,
    outcome: { succeeded: true; paidAt: Date } | { succeeded: false },
  ): Promise<OrderStatusName> {
    const request = orderV1.SettlePaymentRequest.fromPartial({
      orderId,
      paymentId,
      userId,
      succeeded: outcome.succeeded,
      ...(outcome.succeeded ? { paidTime: outcome.paidAt } : {}),
    });
    const { order } = await this.call(this.client.settlePayment, request).catch(asRefusal);
    return statusName(order!.status);
  }

  private call<Req, Res>(method: UnaryMethod<Req, Res>, request: Req): Promise<Res> {
    return callUnary(method, this.client, request, { timeoutMs: this.timeoutMs });
  }
}

/** A refusal by the order service becomes the same domain error here; anything else stays as it is. */
function asRefusal(error: unknown): never {
  if (isServiceError(error) && (error.code === status.FAILED_PRECONDITION || error.code === status.NOT_FOUND)) {
    const failure = readFailure(error);
    const missing = error.code === status.NOT_FOUND;
    const reason = failure.info?.reason ?? (missing ? 'ORDER_NOT_FOUND' : 'ORDER_NOT_PAYABLE');
    throw (missing ? notFound : precondition)(reason, failure.message, failure.info?.metadata ?? {});
  }
  throw error;
}
