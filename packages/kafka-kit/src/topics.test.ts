import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deadLetterTopic } from './dead-letters';
import { topicNames, Topics } from './topics';

const created = (
  JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'infra', 'topics.json'), 'utf8')) as { name: string }[]
).map((topic) => topic.name);

describe('topics', () => {
  it('when infra/topics.json creates the topics, then it creates exactly the ones the code names', () => {
    expect([...created].sort()).toEqual(Object.values(Topics).sort());
  });

  it('when a service consumes a topic, then its dead-letter topic exists', () => {
    const consumed = [Topics.OrderRequested, Topics.OrderEvents, Topics.PaymentEvents, Topics.OrderDeadlines];
    for (const topic of consumed) expect(created).toContain(deadLetterTopic(topic));
  });
});

describe('topicNames', () => {
  it('when the prefix is empty, then the names are the topics themselves', () => {
    expect(topicNames('')).toEqual(Topics);
  });

  it('when a prefix is given, then every topic, dead letters included, is behind it', () => {
    const names = topicNames('test.');
    for (const [key, name] of Object.entries(Topics)) expect(names[key as keyof typeof Topics]).toBe(`test.${name}`);
    expect(deadLetterTopic(names.OrderRequested)).toBe(names.OrderRequestedDlq);
  });
});
