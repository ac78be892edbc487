import { runMain, stopOnSignals } from '@flash-sale/grpc-kit';
import { createLogger } from '@flash-sale/logging';
import { loadInventoryConfig } from './config';
import { startInventoryService } from './service';

runMain(async () => {
  const config = loadInventoryConfig();
  const service = await startInventoryService(config);
  stopOnSignals(
    service.stop,
    createLogger({ service: 'inventory', level: config.LOG_LEVEL }),
    config.SHUTDOWN_GRACE_MS + 10_000,
  );
});
