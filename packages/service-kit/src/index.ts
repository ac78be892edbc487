export * from './foundation';
export * from './run-service';
export * from './metrics-server';
export * from './probes';
