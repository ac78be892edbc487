import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deadLetterTopic } from './dead-letters';
import { Topics } from './topics';

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
