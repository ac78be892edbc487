/**
 * The topic Job creates the topics of infra/topics.json as they are listed, unless `jobs.topics.maxPartitions`
 * caps their partitions (create-topics.js reads the cap from KAFKA_PARTITIONS_MAX), behind the release's
 * `infrastructure.kafka.topicPrefix`, which the services get too.
 */
import { template } from './helm';

const topicsJobEnv = (args: string[]) => {
  const rendered = template(args);
  expect(rendered.stderr).toBe('');
  const job = rendered.objects.find((object) => object.kind === 'Job' && object.metadata.name.endsWith('-topics'));
  const env = (job?.spec.template.spec.containers[0].env ?? []) as Array<{ name: string; value?: string }>;
  return new Map(env.map(({ name, value }) => [name, value]));
};

describe('chart: the topic Job', () => {
  it('when no cap is set, then the topics keep the partitions their list gives', () => {
    const env = topicsJobEnv([]);
    expect(env.has('KAFKA_BROKERS')).toBe(true);
    expect(env.has('KAFKA_PARTITIONS_MAX')).toBe(false);
  });

  it('when jobs.topics.maxPartitions is set, then the Job caps the partitions at it', () => {
    expect(topicsJobEnv(['--set', 'jobs.topics.maxPartitions=6']).get('KAFKA_PARTITIONS_MAX')).toBe('6');
  });

  it('when infrastructure.kafka.topicPrefix is set, then the Job and every service get the same prefix', () => {
    const args = ['--set', 'infrastructure.kafka.topicPrefix=staging.'];
    expect(topicsJobEnv(args).get('KAFKA_TOPIC_PREFIX')).toBe('staging.');
    const config = template(args).objects.find(
      (object) => object.kind === 'ConfigMap' && object.metadata.name.endsWith('-config'),
    );
    expect((config?.data as Record<string, string>).KAFKA_TOPIC_PREFIX).toBe('staging.');
  });

  it('when no prefix is set, then the topics keep their plain names', () => {
    expect(topicsJobEnv([]).get('KAFKA_TOPIC_PREFIX')).toBe('');
  });

  it('when the prefix has a character Kafka refuses, then the chart refuses the values', () => {
    const rendered = template(['--set', 'infrastructure.kafka.topicPrefix=bad/prefix']);
    expect(rendered.stderr).toMatch(/topicPrefix/);
  });
});
