import type { TopicPartitionOffsetAndMetadata } from 'kafkajs';
import { OffsetCommits } from './offset-commits';

const sorted = (offsets: TopicPartitionOffsetAndMetadata[]) =>
  [...offsets].sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);

function recorder() {
  const requests: TopicPartitionOffsetAndMetadata[][] = [];

  const commit = async (offsets: TopicPartitionOffsetAndMetadata[]) => {
    requests.push(offsets);
  };
  return { requests, commit };
}

describe('OffsetCommits', () => {
  it('when many batches of several partitions are handled, then one request commits the latest offset of each', async () => {
    const { requests, commit } = recorder();
    const commits = new OffsetCommits(commit, 60_000);
    for (let offset = 1; offset <= 50; offset++) {
      commits.handled('order.events', offset % 3, String(offset));
    }
    commits.handled('payment.events', 0, '7');
    await commits.flush();
    expect(requests).toHaveLength(1);
    expect(sorted(requests[0]!)).toEqual([
      { topic: 'order.events', partition: 0, offset: '48' },
      { topic: 'order.events', partition: 1, offset: '49' },
      { topic: 'order.events', partition: 2, offset: '50' },
      { topic: 'payment.events', partition: 0, offset: '7' },
    ]);
    await commits.flush();
    expect(requests).toHaveLength(1);
  });

  it('when the interval has not passed since the last commit, then nothing is due; after it, handled offsets are', () => {
    const commits = new OffsetCommits(recorder().commit, 500);
    const start = Date.now();
    expect(commits.due(start + 1_000)).toBe(false);
    commits.handled('order.events', 0, '3');
    expect(commits.due(start + 100)).toBe(false);
    expect(commits.due(start + 1_000)).toBe(true);
  });

  it('when a commit fails, then its offsets are tried again with the next one, unless newer ones overtook them', async () => {
    const requests: TopicPartitionOffsetAndMetadata[][] = [];
    let refuse: (error: Error) => void = () => undefined;
    let sent: () => void = () => undefined;
    const firstSent = new Promise<void>((resolve) => (sent = resolve));
    let calls = 0;
    const commits = new OffsetCommits(async (offsets) => {
      if (++calls > 1) return void requests.push(offsets);
      sent();
      return new Promise<void>((_, reject) => (refuse = reject));
    }, 500);
    commits.handled('order.events', 0, '10');
    commits.handled('order.events', 1, '20');
    const first = commits.flush();
    await firstSent;
    // Handled while the first commit is on its way, and then that commit fails.
    commits.handled('order.events', 1, '25');
    refuse(new Error('REBALANCE_IN_PROGRESS'));
    await expect(first).rejects.toThrow('REBALANCE_IN_PROGRESS');
    await commits.flush();
    expect(requests).toHaveLength(1);
    expect(sorted(requests[0]!)).toEqual([
      { topic: 'order.events', partition: 0, offset: '10' },
      { topic: 'order.events', partition: 1, offset: '25' },
    ]);
  });

  it('when the group assigns this member other partitions, then offsets of the partitions it lost are not committed', async () => {
    const { requests, commit } = recorder();
    const commits = new OffsetCommits(commit, 500);
    commits.handled('order.events', 0, '10');
    commits.handled('order.events', 1, '20');
    commits.handled('payment.events', 4, '3');
    commits.assigned({ 'order.events': [1, 2] });
    await commits.flush();
    expect(requests).toEqual([[{ topic: 'order.events', partition: 1, offset: '20' }]]);
  });
});
