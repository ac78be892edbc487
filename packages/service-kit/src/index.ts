export * from './foundation';
export * from './run-service';
