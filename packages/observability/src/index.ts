/**
 * What services and launchers import: the trace-context helpers, which need only the OpenTelemetry API, and the
 * mesh's node flags. The SDK itself (`./tracing`) is loaded by `register` alone, before the service.
 */
export * from './trace-context';
export { NODE_OPTIONS, nodeOptions } from './node-options';
