/**
 * The bridge CNI plugin used in CI does not enforce NetworkPolicy, so this test reads the rendered policies and
 * checks that the connections they allow are exactly the mesh's call graph: the one in the design (flows,
 * section 1), which must also be the one the code can make (each service's *_ADDR settings) and the one the
 * allow-list grants (files/access-policy.yaml, the one source the chart derives the policies and the addresses
 * from). Nothing more, nothing less, and both ends of every connection agree (the caller's egress and the callee's
 * ingress). Besides the calls, Prometheus (networkPolicy.metricsFrom) reaches the metrics ports.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { descriptorSetPath, meshHttpRules } from '@flash-sale/contracts';
import { loadGatewayConfig } from '../../gateway/src/config';
import { loadInventoryConfig } from '../../services/inventory/src/config';
import { loadOrderConfig } from '../../services/order/src/config';
import { loadPaymentConfig } from '../../services/payment/src/config';
import { loadPromotionConfig } from '../../services/promotion/src/config';
import { chart, template, type K8sObject } from './helm';

/** design.md, section 1: who calls whom over gRPC, and which infrastructure each one uses. */
const DESIGN = [
  'world -> gateway:8080',
  // The gateway's gRPC front door (TLS).
  'world -> gateway:8443',
  'gateway -> promotion:50051',
  'gateway -> inventory:50052',
  'gateway -> order:50053',
  'gateway -> payment:50054',
  'promotion -> inventory:50052',
  'order -> inventory:50052',
  'payment -> order:50053',
  'gateway -> redis',
  'promotion -> redis',
  'promotion -> postgres',
  'inventory -> redis',
  'inventory -> postgres',
  'inventory -> kafka',
  'order -> redis',
  'order -> postgres',
  'order -> kafka',
  'payment -> redis',
  'payment -> postgres',
  'payment -> kafka',
  // The chart's own Jobs and test pod.
  'migrations -> postgres',
  'topics -> kafka',
  'smoke-test -> gateway:8080',
  // The certificate Job (mTLS on, no cert-manager) writes its Secrets through the Kubernetes API.
  'pki -> kube-apiserver',
];
const ENVOY = [
  'world -> envoy:8080',
  'envoy -> promotion:50051',
  'envoy -> inventory:50052',
  'envoy -> order:50053',
  'envoy -> payment:50054',
];
/** Prometheus (networkPolicy.metricsFrom's default) scrapes every service's metrics port. */
const SCRAPES = ['promotion', 'inventory', 'order', 'payment'].map((service) => `prometheus -> ${service}:9090`);
const PROMETHEUS_PEER = {
  namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } },
  podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } },
};
const INFRASTRUCTURE_PORTS: Record<string, string> = {
  '6379': 'redis',
  '9092': 'kafka',
  '5432': 'postgres',
  '443': 'kube-apiserver',
  '6443': 'kube-apiserver',
};
const DNS_PORT = 53;

const component = (selector: { matchLabels?: Record<string, string> } | undefined) =>
  selector?.matchLabels?.['app.kubernetes.io/component'] ?? '?';
const source = (peer: Peer) =>
  JSON.stringify(peer) === JSON.stringify(PROMETHEUS_PEER) ? 'prometheus' : component(peer.podSelector);

interface Port {
  port: number;
  protocol: string;
}
interface Peer {
  podSelector?: { matchLabels?: Record<string, string> };
  namespaceSelector?: { matchLabels?: Record<string, string> };
}
interface Rule {
  ports: Port[];
  from?: Peer[];
  to?: Peer[];
}

/** Edges "a -> b:port" (pods) and "a -> redis" (infrastructure, by port) that the policies allow. */
function allowedEdges(objects: K8sObject[]) {
  const ingress = new Set<string>();
  const egress = new Set<string>();
  let dns = 0;
  const policies = objects.filter((object) => object.kind === 'NetworkPolicy');
  for (const policy of policies) {
    const subject = component(policy.spec.podSelector);
    expect(policy.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    for (const rule of (policy.spec.ingress ?? []) as Rule[]) {
      const ports = rule.ports;
      expect(ports).toHaveLength(1);
      const sources = rule.from ? rule.from.map(source) : ['world'];
      for (const source of sources) ingress.add(`${source} -> ${subject}:${ports[0]!.port}`);
    }
    for (const rule of (policy.spec.egress ?? []) as Rule[]) {
      const ports = rule.ports;
      if (ports.some((port) => port.port === DNS_PORT)) {
        expect(ports).toEqual([
          { port: DNS_PORT, protocol: 'UDP' },
          { port: DNS_PORT, protocol: 'TCP' },
        ]);
        dns += 1;
        continue;
      }
      if (rule.to?.some((peer) => peer.podSelector)) {
        for (const peer of rule.to)
          for (const port of ports) egress.add(`${subject} -> ${component(peer.podSelector)}:${port.port}`);
      } else {
        for (const port of ports)
          egress.add(`${subject} -> ${INFRASTRUCTURE_PORTS[String(port.port)] ?? `port ${port.port}`}`);
      }
    }
  }
  return { policies: policies.length, ingress, egress, dns };
}

function expectGraph(objects: K8sObject[], expected: string[], { frontOpen = true } = {}) {
  const { policies, ingress, egress, dns } = allowedEdges(objects);
  expect(dns).toBe(policies); // every pod may resolve names, and only on port 53
  const front = /-> (gateway|envoy):/;
  // A front open to the world needs no rule for the release's own test pod; a front with `frontFrom` names it.
  const podEdges = expected.filter(
    (edge) =>
      edge.includes(':') && (frontOpen ? !(front.test(edge) && !edge.startsWith('world')) : !edge.startsWith('world')),
  );
  // Ingress: exactly the callers of each pod (the world only for the front).
  expect([...ingress].sort()).toEqual([...podEdges].sort());
  // Egress: exactly the callees and the infrastructure; nothing reaches the world.
  expect([...egress].sort()).toEqual(expected.filter((edge) => !/^(world|\?|prometheus) /.test(edge)).sort());
}

describe('network policies', () => {
  it('when rendered with the default values, then they allow exactly the call graph of the design', () => {
    const rendered = template([]);
    expect(rendered.stderr).toBe('');
    expectGraph(rendered.objects, [...DESIGN, ...SCRAPES]);
  });

  it('when the Envoy front is on, then Envoy is a second front that reaches the four services and nothing else', () => {
    const rendered = template(['--set', 'envoy.enabled=true', '--set-json', 'envoy.jwks="{\\"keys\\":[]}"']);
    expect(rendered.ok).toBe(true);
    expectGraph(rendered.objects, [...DESIGN, ...ENVOY, ...SCRAPES]);
  });

  it("when the front is open only to given peers, then those and the release's test pod reach it, nobody else", () => {
    const rendered = template([
      '--set-json',
      'networkPolicy.frontFrom=[{"namespaceSelector":{"matchLabels":{"kubernetes.io/metadata.name":"ingress"}}}]',
    ]);
    expect(rendered.stderr).toBe('');
    // Prometheus reaches the gateway's HTTP port (its /metrics) through the narrowed front too.
    expectGraph(
      rendered.objects,
      [...DESIGN.map((edge) => edge.replace('world ->', '? ->')), ...SCRAPES, 'prometheus -> gateway:8080'],
      { frontOpen: false },
    );
  });

  it('when the infrastructure listens on other ports, then egress follows the addresses the mesh is given', () => {
    const rendered = template([
      '--set',
      'infrastructure.redis.url=redis://cache.example:7000',
      '--set',
      'infrastructure.kafka.brokers={k1.example:9094,k2.example:9094}',
      '--set',
      'infrastructure.postgres.port=6432',
    ]);
    const inventory = rendered.objects.find(
      (object) => object.kind === 'NetworkPolicy' && object.metadata.name.endsWith('-inventory'),
    )!;
    const ports = inventory.spec.egress.map((rule: { ports: Port[] }) => rule.ports.map((port) => port.port));
    expect(ports).toEqual([[DNS_PORT, DNS_PORT], [7000], [6432], [9094]]);
  });

  it('when the design lists a gRPC call, then the code has the matching *_ADDR setting, and nothing else', () => {
    const callees = (config: object) =>
      Object.keys(config)
        .filter((key) => key.endsWith('_ADDR'))
        .map((key) => key.replace(/_ADDR$/, '').toLowerCase());
    const code: Record<string, string[]> = {
      gateway: callees(loadGatewayConfig({ JWT_SECRET: 'x'.repeat(32) })),
      promotion: callees(loadPromotionConfig({})),
      inventory: callees(loadInventoryConfig({})),
      order: callees(loadOrderConfig({})),
      payment: callees(loadPaymentConfig({})),
    };
    const fromCode = Object.entries(code).flatMap(([caller, list]) => list.map((callee) => `${caller} -> ${callee}`));
    const fromDesign = DESIGN.filter((edge) => /:\d{5}$/.test(edge)).map((edge) => edge.replace(/:\d+$/, ''));
    expect(fromCode.sort()).toEqual(fromDesign.sort());
  });

  it('when no Prometheus peer is given, then nothing reaches the metrics ports', () => {
    const rendered = template(['--set-json', 'networkPolicy.metricsFrom=[]']);
    expect(rendered.stderr).toBe('');
    expectGraph(rendered.objects, DESIGN);
  });

  it('when network policies are turned off, then none is rendered', () => {
    const rendered = template(['--set', 'networkPolicy.enabled=false']);
    expect(rendered.objects.filter((object) => object.kind === 'NetworkPolicy')).toEqual([]);
  });

  it('when network policies are turned off, the allow-list still wires the addresses', () => {
    const rendered = template(['--set', 'networkPolicy.enabled=false']);
    expect(addressEdges(rendered.objects)).toEqual(allowListEdges(POLICY).filter((edge) => !edge.startsWith('envoy')));
  });
});

/** files/access-policy.yaml, as the chart and every service read it. */
interface AccessPolicy {
  fronts: string[];
  services: Record<
    string,
    { workload: string; methods: Record<string, { public?: boolean; callers?: string[] } | null> }
  >;
}
const POLICY_FILE = path.join(chart, 'files/access-policy.yaml');
const POLICY = parse(readFileSync(POLICY_FILE, 'utf8')) as AccessPolicy;

/** "a -> b": a calls some method of workload b (public methods: the fronts call them). */
function allowListEdges(policy: AccessPolicy): string[] {
  const edges = new Set<string>();
  for (const { workload, methods } of Object.values(policy.services)) {
    for (const method of Object.values(methods)) {
      const callers = [...(method?.public ? policy.fronts : []), ...(method?.callers ?? [])];
      for (const caller of callers) edges.add(`${caller} -> ${workload}`);
    }
  }
  return [...edges].sort();
}

/** "a -> b" for every *_ADDR variable of a's Deployment naming b. */
function addressEdges(objects: K8sObject[]): string[] {
  return objects
    .filter((object) => object.kind === 'Deployment')
    .flatMap((deployment) =>
      ((deployment.spec.template.spec.containers[0].env ?? []) as { name: string }[])
        .filter((variable) => variable.name.endsWith('_ADDR'))
        .map(
          (variable) =>
            `${component(deployment.spec.selector)} -> ${variable.name.replace(/_ADDR$/, '').toLowerCase()}`,
        ),
    )
    .sort();
}

/** "a -> b" for every pod-to-pod egress the policies allow between the mesh's workloads. */
function policyEdges(objects: K8sObject[]): string[] {
  const workloads = new Set(['gateway', 'envoy', 'promotion', 'inventory', 'order', 'payment']);
  const { egress } = allowedEdges(objects);
  return [...egress]
    .map((edge) => edge.replace(/:\d+$/, ''))
    .filter((edge) => edge.split(' -> ').every((end) => workloads.has(end)))
    .sort();
}

const grpcEdges = (edges: string[]) =>
  edges.filter((edge) => /:\d{5}$/.test(edge)).map((edge) => edge.replace(/:\d+$/, ''));

describe('the allow-list (files/access-policy.yaml) and the call graph', () => {
  it("when read, then the workloads it lets call each other are exactly the design's gRPC calls", () => {
    expect(allowListEdges(POLICY).filter((edge) => !edge.startsWith('envoy'))).toEqual(grpcEdges(DESIGN).sort());
    expect(allowListEdges(POLICY).filter((edge) => edge.startsWith('envoy'))).toEqual(grpcEdges(ENVOY).sort());
  });

  it('when rendered, then the policies and the *_ADDR wiring allow exactly what the allow-list grants', () => {
    const rendered = template(['--set', 'envoy.enabled=true', '--set-json', 'envoy.jwks="{\\"keys\\":[]}"']);
    expect(rendered.ok).toBe(true);
    expect(policyEdges(rendered.objects)).toEqual(allowListEdges(POLICY));
    // Envoy's clusters come from its own configuration; the other callers are given addresses.
    expect(addressEdges(rendered.objects)).toEqual(allowListEdges(POLICY).filter((edge) => !edge.startsWith('envoy')));
  });

  it('when a method is public, then it is exactly one that proto/ annotates with google.api.http', () => {
    const annotated = meshHttpRules(descriptorSetPath)
      .map((rule) => rule.rpc)
      .sort();
    const publicMethods = Object.entries(POLICY.services)
      .flatMap(([service, { methods }]) =>
        Object.entries(methods).map(([method, rule]) => (rule?.public ? `${service}.${method}` : undefined)),
      )
      .filter((name): name is string => name !== undefined)
      .sort();
    expect(publicMethods).toEqual(annotated);
  });

  it('when the allow-list changes, then the policies and the addresses follow it (nothing else holds the graph)', () => {
    const copy = mkdtempSync(path.join(tmpdir(), 'chart-'));
    try {
      cpSync(chart, copy, { recursive: true });
      const changed = structuredClone(POLICY);
      const inventory = changed.services['flashsale.inventory.v1.InventoryService']!.methods;
      // Promotion no longer calls inventory; payment now reads stock.
      for (const rule of Object.values(inventory))
        if (rule?.callers) rule.callers = rule.callers.filter((c) => c !== 'promotion');
      inventory.GetStock = { callers: ['payment'] };
      writeFileSync(path.join(copy, 'files/access-policy.yaml'), stringify(changed));

      const rendered = template([], copy);

      expect(rendered.stderr).toBe('');
      const granted = allowListEdges(changed).filter((edge) => !edge.startsWith('envoy')); // Envoy is off
      expect(policyEdges(rendered.objects)).toEqual(granted);
      expect(policyEdges(rendered.objects)).toContain('payment -> inventory');
      expect(policyEdges(rendered.objects)).not.toContain('promotion -> inventory');
      expect(addressEdges(rendered.objects)).toEqual(granted);
      const mounted = rendered.objects.find((object) => object.metadata.name === 'release-flash-sale-access-policy');
      expect(parse((mounted as unknown as { data: Record<string, string> }).data['access-policy.yaml']!)).toEqual(
        changed,
      );
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });

  it('when the allow-list names a workload that does not exist, then the chart refuses to render', () => {
    const copy = mkdtempSync(path.join(tmpdir(), 'chart-'));
    try {
      cpSync(chart, copy, { recursive: true });
      const changed = structuredClone(POLICY);
      changed.services['flashsale.order.v1.OrderService']!.methods.GetOrder = { callers: ['billing'] };
      writeFileSync(path.join(copy, 'files/access-policy.yaml'), stringify(changed));

      const rendered = template([], copy);

      expect(rendered.ok).toBe(false);
      expect(rendered.stderr).toMatch(/OrderService\/GetOrder: unknown caller billing/);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });
});
