import { runMain, stopOnSignals } from '@flash-sale/grpc-kit';
import { createLogger } from '@flash-sale/logging';
import { loadOrderConfig } from './config';
import { startOrderService } from './service';

runMain(async () => {
  const config = loadOrderConfig();
  const service = await startOrderService(config);
  stopOnSignals(
    service.stop,
    createLogger({ service: 'order', level: config.LOG_LEVEL }),
    config.SHUTDOWN_GRACE_MS + 10_000,
  );
});
