import { orderV1, paymentV1 } from '@flash-sale/contracts';
import { assertId, notFound } from '@flash-sale/errors';
import { requireCaller, unary } from '@flash-sale/grpc-kit';
import type { Logger } from '@flash-sale/logging';
import type { Payment, PaymentStatus } from '../domain/payment';
import type { PayOrder } from '../application/pay-order';
import type { PaymentRepository } from '../application/ports';

export interface PaymentUseCases {
  pay: PayOrder;
  payments: Pick<PaymentRepository, 'find'>;
}

const S = paymentV1.PaymentStatus;
const STATUS: Record<PaymentStatus, paymentV1.PaymentStatus> = {
  PENDING: S.PAYMENT_STATUS_PENDING,
  SUCCEEDED: S.PAYMENT_STATUS_SUCCEEDED,
  FAILED: S.PAYMENT_STATUS_FAILED,
  REFUNDED: S.PAYMENT_STATUS_REFUNDED,
};

const toMessage = (payment: Payment): paymentV1.Payment =>
  paymentV1.Payment.fromPartial({
    paymentId: payment.id,
    orderId: payment.orderId,
    userId: payment.userId,
    amountCents: payment.amountCents.toString(),
    status: STATUS[payment.status],
    providerReference: payment.providerReference ?? '',
    createTime: payment.createdAt,
    ...(payment.refundedAt ? { refundTime: payment.refundedAt } : {}),
  });

export function paymentHandlers(useCases: PaymentUseCases, logger: Logger): paymentV1.PaymentServiceServer {
  const method = (name: string) => `flashsale.payment.v1.PaymentService/${name}`;
  return {
    pay: unary(method('Pay'), logger, async (request: paymentV1.PayRequest, { metadata }) => {
      const caller = requireCaller(metadata);
      const { payment, orderStatus } = await useCases.pay.execute({
        orderId: request.orderId,
        userId: caller.userId,
        idempotencyKey: request.idempotencyKey,
      });
      return {
        payment: toMessage(payment),
        orderStatus:
          orderStatus === 'PAID' ? orderV1.OrderStatus.ORDER_STATUS_PAID : orderV1.OrderStatus.ORDER_STATUS_PAYING,
      };
    }),
    getPayment: unary(method('GetPayment'), logger, async (request: paymentV1.GetPaymentRequest, { metadata }) => {
      const caller = requireCaller(metadata);
      const payment = await useCases.payments.find(assertId(request.paymentId, 'payment_id'));
      if (!payment || (payment.userId !== caller.userId && !caller.isAdmin)) {
        throw notFound('PAYMENT_NOT_FOUND', `payment ${request.paymentId} does not exist`, {
          payment_id: request.paymentId,
        });
      }
      return { payment: toMessage(payment) };
    }),
  };
}
