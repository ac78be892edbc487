import type { Logger } from '@flash-sale/logging';

/**
 * Runs `stop` once on SIGTERM or SIGINT and exits 0 when it resolves, 1 when it throws or outlives
 * `hardLimitMs` (so a stuck dependency cannot keep a terminating pod alive forever).
 */
export function stopOnSignals(stop: () => Promise<void>, logger: Logger, hardLimitMs: number): void {
  let stopping = false;
  const handle = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const killer = setTimeout(() => {
      logger.error({ hardLimitMs }, 'shutdown took too long; exiting');
      process.exit(1);
    }, hardLimitMs);
    killer.unref();
    stop().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', handle);
  process.once('SIGINT', handle);
}

/**
 * Runs a service's `main`: a configuration error prints its message (naming the bad variable) and exits 78
 * (EX_CONFIG); any other start-up failure is logged and exits 1.
 */
export function runMain(main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    const name = error instanceof Error ? error.name : '';
    if (name === 'ConfigError') {
      process.stderr.write(`${(error as Error).message}\n`);
      process.exit(78);
    }
    process.stderr.write(
      `start-up failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  });
}
