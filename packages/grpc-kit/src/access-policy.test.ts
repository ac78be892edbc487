import { readFileSync } from 'node:fs';
import { ACCESS_POLICY_PATH, ConfigError, type MeshWorkload } from '@flash-sale/config';
import {
  descriptorSetPath,
  inventoryV1,
  meshHttpRules,
  orderV1,
  paymentV1,
  promotionV1,
  SERVICE_NAMES,
} from '@flash-sale/contracts';
import { callersOf, checkServedServices, loadAccessPolicy, parseAccessPolicy } from './access-policy';
import { decide } from './authorization';

const policy = loadAccessPolicy(ACCESS_POLICY_PATH);
const served = {
  'flashsale.promotion.v1.PromotionService': { workload: 'promotion', definition: promotionV1.PromotionServiceService },
  'flashsale.inventory.v1.InventoryService': { workload: 'inventory', definition: inventoryV1.InventoryServiceService },
  'flashsale.order.v1.OrderService': { workload: 'order', definition: orderV1.OrderServiceService },
  'flashsale.payment.v1.PaymentService': { workload: 'payment', definition: paymentV1.PaymentServiceService },
} as const;

describe('the mesh allow-list (deploy/helm/flash-sale/files/access-policy.yaml)', () => {
  it('when read, then it lists every service with exactly its methods, served by the workload that serves it', () => {
    expect(Object.keys(policy.services).sort()).toEqual([...SERVICE_NAMES].sort());
    for (const [name, { workload, definition }] of Object.entries(served)) {
      expect(() => checkServedServices(policy, 'policy', workload, [{ name, definition }])).not.toThrow();
    }
  });

  it('when compared with proto/, then the public methods are exactly those with a google.api.http annotation', () => {
    const annotated = meshHttpRules(descriptorSetPath).map((rule) => rule.rpc);
    const publicMethods = Object.entries(policy.services).flatMap(([service, { methods }]) =>
      Object.entries(methods)
        .filter(([, rule]) => rule.public)
        .map(([method]) => `${service}.${method}`),
    );

    expect(publicMethods.sort()).toEqual([...new Set(annotated)].sort());
  });

  it('when asked who calls the internal methods, then it names the workloads that really do', () => {
    const inventory = 'flashsale.inventory.v1.InventoryService';
    const order = 'flashsale.order.v1.OrderService';
    const who = (service: string, method: string) => [...callersOf(policy, service, method)].sort();

    expect(policy.fronts).toEqual(['gateway', 'envoy']);
    expect(who(inventory, 'Reserve')).toEqual(['envoy', 'gateway']);
    expect(who(inventory, 'ReserveBatch')).toEqual(['gateway']);
    expect(who(inventory, 'PrepareSale')).toEqual(['promotion']);
    expect(who(inventory, 'GetReservation')).toEqual(['order']);
    expect(who(inventory, 'Release')).toEqual([]);
    expect(who(order, 'ClaimPayment')).toEqual(['payment']);
    expect(who(order, 'SettlePayment')).toEqual(['payment']);
    expect(who(order, 'GetBuyerOrder')).toEqual(['payment']);
    expect(who(order, 'GetOrder')).toEqual(['envoy', 'gateway']);
  });
});

describe('parseAccessPolicy', () => {
  const problems = (text: string) => {
    try {
      parseAccessPolicy(text, 'policy.yaml');
      return [];
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as ConfigError).problems;
    }
  };

  it('when a caller is no workload of the mesh or a key is unknown, then loading fails naming the entry', () => {
    expect(
      problems(`
fronts: [gateway]
services:
  a.v1.S:
    workload: order
    methods:
      Get: { callers: [billing] }
      Put: { pubic: true }
`),
    ).toEqual([
      expect.stringMatching(/^policy\.yaml: services\.a\.v1\.S\.methods\.Get\.callers\.0: /),
      expect.stringMatching(/^policy\.yaml: services\.a\.v1\.S\.methods\.Put: .*pubic/),
    ]);
  });

  it('when the file is not YAML, then loading fails saying so', () => {
    expect(problems('fronts: [gateway\n')).toEqual([expect.stringMatching(/^policy\.yaml: not YAML/)]);
  });
});

describe('checkServedServices', () => {
  it('when the policy misses a method, lists one the service lacks, or names another workload, then start-up fails listing each', () => {
    const text = readFileSync(ACCESS_POLICY_PATH, 'utf8')
      .replace('      ReserveBatch: { callers: [gateway] }\n', '')
      .replace('      Confirm: {}\n', '      Confirm: {}\n      Refill: {}\n');
    const edited = parseAccessPolicy(text, 'policy.yaml');
    const name = 'flashsale.inventory.v1.InventoryService';

    expect(() =>
      checkServedServices(edited, 'policy.yaml', 'order', [{ name, definition: inventoryV1.InventoryServiceService }]),
    ).toThrow(
      expect.objectContaining({
        problems: [
          `policy.yaml: services.${name}.workload is inventory, but the order workload serves it`,
          `policy.yaml: services.${name}.methods.ReserveBatch is missing (say who may call it, or {} for nobody)`,
          `policy.yaml: services.${name}.methods.Refill: the service has no such method`,
        ],
      }),
    );
  });
});

describe('decide', () => {
  const peer = (workload: MeshWorkload) => ({ workload, spiffeId: `spiffe://x/ns/y/sa/${workload}` });
  const reserveBatch = '/flashsale.inventory.v1.InventoryService/ReserveBatch';

  it('when a workload on the list calls, then the call goes on; a front may speak for a user', () => {
    expect(decide(policy, reserveBatch, peer('gateway'), true)).toBeUndefined();
    expect(
      decide(policy, '/flashsale.inventory.v1.InventoryService/PrepareSale', peer('promotion'), false),
    ).toBeUndefined();
  });

  it('when any mesh workload asks for health or reflection, then it may', () => {
    expect(decide(policy, '/grpc.health.v1.Health/Check', peer('payment'), false)).toBeUndefined();
    expect(
      decide(policy, '/grpc.reflection.v1.ServerReflection/ServerReflectionInfo', peer('order'), false),
    ).toBeUndefined();
  });

  it('when a caller has no mesh identity, speaks for a user without being a front, or is not on the list, then it is refused', () => {
    expect(decide(policy, reserveBatch, undefined, false)?.reason).toBe('CALLER_UNKNOWN');
    expect(decide(policy, '/grpc.health.v1.Health/Check', peer('order'), true)?.reason).toBe('CALLER_METADATA_REFUSED');
    expect(decide(policy, reserveBatch, peer('payment'), false)).toEqual({
      reason: 'CALLER_NOT_ALLOWED',
      message: 'payment may not call flashsale.inventory.v1.InventoryService/ReserveBatch',
    });
    expect(decide(policy, '/flashsale.inventory.v1.InventoryService/Release', peer('order'), false)?.reason).toBe(
      'CALLER_NOT_ALLOWED',
    );
  });
});
