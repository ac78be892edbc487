import type { Kafka, Producer } from 'kafkajs';

/**
 * An idempotent producer (acks from all in-sync replicas, broker-side dedupe of retried sends), the only kind
 * the mesh uses: every event is keyed by an id its consumers dedupe on, and a retry must never reorder or
 * duplicate within a partition.
 */
export async function connectProducer(kafka: Kafka): Promise<Producer> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  await producer.connect();
  return producer;
}
