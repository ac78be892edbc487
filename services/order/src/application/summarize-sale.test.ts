import { InMemoryOrderRepository } from '../testing/in-memory-order-repository';
import { SummarizeSale } from './summarize-sale';

const at = (second: number) => new Date(Date.UTC(2030, 0, 1, 0, 0, second));
const request = (orderId: string, promotionId: string, quantity: number, second: number) => ({
  eventId: orderId,
  orderId,
  promotionId,
  userId: `buyer-${orderId}`,
  quantity,
  amountCents: 100n * BigInt(quantity),
  reservedAt: at(second),
  paymentTimeoutSeconds: 60,
});

describe('SummarizeSale', () => {
  it("when a promotion has orders in several states, then it counts only that promotion's orders and units by status", async () => {
    const orders = new InMemoryOrderRepository();
    await orders.createRequested([
      request('11', '7', 2, 5),
      request('12', '7', 1, 1),
      request('13', '7', 1, 9),
      request('14', '8', 3, 0),
    ]);
    await orders.transition({ orderId: '12', from: ['AWAITING_PAYMENT'], to: 'PAID' });

    const summary = await new SummarizeSale(orders).execute('7');

    expect(summary).toEqual({
      promotionId: '7',
      statuses: expect.arrayContaining([
        { status: 'AWAITING_PAYMENT', orders: 2, units: 3, firstCreatedAt: at(5), lastCreatedAt: at(9) },
        { status: 'PAID', orders: 1, units: 1, firstCreatedAt: at(1), lastCreatedAt: at(1) },
      ]),
      orders: 3,
      units: 4,
      firstOrderAt: at(1),
      lastOrderAt: at(9),
    });
    expect(summary.statuses).toHaveLength(2);
  });

  it('when a promotion has no orders, then everything is zero and there are no times', async () => {
    expect(await new SummarizeSale(new InMemoryOrderRepository()).execute('7')).toEqual({
      promotionId: '7',
      statuses: [],
      orders: 0,
      units: 0,
    });
  });

  it('when the promotion id is not a decimal id, then it is refused', async () => {
    await expect(new SummarizeSale(new InMemoryOrderRepository()).execute('x')).rejects.toThrow(/promotion_id/);
  });
});
