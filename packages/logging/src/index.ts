import { trace } from '@opentelemetry/api';
import pino from 'pino';

export type Logger = pino.Logger;

/** Paths never written to logs: credentials, tokens and payment data. */
export const REDACTED_PATHS = [
  'authorization',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
  'password',
  '*.password',
  'token',
  '*.token',
  'cardNumber',
  '*.cardNumber',
  'cvc',
  '*.cvc',
  'databaseUrl',
  '*.databaseUrl',
  // The settings that hold credentials, should a configuration object ever be logged.
  'DATABASE_URL',
  '*.DATABASE_URL',
  'DATABASE_PASSWORD',
  '*.DATABASE_PASSWORD',
  'REDIS_PASSWORD',
  '*.REDIS_PASSWORD',
  'JWT_SECRET',
  '*.JWT_SECRET',
];

export interface LoggerOptions {
  service: string;
  level?: string;
  /** Where to write; defaults to stdout. Tests pass a stream to read the lines back. */
  destination?: pino.DestinationStream;
}

/**
 * A pino logger that writes one JSON object a line, stamps each line with the service name and, when a span is
 * active, its `trace_id` and `span_id`, so a log line can be joined to its trace.
 */
export function createLogger({ service, level = 'info', destination }: LoggerOptions): Logger {
  return pino(
    {
      level,
      base: { service },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      mixin() {
        const span = trace.getActiveSpan();
        if (!span) return {};
        const { traceId, spanId } = span.spanContext();
        return { trace_id: traceId, span_id: spanId };
      },
    },
    destination,
  );
}
