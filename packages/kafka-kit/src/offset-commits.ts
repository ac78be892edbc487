import type { TopicPartitionOffsetAndMetadata } from 'kafkajs';

type Commit = (offsets: TopicPartitionOffsetAndMetadata[]) => Promise<void>;

const keyOf = ({ topic, partition }: { topic: string; partition: number }) => `${topic}/${partition}`;

/**
 * The offsets a consumer handled but has not committed yet, committed together at most every `intervalMs`
 * instead of one commit request per partition batch (kafkajs' own auto-commit). Under load a fetch brings a batch
 * for each of a topic's partitions, and a commit each was most of what Kafka and the consumers spent per event.
 *
 * A crash loses at most the last interval's commits: those messages come again, and every handler dedupes by
 * event id. The caller commits at once before a rebalance and when stopping, so those cost nothing again.
 */
export class OffsetCommits {
  private readonly pending = new Map<string, TopicPartitionOffsetAndMetadata>();
  private lastCommit = Date.now();
  private committing: Promise<void> = Promise.resolve();

  constructor(
    private readonly commit: Commit,
    private readonly intervalMs: number,
  ) {}

  /** Records that every message of `topic`/`partition` before `nextOffset` is handled. */
  handled(topic: string, partition: number, nextOffset: string): void {
    this.pending.set(keyOf({ topic, partition }), { topic, partition, offset: nextOffset });
  }

  /** The partitions this member owns now: handled offsets of any other are not its to commit any more. */
  assigned(partitions: Record<string, number[]>): void {
    for (const [key, { topic, partition }] of this.pending) {
      if (!partitions[topic]?.includes(partition)) this.pending.delete(key);
    }
  }

  due(now = Date.now()): boolean {
    return this.pending.size > 0 && now - this.lastCommit >= this.intervalMs;
  }

  /** Commits everything handled so far, after any commit already on its way (offsets only move forward). */
  flush(): Promise<void> {
    const run = this.committing
      .catch(() => undefined)
      .then(async () => {
        this.lastCommit = Date.now();
        if (this.pending.size === 0) return;
        const offsets = [...this.pending.values()];
        this.pending.clear();
        try {
          await this.commit(offsets);
        } catch (error) {
          // Put back what was not overtaken meanwhile, so the next flush tries again.
          for (const offset of offsets) {
            if (!this.pending.has(keyOf(offset))) this.pending.set(keyOf(offset), offset);
          }
          throw error;
        }
      });
    this.committing = run;
    return run;
  }
}
