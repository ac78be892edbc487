import { runService } from '@flash-sale/service-kit';
import { loadPaymentConfig } from './config';
import { startPaymentService } from './service';

runService('payment', () => loadPaymentConfig(), startPaymentService);
