import { Metadata, status } from '@grpc/grpc-js';
import {
  as,
  failureOf,
  newId,
  newUser,
  OrderStatus,
  paymentSucceeded,
  placeOrder,
  sendPaymentEvent,
  useOrderStack,
} from './support';

const h = useOrderStack();

describe('order service: who sees which orders', () => {
  it('when another user asks for an order, then it does not exist for them; an admin sees it', async () => {
    const order = await placeOrder(h.producer, h.orders);

    const stranger = await failureOf(h.orders.get(order.orderId, as(newUser('stranger'))));
    expect(stranger).toMatchObject({
      code: status.NOT_FOUND,
      info: { reason: 'ORDER_NOT_FOUND', metadata: { order_id: order.orderId } },
    });
    const seen = await h.orders.get(order.orderId, as(newUser('ops'), ['admin']));
    expect(seen).toMatchObject({ orderId: order.orderId, userId: order.userId });
  });

  it('when a call carries no caller, then it is UNAUTHENTICATED', async () => {
    const order = await placeOrder(h.producer, h.orders);
    const anonymous = await failureOf(h.orders.get(order.orderId, new Metadata()));
    expect(anonymous.code).toBe(status.UNAUTHENTICATED);
  });

  it('when an order id is not a decimal id, then INVALID_ARGUMENT names the field', async () => {
    const bad = await failureOf(h.orders.get('0', as(newUser())));
    expect(bad).toMatchObject({
      code: status.INVALID_ARGUMENT,
      info: { reason: 'INVALID_ID', metadata: { field: 'order_id' } },
    });
  });

  it('when a buyer lists 5 orders 2 at a time, then three pages come newest first and the last has no token', async () => {
    const userId = newUser();
    const placed = [];
    for (let i = 0; i < 5; i += 1) placed.push(await placeOrder(h.producer, h.orders, { userId }));
    await placeOrder(h.producer, h.orders); // somebody else's, never listed

    const pages: string[][] = [];
    let token = '';
    do {
      const page = await h.orders.list(as(userId), 2, token);
      pages.push(page.orders.map((order) => order.orderId));
      expect(page.orders.every((order) => order.userId === userId)).toBe(true);
      token = page.nextPageToken;
    } while (token !== '' && pages.length < 10);

    const newestFirst = placed.map((order) => order.orderId).sort((a, b) => (BigInt(b) > BigInt(a) ? 1 : -1));
    expect(pages).toEqual([newestFirst.slice(0, 2), newestFirst.slice(2, 4), newestFirst.slice(4)]);
  });

  it('when a page token is not one we issued, then INVALID_ARGUMENT names page_token', async () => {
    const bad = await failureOf(h.orders.list(as(newUser()), 2, 'not-a-token'));
    expect(bad).toMatchObject({ code: status.INVALID_ARGUMENT, info: { metadata: { field: 'page_token' } } });
  });

  it("when an admin asks for a promotion's order summary, then the rows are counted by status; a buyer is refused", async () => {
    const promotionId = newId();
    const first = await placeOrder(h.producer, h.orders, { promotionId, quantity: 2 });
    const paid = await placeOrder(h.producer, h.orders, { promotionId });
    await placeOrder(h.producer, h.orders); // another promotion's, never counted
    await sendPaymentEvent(h.producer, paymentSucceeded(paid));
    await h.orders.waitForStatus(paid.orderId, paid.userId, OrderStatus.ORDER_STATUS_PAID);

    const summary = await h.orders.summary(promotionId, as(newUser('ops'), ['admin']));

    expect(summary).toEqual({
      promotionId,
      statuses: [
        { status: OrderStatus.ORDER_STATUS_AWAITING_PAYMENT, orders: '1', units: '2' },
        { status: OrderStatus.ORDER_STATUS_PAID, orders: '1', units: '1' },
      ],
      orders: '2',
      units: '3',
      firstOrderTime: first.reserveTime,
      lastOrderTime: paid.reserveTime,
    });
    const buyer = await failureOf(h.orders.summary(promotionId, as(newUser())));
    expect(buyer).toMatchObject({ code: status.PERMISSION_DENIED, info: { reason: 'FORBIDDEN' } });
  });
});
