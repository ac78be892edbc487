import { status } from '@grpc/grpc-js';
import { inventoryV1 } from '@flash-sale/contracts';
import { callUnary, isServiceError } from '@flash-sale/grpc-kit';
import type { Promotion } from '../domain/promotion';
import type { InventoryPort } from '../application/ports';

/**
 * The inventory service over gRPC, with a deadline on every call. Calls wait, within it, for an inventory that is
 * not connected yet (starting after this service, or restarting) rather than failing at once: creating and
 * preheating sales are rare, and a sale refused only because the channel was between two connection attempts
 * was a real failure (the fault harness's first sale, created right after the mesh came up).
 */
export class GrpcInventory implements InventoryPort {
  constructor(
    private readonly client: inventoryV1.InventoryServiceClient,
    private readonly timeoutMs: number,
  ) {}

  private get settings() {
    return { timeoutMs: this.timeoutMs, waitForReady: true };
  }

  async prepareSale(promotion: Promotion): Promise<number> {
    const request = inventoryV1.PrepareSaleRequest.fromPartial({
      promotionId: promotion.id,
      priceCents: promotion.priceCents.toString(),
      stock: promotion.stock,
      perUserLimit: promotion.perUserLimit,
      startsAt: promotion.startsAt,
      endsAt: promotion.endsAt,
      paymentTimeoutSeconds: promotion.paymentTimeoutSeconds,
    });
    const reply = await callUnary(this.client.prepareSale, this.client, request, this.settings);
    return reply.availableStock;
  }

  async availableStock(promotionId: string): Promise<number | undefined> {
    try {
      const reply = await callUnary(this.client.getStock, this.client, { promotionId }, this.settings);
      return reply.availableStock;
    } catch (error) {
      if (isServiceError(error) && error.code === status.NOT_FOUND) return undefined;
      throw error;
    }
  }
}
