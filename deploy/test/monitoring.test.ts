/**
 * What the chart gives Prometheus and Grafana (values `metrics.*`): scrape annotations on every component's pods,
 * the Prometheus Operator's ServiceMonitor or PodMonitor aimed at ports the pods and Services really have, the
 * shipped rules file as a PrometheusRule, and the dashboard in a ConfigMap for Grafana's sidecar.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { chart, template, type K8sObject } from './helm';

const COMPONENTS = ['gateway', 'promotion', 'inventory', 'order', 'payment'];
const component = (object: K8sObject) => object.metadata.labels?.['app.kubernetes.io/component'] ?? '?';
const ofKind = (objects: K8sObject[], kind: string) => objects.filter((object) => object.kind === kind);
const render = (args: string[]) => {
  const rendered = template(args);
  expect(rendered.stderr).toBe('');
  return rendered.objects;
};

describe('chart: scrape annotations', () => {
  it('when rendered with the defaults, then every component is annotated with the port that serves /metrics', () => {
    const annotations = Object.fromEntries(
      ofKind(render([]), 'Deployment').map((deployment) => {
        const { annotations: all } = deployment.spec.template.metadata;
        return [
          component(deployment),
          Object.fromEntries(Object.entries(all).filter(([key]) => key.startsWith('prometheus.io/'))),
        ];
      }),
    );
    const expected = (port: string) => ({
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': port,
      'prometheus.io/path': '/metrics',
    });
    expect(annotations).toEqual({
      gateway: expected('8080'),
      promotion: expected('9090'),
      inventory: expected('9090'),
      order: expected('9090'),
      payment: expected('9090'),
    });
    // The annotated port is a container port of the pod.
    for (const deployment of ofKind(render([]), 'Deployment')) {
      const ports = deployment.spec.template.spec.containers[0].ports.map((port: { containerPort: number }) =>
        String(port.containerPort),
      );
      expect(ports).toContain(deployment.spec.template.metadata.annotations['prometheus.io/port']);
    }
  });

  it('when turned off, then no pod is annotated and no monitoring object is rendered', () => {
    const objects = render(['--set', 'metrics.scrapeAnnotations=false']);
    for (const deployment of ofKind(objects, 'Deployment')) {
      expect(
        Object.keys(deployment.spec.template.metadata.annotations).filter((key) => key.startsWith('prometheus.io/')),
      ).toEqual([]);
    }
    expect(objects.filter((object) => object.apiVersion.startsWith('monitoring.coreos.com/'))).toEqual([]);
    expect(objects.filter((object) => object.metadata.name.endsWith('-dashboard'))).toEqual([]);
  });
});

/** Named ports by component: of the pods' containers, or of the (non-headless) Services. */
function namedPorts(objects: K8sObject[], where: 'pods' | 'services') {
  const ports: Record<string, string[]> = {};
  if (where === 'pods') {
    for (const deployment of ofKind(objects, 'Deployment'))
      ports[component(deployment)] = deployment.spec.template.spec.containers[0].ports.map(
        (port: { name: string }) => port.name,
      );
  } else {
    for (const service of ofKind(objects, 'Service').filter((s) => !s.metadata.name.endsWith('-headless')))
      ports[component(service)] = service.spec.ports.map((port: { name: string }) => port.name);
  }
  return ports;
}

/** component -> the monitor endpoints' ports it has, for the components the monitor's selector picks. */
function scraped(monitor: K8sObject, ports: Record<string, string[]>) {
  const { matchLabels, matchExpressions } = monitor.spec.selector;
  expect(matchLabels).toEqual({ 'app.kubernetes.io/name': 'flash-sale', 'app.kubernetes.io/instance': 'release' });
  const picked: string[] = matchExpressions[0].values;
  const endpoints = (monitor.spec.endpoints ?? monitor.spec.podMetricsEndpoints) as {
    port: string;
    path: string;
    honorLabels: boolean;
    relabelings: { sourceLabels: string[]; targetLabel: string }[];
  }[];
  for (const endpoint of endpoints) {
    expect(endpoint.path).toBe('/metrics');
    expect(endpoint.honorLabels).toBe(true);
    expect(endpoint.relabelings.map((relabel) => relabel.targetLabel)).toEqual(['service']);
  }
  return Object.fromEntries(
    Object.entries(ports)
      .filter(([name]) => picked.includes(name))
      .map(([name, has]) => [name, endpoints.map((endpoint) => endpoint.port).filter((port) => has.includes(port))]),
  );
}

describe('chart: Prometheus Operator monitors', () => {
  it('when the ServiceMonitor is on, then it scrapes each component once, on the port that serves /metrics', () => {
    const objects = render([
      '--set',
      'metrics.serviceMonitor.enabled=true',
      '--set',
      'metrics.serviceMonitor.labels.release=kube-prometheus',
    ]);
    const [monitor] = ofKind(objects, 'ServiceMonitor');
    expect(monitor!.metadata.labels).toMatchObject({ release: 'kube-prometheus' });
    expect(scraped(monitor!, namedPorts(objects, 'services'))).toEqual({
      gateway: ['http'],
      promotion: ['metrics'],
      inventory: ['metrics'],
      order: ['metrics'],
      payment: ['metrics'],
    });
    // The Services' metrics port leads to the pods' metrics port; the headless twins (gRPC only) have none.
    for (const service of ofKind(objects, 'Service')) {
      const metrics = service.spec.ports.find((port: { name: string }) => port.name === 'metrics');
      if (service.metadata.name.endsWith('-headless') || component(service) === 'gateway')
        expect(metrics).toBeUndefined();
      else expect(metrics).toEqual({ name: 'metrics', port: 9090, targetPort: 'metrics' });
    }
  });

  it('when the ServiceMonitor is off, then the Services expose no metrics port', () => {
    const ports = Object.values(namedPorts(render([]), 'services')).flat();
    expect(ports).not.toContain('metrics');
  });

  it('when the PodMonitor is on, then it scrapes each component once, Envoy and the Jobs not at all', () => {
    const objects = render([
      '--set',
      'metrics.podMonitor.enabled=true',
      '--set',
      'envoy.enabled=true',
      '--set-json',
      'envoy.jwks="{\\"keys\\":[]}"',
    ]);
    const [monitor] = ofKind(objects, 'PodMonitor');
    expect(monitor!.spec.selector.matchExpressions[0].values.sort()).toEqual([...COMPONENTS].sort());
    const ports = namedPorts(objects, 'pods');
    expect(Object.keys(ports)).toContain('envoy');
    expect(scraped(monitor!, ports)).toEqual({
      gateway: ['http'],
      promotion: ['metrics'],
      inventory: ['metrics'],
      order: ['metrics'],
      payment: ['metrics'],
    });
  });

  it('when both monitors are on, then the values are refused (every pod would be scraped twice)', () => {
    const rendered = template([
      '--set',
      'metrics.serviceMonitor.enabled=true',
      '--set',
      'metrics.podMonitor.enabled=true',
    ]);
    expect(rendered.ok).toBe(false);
    expect(rendered.stderr).toMatch(/metrics.serviceMonitor and metrics.podMonitor are both enabled/);
  });
});

const RULES = path.join(chart, 'files/prometheus/rules.yaml');
const SHIPPED_RUNBOOKS = 'https://github.com/flash-sale-mesh/flash-sale-mesh/blob/main/docs/operations.md';

describe('chart: PrometheusRule', () => {
  it('when on, then it holds exactly the rules file the local Prometheus loads', () => {
    const [rule] = ofKind(render(['--set', 'metrics.prometheusRule.enabled=true']), 'PrometheusRule');
    expect(rule!.spec).toEqual(parse(readFileSync(RULES, 'utf8')));
  });

  it('when a runbook base is given, then every runbook_url points there, with the same anchor', () => {
    const [rule] = ofKind(
      render([
        '--set',
        'metrics.prometheusRule.enabled=true',
        '--set',
        'metrics.prometheusRule.runbookBaseUrl=https://wiki.example/shop/runbooks/',
      ]),
      'PrometheusRule',
    );
    const urls = (rule!.spec.groups as { rules: { alert?: string; annotations?: { runbook_url: string } }[] }[])
      .flatMap((group) => group.rules)
      .filter((r) => r.alert)
      .map((r) => [r.alert, r.annotations!.runbook_url]);
    expect(urls.length).toBeGreaterThan(5);
    for (const [alert, url] of urls) expect(url).toBe(`https://wiki.example/shop/runbooks#${alert!.toLowerCase()}`);
    expect(JSON.stringify(rule)).not.toContain(SHIPPED_RUNBOOKS);
  });
});

describe('chart: Grafana dashboard', () => {
  const dashboard = JSON.parse(readFileSync(path.join(chart, 'files/grafana/flash-sale.json'), 'utf8'));

  it("when on, then a ConfigMap with the sidecar's label holds the dashboard, in the release's namespace", () => {
    const [config] = render(['--set', 'metrics.grafanaDashboard.enabled=true']).filter((o) =>
      o.metadata.name.endsWith('-dashboard'),
    );
    expect(config!.kind).toBe('ConfigMap');
    expect(config!.metadata).toMatchObject({ namespace: 'shop', labels: { grafana_dashboard: '1' } });
    expect(JSON.parse((config!.data as Record<string, string>)['flash-sale.json']!)).toEqual(dashboard);
  });

  it('when given a namespace, a label and a folder, then the ConfigMap goes there with them', () => {
    const [config] = render([
      '--set',
      'metrics.grafanaDashboard.enabled=true',
      '--set',
      'metrics.grafanaDashboard.namespace=monitoring',
      '--set-json',
      'metrics.grafanaDashboard.labels={"dashboards":"shop"}',
      '--set',
      'metrics.grafanaDashboard.annotations.grafana_folder=Shop',
    ]).filter((o) => o.metadata.name.endsWith('-dashboard'));
    expect(config!.metadata).toMatchObject({
      namespace: 'monitoring',
      labels: { dashboards: 'shop', grafana_dashboard: '1' },
    });
    expect(config!.metadata.annotations).toEqual({ grafana_folder: 'Shop' });
  });
});
