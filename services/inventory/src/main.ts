import { runService } from '@flash-sale/service-kit';
import { loadInventoryConfig } from './config';
import { startInventoryService } from './service';

runService('inventory', () => loadInventoryConfig(), startInventoryService);
