import { status } from '@grpc/grpc-js';
import type { orderEventsV1 } from '@flash-sale/contracts';
import {
  announcedKinds,
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

const eventOf =
  (orderId: string, kind: NonNullable<orderEventsV1.OrderEvent['kind']>['$case']) =>
  (event: orderEventsV1.OrderEvent) =>
    event.orderId === orderId && event.kind?.$case === kind;

describe('order service: payments', () => {
  it('when PaymentSucceeded arrives, then the order is PAID with that payment and OrderPaid is announced', async () => {
    const order = await placeOrder(h.producer, h.orders);
    const payment = paymentSucceeded(order);
    await sendPaymentEvent(h.producer, payment);

    const paid = await h.orders.waitForStatus(order.orderId, order.userId, OrderStatus.ORDER_STATUS_PAID);
    expect(paid).toMatchObject({ paymentId: payment.paymentId, paidTime: payment.occurTime });
    const announced = await h.orderEvents.next(eventOf(order.orderId, 'orderPaid'), 'OrderPaid');
    expect(announced.kind).toEqual({ $case: 'orderPaid', value: { paymentId: payment.paymentId } });
  });

  it('when the same PaymentSucceeded is delivered again, then nothing changes and no second OrderPaid is announced', async () => {
    const order = await placeOrder(h.producer, h.orders);
    const payment = paymentSucceeded(order);
    const first = await sendPaymentEvent(h.producer, payment);
    const paid = await h.orders.waitForStatus(order.orderId, order.userId, OrderStatus.ORDER_STATUS_PAID);

    await sendPaymentEvent(h.producer, payment, first.partition);
    // Another order's payment behind the redelivery, on the same partition: once applied, the copy was consumed.
    const other = await placeOrder(h.producer, h.orders);
    await sendPaymentEvent(h.producer, paymentSucceeded(other), first.partition);
    await h.orders.waitForStatus(other.orderId, other.userId, OrderStatus.ORDER_STATUS_PAID);

    expect(await h.orders.get(order.orderId, as(order.userId))).toEqual(paid);
    expect(await announcedKinds(h.db, order.orderId)).toEqual(['deadline', 'orderPaid']);
    await h.orderEvents.next(eventOf(other.orderId, 'orderPaid'), 'OrderPaid of the other order');
    expect(h.orderEvents.where(eventOf(order.orderId, 'orderPaid'))).toHaveLength(1);
  });

  it('when the buyer cancelled and a payment arrives late, then the order is REFUNDED and OrderRefunded names the payment', async () => {
    const order = await placeOrder(h.producer, h.orders);
    const cancelled = await h.orders.cancel(order.orderId, as(order.userId));
    expect(cancelled.status).toBe(OrderStatus.ORDER_STATUS_CANCELLED);
    await h.orderEvents.next(eventOf(order.orderId, 'orderCancelled'), 'OrderCancelled');

    const payment = paymentSucceeded(order);
    await sendPaymentEvent(h.producer, payment);

    const refunded = await h.orders.waitForStatus(order.orderId, order.userId, OrderStatus.ORDER_STATUS_REFUNDED);
    expect(refunded.paymentId).toBe(payment.paymentId);
    const announced = await h.orderEvents.next(eventOf(order.orderId, 'orderRefunded'), 'OrderRefunded');
    expect(announced.kind).toEqual({
      $case: 'orderRefunded',
      value: { paymentId: payment.paymentId, reason: 'order CANCELLED before the payment was applied' },
    });
    expect(await announcedKinds(h.db, order.orderId)).toEqual(['deadline', 'orderCancelled', 'orderRefunded']);
  });

  it('when somebody else cancels an order, then it does not exist for them; a second cancel is refused', async () => {
    const order = await placeOrder(h.producer, h.orders);
    const stranger = await failureOf(h.orders.cancel(order.orderId, as(newUser('stranger'))));
    expect(stranger).toMatchObject({ code: status.NOT_FOUND, info: { reason: 'ORDER_NOT_FOUND' } });

    await h.orders.cancel(order.orderId, as(order.userId));
    const again = await failureOf(h.orders.cancel(order.orderId, as(order.userId)));
    expect(again).toMatchObject({ code: status.FAILED_PRECONDITION, info: { reason: 'ORDER_NOT_CANCELLABLE' } });
    const unknown = await failureOf(h.orders.cancel(newId(), as(order.userId)));
    expect(unknown.code).toBe(status.NOT_FOUND);
  });
});
