import { descriptorSetPath, meshHttpRules, type HttpRule } from '@flash-sale/contracts';
import { OPERATIONS } from './operations';
import { expressPath, openApiPath, routeTable } from './route-table';

const rules = meshHttpRules(descriptorSetPath);
const rule = (rpc: string): HttpRule => rules.find((candidate) => candidate.rpc === rpc)!;

describe('the route table', () => {
  it('when built from proto/, then every annotated method has exactly one operation at its declared method and path', () => {
    const routes = routeTable(rules);
    expect(routes.map((r) => `${r.method} ${r.template}`).sort()).toEqual(
      rules.map((r) => `${r.httpMethod} ${r.path}`).sort(),
    );
    expect(new Set(routes.map((r) => r.spec.rpc)).size).toBe(OPERATIONS.length);
  });

  it('when proto/ annotates a method the gateway does not serve, then start-up fails naming it', () => {
    const extra: HttpRule = {
      rpc: 'flashsale.order.v1.OrderService.Refund',
      httpMethod: 'POST',
      path: '/v1/x',
      body: '*',
    };
    expect(() => routeTable([...rules, extra])).toThrow(/OrderService\.Refund is annotated POST \/v1\/x/);
  });

  it('when an operation lost its annotation, then start-up fails naming it', () => {
    const pay = 'flashsale.payment.v1.PaymentService.Pay';
    expect(() => routeTable(rules.filter((r) => r.rpc !== pay))).toThrow(/PaymentService\.Pay has an operation but no/);
  });

  it('when an annotation renames a path parameter, then start-up fails naming both', () => {
    const get = rule('flashsale.order.v1.OrderService.GetOrder');
    const renamed = rules.map((r) => (r === get ? { ...get, path: '/v1/orders/{id}' } : r));
    expect(() => routeTable(renamed)).toThrow(/has parameters \[id\] but the operation declares \[orderId\]/);
  });

  it('when a template is turned into routes, then parameters take their JSON spelling', () => {
    expect(expressPath('/v1/promotions/{promotion_id}/purchase')).toBe('/v1/promotions/:promotionId/purchase');
    expect(openApiPath('/v1/orders/{order_id}')).toBe('/v1/orders/{orderId}');
  });
});
