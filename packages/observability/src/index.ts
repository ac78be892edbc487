/**
 * What services import: the trace-context helpers, which need only the OpenTelemetry API. The SDK itself
 * (`./tracing`) is loaded by `register` alone, before the service.
 */
export * from './trace-context';
