import { inventoryV1 } from '@flash-sale/contracts';
import { requireCaller, unary } from '@flash-sale/grpc-kit';
import type { Logger } from '@flash-sale/logging';
import type { Reservation } from '../domain/reservation';
import type { PrepareSale } from '../application/prepare-sale';
import type { QueryStock } from '../application/query-stock';
import type { ReserveStock } from '../application/reserve-stock';
import type { SettleReservation } from '../application/settle-reservation';

export interface InventoryUseCases {
  reserve: ReserveStock;
  prepare: PrepareSale;
  query: QueryStock;
  settle: SettleReservation;
}

const STATUS = {
  RESERVED: inventoryV1.ReservationStatus.RESERVATION_STATUS_RESERVED,
  RELEASED: inventoryV1.ReservationStatus.RESERVATION_STATUS_RELEASED,
  CONFIRMED: inventoryV1.ReservationStatus.RESERVATION_STATUS_CONFIRMED,
} as const;

const toReservation = (r: Reservation): inventoryV1.Reservation => ({
  orderId: r.orderId,
  promotionId: r.promotionId,
  userId: r.userId,
  quantity: r.quantity,
  amountCents: r.amountCents.toString(),
  status: STATUS[r.status],
  reserveTime: new Date(r.reservedAtMs),
});

/** gRPC handlers: map the request to a command, call the use case, map the result. Nothing else. */
export function inventoryHandlers(useCases: InventoryUseCases, logger: Logger): inventoryV1.InventoryServiceServer {
  const method = (name: string) => `flashsale.inventory.v1.InventoryService/${name}`;
  return {
    reserve: unary(method('Reserve'), logger, async (request: inventoryV1.ReserveRequest, { metadata }) => {
      const caller = requireCaller(metadata);
      const reserved = await useCases.reserve.execute({
        promotionId: request.promotionId,
        userId: caller.userId,
        quantity: request.quantity,
        idempotencyKey: request.idempotencyKey,
      });
      return inventoryV1.ReserveResponse.fromPartial({
        orderId: reserved.orderId,
        status: STATUS.RESERVED,
        amountCents: reserved.amountCents.toString(),
        reserveTime: new Date(reserved.reservedAtMs),
        replayed: reserved.replayed,
      });
    }),
    getReservation: unary(method('GetReservation'), logger, async (request: inventoryV1.GetReservationRequest) =>
      inventoryV1.GetReservationResponse.fromPartial({
        reservation: toReservation(await useCases.query.reservation(request.orderId)),
      }),
    ),
    prepareSale: unary(method('PrepareSale'), logger, async (request: inventoryV1.PrepareSaleRequest) => {
      const available = await useCases.prepare.execute({
        promotionId: request.promotionId,
        priceCents: BigInt(request.priceCents),
        totalStock: request.stock,
        perUserLimit: request.perUserLimit,
        startsAt: request.startsAt ?? new Date(Number.NaN),
        endsAt: request.endsAt ?? new Date(Number.NaN),
        paymentTimeoutSeconds: request.paymentTimeoutSeconds,
      });
      return inventoryV1.PrepareSaleResponse.fromPartial({ availableStock: available });
    }),
    getStock: unary(method('GetStock'), logger, async (request: inventoryV1.GetStockRequest) => {
      const stock = await useCases.query.stock(request.promotionId);
      return inventoryV1.GetStockResponse.fromPartial({
        promotionId: stock.promotionId,
        totalStock: stock.total,
        availableStock: stock.available,
        sold: stock.sold,
        reserved: stock.reserved,
      });
    }),
    release: unary(method('Release'), logger, async (request: inventoryV1.ReleaseRequest) =>
      inventoryV1.ReleaseResponse.fromPartial({ released: await useCases.settle.release(request.orderId) }),
    ),
    confirm: unary(method('Confirm'), logger, async (request: inventoryV1.ConfirmRequest) =>
      inventoryV1.ConfirmResponse.fromPartial({ confirmed: await useCases.settle.confirm(request.orderId) }),
    ),
  };
}
