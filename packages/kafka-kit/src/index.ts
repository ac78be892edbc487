export * from './backoff';
export * from './consumer';
export * from './dead-letters';
export * from './kafka';
export * from './producer';
export * from './topics';
export * from './outbox-relay';
export * from './pump-loop';
