import type { Order, OrderRequest, OrderStatus } from '../domain/order';

/** A state change after the order was written, as announced on `order.events`. */
export type OrderChange =
  | { kind: 'PAID'; paymentId: string }
  | { kind: 'EXPIRED' }
  | { kind: 'CANCELLED' }
  | { kind: 'REFUNDED'; paymentId: string; reason: string };

export interface Transition {
  orderId: string;
  /** The update applies only while the order is in one of these states (the race arbiter). */
  from: OrderStatus[];
  to: OrderStatus;
  /** What to announce on `order.events`; none for changes no other service acts on (a claim, a release). */
  change?: OrderChange;
  /** Columns to set; null clears one. */
  patch?: { paidAt?: Date; paymentId?: string | null; paymentClaimedAt?: Date | null };
  /** The consumed event that causes it; recorded in the same transaction so a redelivery is a no-op. */
  causedBy?: string;
  /** The update applies only if the order's payment deadline is at or before this time (expiry). */
  dueBy?: Date;
  /** The update applies only if the order's payment deadline is after this time (a claim). */
  aliveAt?: Date;
  /** The update applies only while this payment holds the order (its outcome). */
  heldBy?: string;
  /** Bounds the transaction in the database: it commits within this many milliseconds or not at all. */
  boundMs?: number;
}

/**
 * How long a claim's transaction may take at most, in the database (statement and idle-in-transaction timeouts):
 * a claim the payment service gave up on can never commit later than this, long before payment recovery (which
 * waits far longer; its config checks it) treats the attempt as never charged.
 */
export const CLAIM_MAX_MS = 5_000;

export type TransitionResult = { applied: Order } | { notInState: true } | { duplicate: true };

/** The orders of one promotion in one status, as GetSaleSummary reports them. */
export interface StatusCount {
  status: Exclude<OrderStatus, 'PENDING'>;
  orders: number;
  units: number;
  firstCreatedAt: Date;
  lastCreatedAt: Date;
}

export interface OrderRepository {
  /**
   * In one transaction: inserts an order for each request whose order id is new (the order id is the request's
   * idempotency key) and writes the deadline of each order inserted. Returns the orders inserted now.
   */
  createRequested(requests: OrderRequest[]): Promise<Order[]>;
  find(id: string): Promise<Order | undefined>;
  listForUser(
    userId: string,
    page: { pageSize: number; afterId?: string },
  ): Promise<{ orders: Order[]; nextAfterId?: string }>;
  /** Applies a conditional state change and writes its event to the outbox, atomically. */
  transition(transition: Transition): Promise<TransitionResult>;
  /**
   * Expires up to `limit` orders still awaiting payment whose deadline is at or before `now`, oldest deadline
   * first, each with its OrderExpired event, in one transaction. Rows another sweeper holds are skipped, so
   * replicas sweep side by side. Returns the orders expired.
   */
  expireOverdue(now: Date, limit: number): Promise<Order[]>;
  /** The order rows of a promotion counted by status (statuses without orders left out). */
  countByStatus(promotionId: string): Promise<StatusCount[]>;
  /** The earliest deadline after `after` of an order still awaiting payment, if any. */
  earliestDeadline(after: Date): Promise<Date | undefined>;
}

/**
 * Wakes the overdue sweep when a known deadline comes due, so expiry is on time even when the deadline topic
 * holds a short deadline behind a long one (its partitions are consumed in order). Keeps only the earliest time.
 */
export interface DeadlineAlarm {
  expect(at: Date): void;
}

export const noAlarm: DeadlineAlarm = { expect: () => {} };

/** Expiry of one order, from its message on the deadline topic. */
export type ExpiryResult = 'EXPIRED' | 'NOT_DUE' | 'SETTLED' | 'UNKNOWN_ORDER';

/** A reservation that has no order row yet, as inventory reports it. */
export interface PendingReservation {
  orderId: string;
  promotionId: string;
  userId: string;
  quantity: number;
  amountCents: bigint;
  reservedAt: Date;
}

export interface IdGeneratorPort {
  next(): string;
}

export interface ReservationLookup {
  find(orderId: string): Promise<PendingReservation | undefined>;
}
