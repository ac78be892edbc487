import { runService } from '@flash-sale/service-kit';
import { loadOrderConfig } from './config';
import { startOrderService } from './service';

runService('order', () => loadOrderConfig(), startOrderService);
