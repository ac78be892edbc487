import { runMain, stopOnSignals } from '@flash-sale/grpc-kit';
import { createLogger } from '@flash-sale/logging';
import { loadPaymentConfig } from './config';
import { startPaymentService } from './service';

runMain(async () => {
  const config = loadPaymentConfig();
  const service = await startPaymentService(config);
  stopOnSignals(
    service.stop,
    createLogger({ service: 'payment', level: config.LOG_LEVEL }),
    config.SHUTDOWN_GRACE_MS + 10_000,
  );
});
