/**
 * PostgreSQL refuses an oversell on its own: `sold` never exceeds `total_stock`, even when Redis (the hot path's
 * counter) is wrong. The CHECK constraint refuses any writer; Confirm's guarded update reports the refusal as
 * FAILED_PRECONDITION OVERSELL_REFUSED and counts nothing.
 */
import { status } from '@grpc/grpc-js';
import { Client as PgClient, DatabaseError } from 'pg';
import { inventoryV1 } from '@flash-sale/contracts';
import { infra } from '@flash-sale/testing';
import { saleKeys } from '../src/domain/sale-keys';
import { call, newSale, outcome, reserve, saleRow, startInventory, type Harness } from './support';

let h: Harness;

beforeAll(async () => {
  // No reconciliation pass during a test: it would repair the counter the test makes wrong.
  // Confirm is driven by order events, and the allow-list lets no workload call it over gRPC: without mTLS here.
  h = await startInventory({ RECONCILE_INTERVAL_MS: '3600000', MTLS_MODE: 'off' });
});

afterAll(async () => {
  await h?.stop();
});

const RESERVED = inventoryV1.ReservationStatus.RESERVATION_STATUS_RESERVED;
const confirm = (orderId: string) => outcome(call(h.client, h.client.confirm, { orderId }));

describe('PostgreSQL refuses an oversell', () => {
  it('when any writer sets sold above total_stock, then PostgreSQL refuses it (check violation) and the row keeps its value', async () => {
    const promotionId = await newSale(h.client, { stock: 2 });
    const pg = new PgClient({ connectionString: infra.databaseUrl('inventory') });
    await pg.connect();
    try {
      const refused = await pg
        .query('UPDATE sales SET sold = total_stock + 1 WHERE promotion_id = $1', [promotionId])
        .then(
          () => undefined,
          (error: unknown) => error,
        );
      expect(refused).toBeInstanceOf(DatabaseError);
      expect(refused).toMatchObject({ code: '23514', constraint: 'sales_sold_within_stock' });
      await expect(pg.query('UPDATE sales SET sold = -1 WHERE promotion_id = $1', [promotionId])).rejects.toMatchObject(
        {
          code: '23514',
        },
      );
    } finally {
      await pg.end();
    }
    expect(await saleRow(promotionId)).toMatchObject({ total_stock: 2, sold: 0 });
  });

  it('when Redis lets a third unit of a two-unit sale be reserved and all three are paid, then the third Confirm fails with OVERSELL_REFUSED and sold stays at the stock', async () => {
    const promotionId = await newSale(h.client, { stock: 2 });
    // Redis is wrong: it believes three units are left.
    await h.redis.set(saleKeys(promotionId).stock, '3');
    const orders: string[] = [];
    for (const buyer of ['ann', 'bob', 'cyd']) {
      const reserved = await reserve(h.client, promotionId, buyer, 1, `oversell-${buyer}`);
      if (!reserved.ok) throw new Error(`reserve failed: ${JSON.stringify(reserved.failure)}`);
      orders.push(reserved.response.orderId);
    }

    expect(await confirm(orders[0]!)).toEqual({ ok: true, response: { confirmed: true } });
    expect(await confirm(orders[1]!)).toEqual({ ok: true, response: { confirmed: true } });
    const third = await confirm(orders[2]!);

    expect(third).toMatchObject({
      ok: false,
      failure: { code: status.FAILED_PRECONDITION, info: { reason: 'OVERSELL_REFUSED' } },
    });
    expect(await saleRow(promotionId)).toMatchObject({ total_stock: 2, sold: 2 });
    // Nothing of the refused settlement was kept: the reservation is still only reserved, in the ledger and Redis.
    const { reservation } = await call(h.client, h.client.getReservation, { orderId: orders[2]! });
    expect(reservation?.status).toBe(RESERVED);
    // Asked again (a redelivered event), it is refused again: never counted late.
    expect(await confirm(orders[2]!)).toMatchObject({ ok: false, failure: { info: { reason: 'OVERSELL_REFUSED' } } });
    expect(await saleRow(promotionId)).toMatchObject({ sold: 2 });
  });
});
