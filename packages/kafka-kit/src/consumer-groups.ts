import type { TopicNames } from './topics';

type TopicKey = keyof TopicNames;

/**
 * Every consumer group of the mesh, by its name behind `KAFKA_GROUP_PREFIX`, with the topics it reads. The services
 * start their consumers from this list, and every service that uses Kafka reports the lag of all of them, so one
 * place names them all.
 */
export const ConsumerGroups = {
  /** inventory: records accepted reservations in its PostgreSQL ledger. */
  InventoryLedger: { name: 'inventory.reservation-ledger', topics: ['OrderRequested'] },
  /** inventory: confirms or releases stock as orders are paid, expire or are cancelled. */
  InventoryOrderEvents: { name: 'inventory.order-events', topics: ['OrderEvents'] },
  /** order: turns reservations into orders and applies payment outcomes. */
  OrderRequestsAndPayments: { name: 'order.requests-and-payments', topics: ['OrderRequested', 'PaymentEvents'] },
  /** order: expires orders at their payment deadline. */
  OrderDeadlines: { name: 'order.deadlines', topics: ['OrderDeadlines'] },
  /** payment: refunds payments whose order could not take them. */
  PaymentOrderRefunds: { name: 'payment.order-refunds', topics: ['OrderEvents'] },
} as const satisfies Record<string, { name: string; topics: readonly TopicKey[] }>;

export type ConsumerGroupKey = keyof typeof ConsumerGroups;

/** One group as a mesh names it: its id (behind the prefix) and its topics' names (behind theirs). */
export interface MeshConsumerGroup {
  groupId: string;
  topics: string[];
}

/** The mesh's consumer groups behind `groupPrefix`, reading `topics` (see `topicNames`). */
export function consumerGroups(
  groupPrefix: string,
  topics: TopicNames,
): { readonly [K in ConsumerGroupKey]: MeshConsumerGroup } {
  const entries = Object.entries(ConsumerGroups).map(([key, group]) => [
    key,
    { groupId: `${groupPrefix}${group.name}`, topics: group.topics.map((topic) => topics[topic]) },
  ]);
  return Object.freeze(Object.fromEntries(entries)) as { readonly [K in ConsumerGroupKey]: MeshConsumerGroup };
}
