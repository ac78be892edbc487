import type { Admin } from 'kafkajs';
import type { LedgerProgress } from '../../application/ports';

/**
 * The ledger consumer group's committed offsets against the topic's end offsets taken at the call. The group
 * commits only after the ledger's database transaction, so "committed >= end" means recorded.
 */
export class KafkaLedgerProgress implements LedgerProgress {
  constructor(
    private readonly admin: Admin,
    private readonly groupId: string,
    private readonly topic: string,
    private readonly pollMs = 100,
  ) {}

  async catchUp(timeoutMs: number): Promise<boolean> {
    const ends = await this.admin.fetchTopicOffsets(this.topic);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const [committed] = await this.admin.fetchOffsets({ groupId: this.groupId, topics: [this.topic] });
      const at = new Map(committed?.partitions.map((p) => [p.partition, Number(p.offset)]) ?? []);
      // A partition the group never committed reads -1: the group reads it from the beginning, so it stands at low.
      const position = (partition: number, low: string) => Math.max(at.get(partition) ?? -1, Number(low));
      if (ends.every(({ partition, low, high }) => position(partition, low) >= Number(high))) return true;
      if (Date.now() >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, this.pollMs));
    }
  }
}
