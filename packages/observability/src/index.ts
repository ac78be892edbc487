export { startTracing } from './tracing';
