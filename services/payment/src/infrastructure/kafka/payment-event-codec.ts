import { paymentEventsV1 } from '@flash-sale/contracts';
import type { Payment } from '../../domain/payment';

/** Encodes a settled payment as the `PaymentEvent` published on `payment.events`, keyed by order id. */
export function encodePaymentEvent(eventId: string, payment: Payment, at: Date, refundReason?: string): Uint8Array {
  return paymentEventsV1.PaymentEvent.encode(
    paymentEventsV1.PaymentEvent.fromPartial({
      eventId,
      paymentId: payment.id,
      orderId: payment.orderId,
      userId: payment.userId,
      amountCents: payment.amountCents.toString(),
      occurTime: at,
      kind: kindOf(payment, refundReason),
    }),
  ).finish();
}

function kindOf(payment: Payment, refundReason?: string): paymentEventsV1.PaymentEvent['kind'] {
  if (payment.status === 'SUCCEEDED') {
    return { $case: 'paymentSucceeded', value: { providerReference: payment.providerReference ?? '' } };
  }
  if (payment.status === 'REFUNDED') return { $case: 'paymentRefunded', value: { reason: refundReason ?? '' } };
  return { $case: 'paymentFailed', value: { reason: payment.failureReason ?? '' } };
}
