import {
  context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Link,
  type Span,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';

/**
 * A W3C trace context as it is saved with an outbox entry and sent in Kafka headers: the `traceparent` header and,
 * when the trace has one, `tracestate`. A plain object of strings, so it goes into a jsonb column as it is.
 */
export type TraceCarrier = { traceparent: string; tracestate?: string };

/** Always W3C, whatever OTEL_PROPAGATORS says: the outbox entries and the Kafka headers are specified as W3C. */
const w3c = new W3CTraceContextPropagator();

/** The tracer of the mesh's own spans (the outbox relays, the consumers, the batch items). */
export const meshTracer = () => trace.getTracer('@flash-sale/observability');

/**
 * The trace context of `from` (the active context by default), or undefined when it holds no span. An unsampled
 * span is saved as well (flags `00`): whatever continues it then logs its trace id, though no span is recorded.
 */
export function saveTraceContext(from: Context = context.active()): TraceCarrier | undefined {
  const carrier: Partial<TraceCarrier> = {};
  w3c.inject(from, carrier, defaultTextMapSetter);
  if (!carrier.traceparent) return undefined;
  if (!carrier.tracestate) delete carrier.tracestate;
  return carrier as TraceCarrier;
}

/**
 * The context a saved trace context stands for (its span is the remote parent of what follows), or undefined when
 * there is none or it cannot be read: the caller then starts a trace of its own.
 */
export function restoreTraceContext(carrier: Partial<TraceCarrier> | null | undefined): Context | undefined {
  if (!carrier?.traceparent) return undefined;
  const restored = w3c.extract(ROOT_CONTEXT, carrier, defaultTextMapGetter);
  return trace.getSpanContext(restored) ? restored : undefined;
}

/** A link to the span of `from`, for a span that continues another trace but was caused by this one too. */
export function linkTo(from: Context): Link[] {
  const spanContext = trace.getSpanContext(from);
  return spanContext ? [{ context: spanContext }] : [];
}

export interface SpanOptions {
  kind?: SpanKind;
  attributes?: Attributes;
  links?: Link[];
}

/**
 * Runs `fn` inside a new span, a child of `parent`, and ends the span when `fn` (sync or async) is done, marked as
 * an error when it threw.
 */
export function inSpan<T>(name: string, parent: Context, options: SpanOptions, fn: (span: Span) => T): T {
  const span = meshTracer().startSpan(name, { kind: SpanKind.INTERNAL, ...options }, parent);
  const failed = (error: unknown) => {
    endSpan(span, error);
    throw error;
  };
  try {
    const result = context.with(trace.setSpan(parent, span), fn, undefined, span);
    if (result instanceof Promise) {
      return result.then((value: unknown) => {
        span.end();
        return value;
      }, failed) as T;
    }
    span.end();
    return result;
  } catch (error) {
    return failed(error);
  }
}

/** Ends a span, with an error status when `error` is given. */
export function endSpan(span: Span, error?: unknown): void {
  if (error !== undefined) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
  }
  span.end();
}

/**
 * Runs one item of a batch call in the trace the item came with: inside a span `name` that continues `carrier`
 * (the item's own caller) and links to the batch call's span. An item from the call's own trace, or without a
 * carrier, gets a plain child of the call's span.
 */
export function inItemSpan<T>(name: string, carrier: Partial<TraceCarrier> | undefined, fn: () => T): T {
  const call = context.active();
  const item = restoreTraceContext(carrier);
  const itemTrace = item && trace.getSpanContext(item)?.traceId;
  if (!item || itemTrace === trace.getSpanContext(call)?.traceId) return inSpan(name, call, {}, fn);
  return inSpan(name, item, { links: linkTo(call) }, fn);
}
