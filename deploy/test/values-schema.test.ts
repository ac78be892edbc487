/**
 * values.schema.json makes a bad value fail the install (helm checks it on install, upgrade, lint and template),
 * with a message naming the value. Each bad value below is one a user could plausibly write.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { chart, infraChart, template } from './helm';

const BAD: Array<[string, string[], RegExp]> = [
  ['a misspelt top-level key', ['--set', 'gatway.replicas=2'], /gatway/],
  ['a misspelt nested key', ['--set', 'gateway.replica=2'], /replica/],
  ['zero replicas', ['--set', 'gateway.replicas=0'], /gateway\.replicas|replicas/],
  ['replicas as text', ['--set-string', 'order.replicas=two'], /order\.replicas|replicas/],
  ['an unknown pull policy', ['--set', 'image.pullPolicy=Sometimes'], /pullPolicy/],
  ['a Redis URL of the wrong scheme', ['--set', 'infrastructure.redis.url=http://redis:6379'], /redis\.url|url/],
  ['a Kafka broker without a port', ['--set', 'infrastructure.kafka.brokers={kafka}'], /brokers/],
  ['no Kafka broker at all', ['--set', 'infrastructure.kafka.brokers=null'], /brokers/],
  ['a PostgreSQL port out of range', ['--set', 'infrastructure.postgres.port=70000'], /postgres\.port|port/],
  ['an unknown log level', ['--set', 'config.logLevel=loud'], /logLevel/],
  ['a JWT secret too short to be safe', ['--set', 'auth.jwtSecret=short'], /jwtSecret/],
  ['a CPU target above 100%', ['--set', 'inventory.autoscaling.targetCPUUtilizationPercentage=150'], /targetCPU/],
  ['a memory amount that is not a quantity', ['--set', 'payment.resources.requests.memory=lots'], /memory/],
  ['an environment variable name in lower case', ['--set', 'order.env.log_level=debug'], /log_level|env/],
  [
    'a network policy peer of an unknown kind',
    ['--set', 'networkPolicy.frontFrom[0].everyone=true'],
    /frontFrom|everyone/,
  ],
  ['the Envoy front without a JWKS', ['--set', 'envoy.enabled=true'], /jwks/],
  ['a negative preStop wait', ['--set', 'config.preStopSeconds=-1'], /preStopSeconds/],
  ['topics capped at no partitions', ['--set', 'jobs.topics.maxPartitions=0'], /maxPartitions/],
  ['a scrape interval that is not a duration', ['--set', 'metrics.podMonitor.interval=often'], /interval/],
  [
    'a dashboard namespace that is not a name',
    ['--set', 'metrics.grafanaDashboard.namespace=Monitoring!'],
    /namespace/,
  ],
];

describe('values.schema.json', () => {
  it.each(BAD)('when the values have %s, then helm refuses them and names the value', (_what, args, names) => {
    const rendered = template(args);
    expect(rendered.ok).toBe(false);
    expect(rendered.stderr).toMatch(/values don't meet the specifications of the schema|schema/);
    expect(rendered.stderr).toMatch(names);
  });

  const valuesFiles = readdirSync(path.join(chart, 'ci')).filter((file) => file.endsWith('.yaml'));

  it('when the chart is rendered with each CI values file, then the schema accepts it', () => {
    expect(valuesFiles.length).toBeGreaterThanOrEqual(4);
    for (const file of ['values.yaml', ...valuesFiles.map((name) => `ci/${name}`)]) {
      const rendered = template(['-f', path.join(chart, file)]);
      expect({ file, stderr: rendered.stderr, ok: rendered.ok }).toEqual({ file, stderr: '', ok: true });
    }
  });
});

describe("flash-sale-infra's values.schema.json", () => {
  it.each<[string, string[], RegExp]>([
    ['a replica count it does not offer', ['--set', 'redis.replicas=3'], /replicas/],
    ['a Kafka heap that is not a size', ['--set', 'kafka.heap=lots'], /heap/],
    ['persistence as text', ['--set-string', 'persistence.enabled=yes'], /enabled/],
  ])('when the values have %s, then helm refuses them and names the value', (_what, args, names) => {
    const rendered = template(args, infraChart);
    expect(rendered.ok).toBe(false);
    expect(rendered.stderr).toMatch(names);
  });

  it('when the chart is rendered as CI and Tilt render it, then the schema accepts it', () => {
    const rendered = template(
      ['--set', 'image.tag=ci', '--set', 'image.pullPolicy=Never', '--set', 'persistence.enabled=false'],
      infraChart,
    );
    expect({ stderr: rendered.stderr, ok: rendered.ok }).toEqual({ stderr: '', ok: true });
    expect(rendered.objects.filter((object) => object.kind === 'StatefulSet')).toHaveLength(3);
  });
});
