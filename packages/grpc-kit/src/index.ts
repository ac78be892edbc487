export * from './caller';
export * from './client';
export * from './errors';
export * from './lifecycle';
export * from './options';
export * from './server';
export * from './status-details';
export * from './unary';
