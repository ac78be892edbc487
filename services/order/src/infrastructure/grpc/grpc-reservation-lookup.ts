import { status } from '@grpc/grpc-js';
import { inventoryV1 } from '@flash-sale/contracts';
import { callUnary, isServiceError } from '@flash-sale/grpc-kit';
import type { PendingReservation, ReservationLookup } from '../../application/ports';

/** Asks inventory for a reservation that has no order row yet (the buyer sees it as PENDING). */
export class GrpcReservationLookup implements ReservationLookup {
  constructor(
    private readonly client: inventoryV1.InventoryServiceClient,
    private readonly timeoutMs: number,
  ) {}

  async find(orderId: string): Promise<PendingReservation | undefined> {
    try {
      const { reservation } = await callUnary(
        this.client.getReservation,
        this.client,
        { orderId },
        { timeoutMs: this.timeoutMs },
      );
      if (!reservation || reservation.status !== inventoryV1.ReservationStatus.RESERVATION_STATUS_RESERVED)
        return undefined;
      return {
        orderId: reservation.orderId,
        promotionId: reservation.promotionId,
        userId: reservation.userId,
        quantity: reservation.quantity,
        amountCents: BigInt(reservation.amountCents),
        reservedAt: reservation.reserveTime ?? new Date(0),
      };
    } catch (error) {
      if (isServiceError(error) && error.code === status.NOT_FOUND) return undefined;
      throw error;
    }
  }
}
