import type { Logger } from '@flash-sale/logging';

/**
 * Collects what a service must stop, in start order, and stops it in reverse: stop taking work first (the
 * server was started last), then consumers and relays, then Kafka, Redis and the database. A step that fails
 * is logged and the rest still run.
 */
export class ShutdownSequence {
  private readonly steps: { name: string; stop: () => unknown }[] = [];

  constructor(private readonly logger: Logger) {}

  add(name: string, stop: () => unknown): this {
    this.steps.push({ name, stop });
    return this;
  }

  run = async (): Promise<void> => {
    for (const step of [...this.steps].reverse()) {
      try {
        await step.stop();
      } catch (error) {
        this.logger.error({ err: error, step: step.name }, 'shutdown step failed');
      }
    }
  };
}
