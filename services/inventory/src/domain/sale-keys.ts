/**
 * Redis keys of one promotion. Every key carries the hash tag `{promo:<id>}`, so all of them live in one
 * Redis Cluster slot and a Lua script may touch them together.
 */
export interface SaleKeys {
  /** Hash: sale terms (price, window, per-user limit, payment timeout, total stock). */
  meta: string;
  /** Integer: units still available. */
  stock: string;
  /** Hash: user id -> units the user holds (reserved or bought). */
  users: string;
  /** Hash: `<user id>:<idempotency key>` -> order id. */
  idempotency: string;
  /** Hash: order id -> reservation record (JSON). */
  reservations: string;
  /** Stream: reservations waiting to be published to Kafka (the outbox). */
  outbox: string;
  /**
   * Hash: `units` held by reservations not released (R and C) and `records`, how many reservations the scripts
   * wrote; kept by the scripts that move `stock`, so the reconciler checks the counter in O(1). Absent where it is
   * not known (see `RECOUNT_HELD`): never assumed 0.
   */
  held: string;
  /**
   * Integer: bumped by every script that adds a reservation or moves `held`, so a recount spread over many calls
   * can tell whether anything moved between its first page and its last. Starts at a random value.
   */
  writes: string;
}

export const hashTag = (promotionId: string) => `{promo:${promotionId}}`;

export function saleKeys(promotionId: string): SaleKeys {
  const tag = hashTag(promotionId);
  return {
    meta: `flashsale:${tag}:meta`,
    stock: `flashsale:${tag}:stock`,
    users: `flashsale:${tag}:users`,
    idempotency: `flashsale:${tag}:idem`,
    reservations: `flashsale:${tag}:reservations`,
    outbox: `flashsale:${tag}:outbox`,
    held: `flashsale:${tag}:held`,
    writes: `flashsale:${tag}:writes`,
  };
}

/** Order id -> promotion id, so an order can be found before its row exists. Not in the promotion's slot. */
export const orderIndexKey = (orderId: string) => `flashsale:order-promotion:${orderId}`;
