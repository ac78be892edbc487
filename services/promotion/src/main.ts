import { runMain, stopOnSignals } from '@flash-sale/grpc-kit';
import { createLogger } from '@flash-sale/logging';
import { loadPromotionConfig } from './config';
import { startPromotionService } from './service';

runMain(async () => {
  const config = loadPromotionConfig();
  const service = await startPromotionService(config);
  stopOnSignals(
    service.stop,
    createLogger({ service: 'promotion', level: config.LOG_LEVEL }),
    config.SHUTDOWN_GRACE_MS + 10_000,
  );
});
