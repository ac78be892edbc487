import { z } from '@flash-sale/config';

/**
 * The JSON shapes of the HTTP API, in one place: requests are validated against them and the OpenAPI document is
 * generated from them, so the two cannot drift apart.
 */

/** Snowflake ids travel as decimal strings. */
export const id = z
  .string()
  .regex(/^[1-9][0-9]{0,18}$/, 'must be a decimal id')
  .meta({ example: '385718209098100774' });
const timestamp = z.iso.datetime({ offset: true }).meta({ example: '2026-12-01T10:00:00Z' });
const cents = z.number().int().min(0).meta({ description: 'integer cents' });
const pageToken = z.string().max(64).meta({ description: 'nextPageToken of the previous page' });
const pageSize = z.coerce.number().int().min(1).max(100);

export const promotionStatus = z.enum(['SCHEDULED', 'ACTIVE', 'SOLD_OUT', 'ENDED']);
export const orderStatus = z
  .enum(['PENDING', 'AWAITING_PAYMENT', 'PAYING', 'PAID', 'EXPIRED', 'CANCELLED', 'REFUNDED'])
  .meta({
    description:
      'PENDING: accepted, not yet written. AWAITING_PAYMENT: payable until expiresAt. PAYING: a payment claimed it ' +
      'in time and is being charged (it ends PAID, or back to AWAITING_PAYMENT, or EXPIRED if the charge failed ' +
      'after the deadline). PAID. EXPIRED: not paid in time, stock released. CANCELLED: by the buyer, stock ' +
      'released. REFUNDED: a captured payment the order could no longer take was given back (rare).',
  });

// Requests.
export const promotionIdParams = z.object({ promotionId: id }).strict();
export const orderIdParams = z.object({ orderId: id }).strict();
export const createPromotionBody = z
  .object({
    itemId: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/)
      .meta({ description: '1-64 letters, digits or . _ : -, starting with a letter or digit' }),
    title: z
      .string()
      .min(1)
      .max(200)
      // eslint-disable-next-line no-control-regex -- refusing control characters is the point
      .regex(/^[^\u0000-\u001f\u007f-\u009f]*$/)
      .meta({ description: 'Well-formed text without control characters' }),
    priceCents: z.number().int().min(0).max(10_000_000_000),
    stock: z.number().int().min(1).max(10_000_000),
    perUserLimit: z.number().int().min(1).max(100),
    startsAt: timestamp,
    endsAt: timestamp,
    paymentTimeoutSeconds: z.number().int().min(1).max(86_400),
  })
  .strict()
  .meta({ id: 'CreatePromotion' });
/**
 * The documented example of a new sale: open from the start of the current hour for a day, so it is accepted whenever
 * the document is read (a fixed date would soon be in the past, and sales are at most 90 days long).
 */
export function createPromotionExample(now: Date): z.input<typeof createPromotionBody> {
  const hour = 3_600_000;
  const startsAt = new Date(Math.floor(now.getTime() / hour) * hour);
  return {
    itemId: 'sku-phone-1',
    title: 'Phone, launch day',
    priceCents: 19_900,
    stock: 100,
    perUserLimit: 1,
    startsAt: startsAt.toISOString(),
    endsAt: new Date(startsAt.getTime() + 24 * hour).toISOString(),
    paymentTimeoutSeconds: 900,
  };
}
export const purchaseBody = z
  .object({ quantity: z.number().int().min(1).max(100).default(1) })
  .strict()
  .meta({ id: 'Purchase' });
export const listPromotionsQuery = z
  .object({ status: promotionStatus.optional(), pageSize: pageSize.optional(), pageToken: pageToken.optional() })
  .strict();
export const listOrdersQuery = z.object({ pageSize: pageSize.optional(), pageToken: pageToken.optional() }).strict();
/** 1-128 visible ASCII characters, as the services require. */
export const idempotencyKey = z.string().regex(/^[\x21-\x7e]{1,128}$/, 'must be 1-128 visible ASCII characters');

// Responses.
export const promotion = z
  .object({
    id,
    itemId: z.string(),
    title: z.string(),
    priceCents: cents,
    stock: z.number().int(),
    perUserLimit: z.number().int(),
    startsAt: timestamp,
    endsAt: timestamp,
    paymentTimeoutSeconds: z.number().int(),
    status: promotionStatus,
    availableStock: z.number().int(),
    createdAt: timestamp.optional(),
  })
  .meta({ id: 'Promotion' });
export const promotionList = z
  .object({ promotions: z.array(promotion), nextPageToken: z.string().optional() })
  .meta({ id: 'PromotionList' });
export const order = z
  .object({
    id,
    promotionId: id,
    userId: z.string(),
    quantity: z.number().int(),
    amountCents: cents,
    status: orderStatus,
    createdAt: timestamp.optional(),
    expiresAt: timestamp.optional(),
    paidAt: timestamp.optional(),
    paymentId: id.optional(),
  })
  .meta({ id: 'Order' });
export const orderList = z
  .object({ orders: z.array(order), nextPageToken: z.string().optional() })
  .meta({ id: 'OrderList' });
export const purchaseAccepted = z
  .object({ orderId: id, status: z.literal('PENDING') })
  .meta({ id: 'PurchaseAccepted' });
export const payment = z
  .object({
    status: z.enum(['PAID', 'PAYING']).meta({
      description: "the order's status: PAID (200) once it is paid, PAYING (202) while the charge still runs",
    }),
    paymentId: id,
    orderId: id,
    amountCents: cents,
  })
  .meta({ id: 'Payment' });
const statusCount = z.object({ orders: z.number().int(), units: z.number().int() });
/** Order statuses that have a row (PENDING has none, so a summary never counts it). */
export const WRITTEN_STATUSES = ['AWAITING_PAYMENT', 'PAYING', 'PAID', 'EXPIRED', 'CANCELLED', 'REFUNDED'] as const;
export const orderSummary = z
  .object({
    promotionId: id,
    orders: z.number().int().meta({ description: 'order rows written for the promotion, all statuses' }),
    units: z.number().int().meta({ description: 'units in those orders' }),
    byStatus: z
      .object(
        Object.fromEntries(WRITTEN_STATUSES.map((status) => [status, statusCount])) as Record<
          (typeof WRITTEN_STATUSES)[number],
          typeof statusCount
        >,
      )
      .meta({ description: 'orders and units in each status (zero when none)' }),
    firstOrderAt: timestamp.optional(),
    lastOrderAt: timestamp
      .optional()
      .meta({ description: 'when the latest order was accepted: for a sold-out sale, when its last unit went' }),
  })
  .meta({
    id: 'OrderSummary',
    description:
      'Counted from the order rows. Purchases accepted but not written yet (PENDING) are not in it: compare with ' +
      'the stock sold to see how many are still on their way.',
  });
export const problem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.string().meta({ description: 'stable and machine-readable: branch on this, never on detail' }),
    instance: z.string().optional(),
    requestId: z.string().optional(),
    errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
  })
  .meta({ id: 'Problem', description: 'RFC 9457 problem details, sent as application/problem+json' });
