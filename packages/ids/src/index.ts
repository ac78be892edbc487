export * from './snowflake';
export * from './worker-lease';
