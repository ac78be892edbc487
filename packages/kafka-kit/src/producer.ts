import { Partitioners, type Kafka, type Producer } from 'kafkajs';

/**
 * An idempotent producer (acks from all in-sync replicas, broker-side dedupe of retried sends), the only kind
 * the mesh uses: every event is keyed by an id its consumers dedupe on, and a retry must never reorder or
 * duplicate within a partition.
 */
export async function connectProducer(kafka: Kafka): Promise<Producer> {
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    // Java's murmur2 partitioner, so every client in any language puts an order id on the same partition.
    createPartitioner: Partitioners.DefaultPartitioner,
    // An idempotent producer must keep retrying a send rather than give up and let a retry reorder it; the
    // relays that call it are loops that resume when Kafka is back.
    retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 200, maxRetryTime: 5_000 },
  });
  await producer.connect();
  return producer;
}
