/**
 * gRPC callers balance per call only if the name they are given resolves to every ready pod of the callee: each
 * *_ADDR the chart sets must name a headless Service that selects the callee's pods on its gRPC port.
 */
import { template, type K8sObject } from './helm';

const rendered = template([]);
const byKind = (kind: string) => rendered.objects.filter((object) => object.kind === kind);

interface EnvVar {
  name: string;
  value?: string;
}

describe('the addresses gRPC callers are given', () => {
  const services = new Map(byKind('Service').map((service) => [service.metadata.name, service]));
  const addresses = byKind('Deployment').flatMap((deployment: K8sObject) =>
    (deployment.spec.template.spec.containers as { env?: EnvVar[] }[]).flatMap((container) =>
      (container.env ?? [])
        .filter((variable) => variable.name.endsWith('_ADDR'))
        .map((variable) => ({ caller: deployment.metadata.name, ...variable })),
    ),
  );

  it('when the chart renders, then every caller has its addresses (gateway four, promotion, order and payment one)', () => {
    expect(rendered.ok).toBe(true);
    expect(addresses.map(({ caller, name }) => `${caller} ${name}`).sort()).toEqual([
      'release-flash-sale-gateway INVENTORY_ADDR',
      'release-flash-sale-gateway ORDER_ADDR',
      'release-flash-sale-gateway PAYMENT_ADDR',
      'release-flash-sale-gateway PROMOTION_ADDR',
      'release-flash-sale-order INVENTORY_ADDR',
      'release-flash-sale-payment ORDER_ADDR',
      'release-flash-sale-promotion INVENTORY_ADDR',
    ]);
  });

  it('when a caller is given an address, then it names a headless Service over the same pods and port as the callee’s Service', () => {
    for (const { caller, name, value } of addresses) {
      const [host, port] = (value ?? '').split(':');
      const headless = services.get(host!);
      const callee = services.get(host!.replace(/-headless$/, ''));
      expect({ caller, name, headless: Boolean(headless), clusterIP: headless?.spec.clusterIP }).toEqual({
        caller,
        name,
        headless: true,
        clusterIP: 'None',
      });
      expect(headless!.spec.selector).toEqual(callee!.spec.selector);
      expect(headless!.spec.ports).toEqual([
        expect.objectContaining({ port: Number(port), targetPort: 'grpc', appProtocol: 'kubernetes.io/h2c' }),
      ]);
      expect(callee!.spec.ports[0].port).toBe(Number(port));
    }
  });
});
