import { runMain, stopOnSignals } from '@flash-sale/grpc-kit';
import { createLogger } from '@flash-sale/logging';
import type { RunningService } from './foundation';

/**
 * A service's `main`: parse the config (a bad variable exits 78 naming it), start, and stop gracefully on
 * SIGTERM or SIGINT, giving up after the grace period plus a margin.
 */
export function runService<C extends { LOG_LEVEL: string; SHUTDOWN_GRACE_MS: number }>(
  name: string,
  loadConfig: () => C,
  start: (config: C) => Promise<RunningService>,
): void {
  runMain(async () => {
    const config = loadConfig();
    const service = await start(config);
    stopOnSignals(
      service.stop,
      createLogger({ service: name, level: config.LOG_LEVEL }),
      config.SHUTDOWN_GRACE_MS + 10_000,
    );
  });
}
