import { inventoryV1 } from '@flash-sale/contracts';
import { requireCaller, toItemFailure, unary } from '@flash-sale/grpc-kit';
import { invalid, isDomainError } from '@flash-sale/errors';
import type { Logger } from '@flash-sale/logging';
import { inItemSpan } from '@flash-sale/observability';
import { acceptedOutcome, refusedOutcome, type Reservation } from '../domain/reservation';
import type { PrepareSale } from '../application/prepare-sale';
import type { QueryStock } from '../application/query-stock';
import type { ReserveStock } from '../application/reserve-stock';
import type { SettleReservation } from '../application/settle-reservation';
import { tally, type ReservationTally } from '../infrastructure/metrics/sale-figures';

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

const MAX_BATCH = 256;

/**
 * gRPC handlers: map the request to a command, call the use case, map the result; and tell `counted` what became of
 * the purchases, once per call (a batch's purchases together).
 */
export function inventoryHandlers(
  useCases: InventoryUseCases,
  logger: Logger,
  counted: (outcomes: ReservationTally) => void = () => undefined,
): inventoryV1.InventoryServiceServer {
  const method = (name: string) => `flashsale.inventory.v1.InventoryService/${name}`;
  const reserve = async (request: inventoryV1.ReserveRequest, userId: string) => {
    const reserved = await useCases.reserve.execute({
      promotionId: request.promotionId,
      userId,
      quantity: request.quantity,
      idempotencyKey: request.idempotencyKey,
    });
    if (!reserved.durable) logger.warn({ orderId: reserved.orderId }, 'purchase accepted before Kafka had it');
    return inventoryV1.ReserveResponse.fromPartial({
      orderId: reserved.orderId,
      status: STATUS.RESERVED,
      amountCents: reserved.amountCents.toString(),
      reserveTime: new Date(reserved.reservedAtMs),
      replayed: reserved.replayed,
    });
  };
  /** `reserve`, its outcome added to `outcomes`. */
  const reserveCounted = async (request: inventoryV1.ReserveRequest, userId: string, outcomes: ReservationTally) => {
    try {
      const reserved = await reserve(request, userId);
      tally(outcomes, request.promotionId, acceptedOutcome(reserved.replayed));
      return reserved;
    } catch (error) {
      const outcome = refusedOutcome(error);
      if (outcome) tally(outcomes, request.promotionId, outcome);
      throw error;
    }
  };
  return {
    reserve: unary(method('Reserve'), logger, async (request: inventoryV1.ReserveRequest, { metadata }) => {
      const outcomes: ReservationTally = new Map();
      try {
        return await reserveCounted(request, requireCaller(metadata).userId, outcomes);
      } finally {
        counted(outcomes);
      }
    }),
    reserveBatch: unary(method('ReserveBatch'), logger, async (request: inventoryV1.ReserveBatchRequest) => {
      if (request.items.length > MAX_BATCH) {
        throw invalid('BATCH_TOO_LARGE', `a batch holds at most ${MAX_BATCH} items`, { field: 'items' });
      }
      const outcomes: ReservationTally = new Map();
      // Each item is another buyer's purchase: it is reserved (and its outbox entry saved) in that purchase's trace.
      const results = await Promise.all(
        request.items.map(({ userId, request: item, traceparent, tracestate }) =>
          inItemSpan(
            'InventoryService/ReserveBatch item',
            traceparent ? { traceparent, tracestate } : undefined,
            async (): Promise<inventoryV1.ReserveBatchResult> => {
              try {
                if (!userId || !item) throw invalid('INVALID_ITEM', 'every item needs a user_id and a request');
                return { outcome: { $case: 'reserved', value: await reserveCounted(item, userId, outcomes) } };
              } catch (error) {
                if (!isDomainError(error)) logger.error({ err: error, method: 'ReserveBatch' }, 'batch item failed');
                return { outcome: { $case: 'failure', value: toItemFailure(error) } };
              }
            },
          ),
        ),
      );
      counted(outcomes);
      return { results };
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
