export * from './consumer';
export * from './kafka';
export * from './producer';
export * from './topics';
