import type { PaymentProvider, PaymentRepository } from './ports';

export interface RefundRequest {
  eventId: string;
  paymentId: string;
  reason: string;
}

/**
 * Gives back a payment that lost its race (the order expired or was cancelled first). The provider's refund is
 * idempotent per payment, and the REFUNDED transition is recorded once per causing event.
 */
export class RefundPayment {
  constructor(
    private readonly payments: PaymentRepository,
    private readonly provider: PaymentProvider,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async execute(request: RefundRequest): Promise<boolean> {
    const payment = await this.payments.find(request.paymentId);
    if (!payment || payment.status !== 'SUCCEEDED' || !payment.providerReference) return false;
    await this.provider.refund({
      paymentId: payment.id,
      reference: payment.providerReference,
      amountCents: payment.amountCents,
    });
    return (await this.payments.markRefunded(payment.id, request.reason, this.clock(), request.eventId)) !== undefined;
  }
}
