/** Kafka topic names. `infra/topics.json` creates them (partitions, config); a test keeps the two in step. */
export const Topics = {
  /** Reservations accepted by inventory, keyed by order id: the order service turns each into an order. */
  OrderRequested: 'order.requested',
  /** Order state changes (created, paid, expired, cancelled, refunded), keyed by order id. */
  OrderEvents: 'order.events',
  /** Payment outcomes, keyed by order id so they stay in order with the order's own events. */
  PaymentEvents: 'payment.events',
  /** Payment deadlines, consumed when due (Kafka has no delayed delivery). */
  OrderDeadlines: 'order.deadlines',
  /** Dead letters (`<topic>.dlq`): poison messages a consumer set aside, with the reason in their headers. */
  OrderRequestedDlq: 'order.requested.dlq',
  OrderEventsDlq: 'order.events.dlq',
  PaymentEventsDlq: 'payment.events.dlq',
  OrderDeadlinesDlq: 'order.deadlines.dlq',
} as const;

export type TopicName = (typeof Topics)[keyof typeof Topics];

/** The topics one mesh uses: `Topics`, each behind the mesh's prefix. */
export type TopicNames = { readonly [K in keyof typeof Topics]: string };

/**
 * The topic names behind `prefix` (`KAFKA_TOPIC_PREFIX`), so that several meshes share one Kafka cluster without
 * reading each other's events: staging beside production, or the tests and the benchmark beside `npm start`.
 * The empty prefix gives `Topics` themselves.
 */
export function topicNames(prefix: string): TopicNames {
  const entries = Object.entries(Topics).map(([key, name]) => [key, `${prefix}${name}`]);
  return Object.freeze(Object.fromEntries(entries)) as TopicNames;
}
