import { Writable } from 'node:stream';
import type { KafkaMessage } from 'kafkajs';
import { orderEventsV1 } from '@flash-sale/contracts';
import { precondition } from '@flash-sale/errors';
import { createLogger } from '@flash-sale/logging';
import type { SettleReservation } from '../../application/settle-reservation';
import { orderEventsHandler } from './order-events-consumer';

function paid(orderId: string): KafkaMessage {
  const event = orderEventsV1.OrderEvent.fromPartial({
    eventId: '1',
    orderId,
    promotionId: '7',
    userId: 'ann',
    quantity: 1,
    kind: { $case: 'orderPaid', value: { paymentId: '9' } },
  });
  return { value: Buffer.from(orderEventsV1.OrderEvent.encode(event).finish()), offset: '0' } as KafkaMessage;
}

describe('orderEventsHandler', () => {
  it('when PostgreSQL refuses to count a paid order as sold (OVERSELL_REFUSED), then it is logged as an error with the sale, counted, and the partition moves on', async () => {
    const lines: Record<string, unknown>[] = [];
    const destination = new Writable({
      write(chunk, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()));
        done();
      },
    });
    const refusal = precondition('OVERSELL_REFUSED', 'PostgreSQL refused to count 1 more unit(s) of sale 7 as sold', {
      promotion_id: '7',
      sold: '2',
      total_stock: '2',
    });
    const settle = { confirm: jest.fn().mockRejectedValue(refusal) } as unknown as SettleReservation;
    const refused: string[] = [];
    const handler = orderEventsHandler(settle, createLogger({ service: 'inventory', destination }), (reason) =>
      refused.push(reason),
    );

    await expect(
      handler([paid('42')], {
        topic: 'order.events',
        partition: 0,
        heartbeat: async () => undefined,
        deadLetter: async () => undefined,
        within: (_message, fn) => fn(),
      }),
    ).resolves.toBeUndefined();

    expect(settle.confirm).toHaveBeenCalledWith('42');
    expect(refused).toEqual(['OVERSELL_REFUSED']);
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'error',
        orderId: '42',
        reason: 'OVERSELL_REFUSED',
        details: { promotion_id: '7', sold: '2', total_stock: '2' },
        msg: 'order event cannot settle its reservation',
      }),
    ]);
  });
});
