import { runService } from '@flash-sale/service-kit';
import { loadPromotionConfig } from './config';
import { startPromotionService } from './service';

runService('promotion', () => loadPromotionConfig(), startPromotionService);
