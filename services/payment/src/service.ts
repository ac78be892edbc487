import { join } from 'node:path';
import { orderV1, paymentV1 } from '@flash-sale/contracts';
import { createDatabase } from '@flash-sale/db';
import { createClient, GrpcMetrics } from '@flash-sale/grpc-kit';
import {
  consumerGroups,
  PgOutboxRelay,
  PumpLoop,
  registerConsumerLag,
  registerOutboxGauges,
  startConsumer,
} from '@flash-sale/kafka-kit';
import {
  connectKafka,
  lostConnection,
  serve,
  startFoundation,
  startMetrics,
  type RunningService,
} from '@flash-sale/service-kit';
import { Counter } from 'prom-client';
import { paymentHandlers } from './api/payment-handlers';
import { PayOrder } from './application/pay-order';
import { RecoverPendingPayments } from './application/recover-payments';
import { RefundPayment } from './application/refund-payment';
import { SettleAttempt } from './application/settle-attempt';
import type { PaymentConfig } from './config';
import { paymentOutcome } from './domain/payment';
import { PrismaClient } from './generated/prisma/client';
import { GrpcOrders } from './infrastructure/grpc/grpc-orders';
import { HttpPaymentProvider } from './infrastructure/http-provider';
import { orderRefundsHandler } from './infrastructure/kafka/order-refunds-consumer';
import { PrismaPaymentRepository } from './infrastructure/prisma/prisma-payment-repository';
import { SimulatedProvider } from './infrastructure/simulated-provider';

const RECOVERY_BATCH = 100;

/** The payment service's composition root. */
export async function startPaymentService(config: PaymentConfig): Promise<RunningService> {
  const foundation = await startFoundation('payment', config, join(__dirname, '..', 'prisma', 'migrations'));
  const { logger, ids, shutdown, connection, transport } = foundation;
  const { adapter, sql } = createDatabase(config.DATABASE_URL, { onConnectionError: lostConnection(logger) });
  const prisma = new PrismaClient({ adapter });
  shutdown.add('postgres', () => prisma.$disconnect());
  const { kafka, producer, topics } = await connectKafka(foundation, config);
  const registry = await startMetrics(foundation, config.GRPC_HOST, config.METRICS_PORT);
  const orderClient = createClient(orderV1.OrderServiceClient, config.ORDER_ADDR, transport.client('order'), {
    metrics: GrpcMetrics.of(registry),
  });
  shutdown.add('order client', () => orderClient.close());

  const outcomes = new Counter({
    name: 'flashsale_payments_total',
    help: 'Payments settled, by outcome: succeeded, declined, failed (the order refused it), abandoned, refunded',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const relay = new PgOutboxRelay(sql, producer, logger, { table: `"${connection.schema}"."outbox"` });
  const payments = new PrismaPaymentRepository(prisma, ids, topics, relay.nudge, (payment) => {
    const outcome = paymentOutcome(payment);
    if (outcome) outcomes.inc({ outcome });
  });
  const provider = config.PAYMENT_PROVIDER_URL
    ? new HttpPaymentProvider(config.PAYMENT_PROVIDER_URL, { requestTimeoutMs: config.PROVIDER_REQUEST_TIMEOUT_MS })
    : new SimulatedProvider({ latencyMs: config.PROVIDER_LATENCY_MS, failureRate: config.PROVIDER_FAILURE_RATE });
  const orders = new GrpcOrders(orderClient, config.UPSTREAM_TIMEOUT_MS);
  const settle = new SettleAttempt(payments, orders, logger);
  const pay = new PayOrder(payments, orders, provider, settle, ids, logger, undefined, config.PROVIDER_TIMEOUT_MS);
  const recover = new RecoverPendingPayments(payments, provider, settle, logger, config.PAYMENT_RECOVERY_AFTER_MS);
  const recovery = new PumpLoop(() => recover.run(RECOVERY_BATCH), logger, {
    name: 'pending payment recovery',
    idleMs: config.PAYMENT_RECOVERY_INTERVAL_MS,
  });
  const refunds = new Counter({
    name: 'payment_refunds_total',
    help: 'Captured payments given back because their order could no longer take them, by reason',
    labelNames: ['reason'] as const,
    registers: [registry],
  });

  const groups = consumerGroups(config.KAFKA_GROUP_PREFIX, topics);
  const admin = kafka.admin();
  await admin.connect();
  shutdown.add('kafka admin', () => admin.disconnect());
  registerConsumerLag(registry, admin, Object.values(groups), logger);
  registerOutboxGauges(registry, 'postgres', () => relay.backlog(), logger);

  relay.start();
  shutdown.add('outbox relay', relay.stop);
  const consumer = await startConsumer({
    kafka,
    ...groups.PaymentOrderRefunds,
    // Reasons are a handful of fixed phrases (order-side), so the label set stays small.
    handler: orderRefundsHandler(new RefundPayment(payments, provider), logger, (reason) =>
      refunds.inc({ reason: reason.replace(/[0-9]+/g, 'N') }),
    ),
    logger,
    deadLetterProducer: producer,
    newGroupStartsAt: config.KAFKA_NEW_GROUP_START,
    sessionTimeoutMs: config.KAFKA_SESSION_TIMEOUT_MS,
  });
  shutdown.add('kafka consumer', () => consumer.disconnect());
  recovery.start();
  shutdown.add('pending payment recovery', recovery.stop);
  // Charges still running when the service stops get their outcome recorded (bounded by the provider's timeout).
  shutdown.add('charges in flight', () => pay.drain(config.SHUTDOWN_GRACE_MS));
  return serve(
    foundation,
    config,
    [
      {
        name: 'flashsale.payment.v1.PaymentService',
        definition: paymentV1.PaymentServiceService,
        implementation: paymentHandlers({ pay, payments }, logger),
      },
    ],
    registry,
  );
}
