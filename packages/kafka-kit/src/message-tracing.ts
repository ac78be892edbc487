import { context, ROOT_CONTEXT, SpanKind, trace, type Context, type Link, type Span } from '@opentelemetry/api';
import type { IHeaders, KafkaMessage } from 'kafkajs';
import {
  endSpan,
  meshTracer,
  restoreTraceContext,
  saveTraceContext,
  type TraceCarrier,
} from '@flash-sale/observability';

const KAFKA = { 'messaging.system': 'kafka' } as const;

/**
 * A message's `send` span and the headers that carry it: a child of the trace context saved with its outbox entry,
 * or the first span of a trace of its own when none was saved (entries written before contexts were saved). The
 * relay ends it once Kafka acknowledged the request (see `endSpans`).
 */
export function sendSpan(
  topic: string,
  saved: Partial<TraceCarrier> | null | undefined,
): { span: Span; headers: Record<string, string> } {
  const parent = restoreTraceContext(saved) ?? ROOT_CONTEXT;
  const span = meshTracer().startSpan(
    `send ${topic}`,
    {
      kind: SpanKind.PRODUCER,
      attributes: { ...KAFKA, 'messaging.destination.name': topic, 'messaging.operation.type': 'send' },
    },
    parent,
  );
  return { span, headers: { ...saveTraceContext(trace.setSpan(parent, span)) } };
}

/** Ends the spans of one request to Kafka, as failed when it was. */
export function endSpans(spans: readonly Span[], error?: unknown): void {
  for (const span of spans) endSpan(span, error);
}

const header = (headers: IHeaders | undefined, name: string): string | undefined => {
  const value = headers?.[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : first.toString();
};

/** The trace context a message's headers carry (its `send` span), if any. */
export function messageContext(message: Pick<KafkaMessage, 'headers'>): Context | undefined {
  const traceparent = header(message.headers, 'traceparent');
  if (!traceparent) return undefined;
  const tracestate = header(message.headers, 'tracestate');
  return restoreTraceContext(tracestate ? { traceparent, tracestate } : { traceparent });
}

/**
 * The spans of one batch a consumer handles. Every message gets a `process` span, a child of the context its headers
 * carry, so each message's trace goes on in this consumer. The handler itself runs in the one message's span when the
 * batch holds one; a larger batch mixes traces, so its shared work (one statement for all, say) runs in a `process`
 * span of its own that links to every message, and each message's span links back to it. `within` runs work in one
 * message's span: its SQL, gRPC calls and log lines then belong to that message's trace.
 */
export class BatchSpans {
  private readonly contexts = new Map<KafkaMessage, Context>();
  private readonly spans: Span[] = [];
  /** Where the handler runs. */
  readonly context: Context;

  constructor(topic: string, partition: number, groupId: string, messages: readonly KafkaMessage[]) {
    const attributes = {
      ...KAFKA,
      'messaging.destination.name': topic,
      'messaging.destination.partition.id': String(partition),
      'messaging.consumer.group.name': groupId,
      'messaging.operation.type': 'process',
    };
    const tracer = meshTracer();
    const parents = messages.map((message) => messageContext(message));
    let batch: Span | undefined;
    if (messages.length > 1) {
      const links: Link[] = [];
      for (const parent of parents) {
        const spanContext = parent && trace.getSpanContext(parent);
        if (spanContext) links.push({ context: spanContext });
      }
      batch = tracer.startSpan(
        `process ${topic}`,
        {
          kind: SpanKind.CONSUMER,
          attributes: { ...attributes, 'messaging.batch.message_count': messages.length },
          links,
        },
        ROOT_CONTEXT,
      );
      this.spans.push(batch);
    }
    const backToBatch = batch ? [{ context: batch.spanContext() }] : [];
    messages.forEach((message, i) => {
      const parent = parents[i] ?? ROOT_CONTEXT;
      const span = tracer.startSpan(
        `process ${topic}`,
        {
          kind: SpanKind.CONSUMER,
          attributes: { ...attributes, 'messaging.kafka.offset': Number(message.offset) },
          links: backToBatch,
        },
        parent,
      );
      this.spans.push(span);
      this.contexts.set(message, trace.setSpan(parent, span));
    });
    this.context = batch ? trace.setSpan(ROOT_CONTEXT, batch) : (this.contexts.get(messages[0]!) ?? context.active());
  }

  /** Runs `fn` in the handler's context (see the class). */
  run<T>(fn: () => T): T {
    return context.with(this.context, fn);
  }

  /** Runs `fn` in the span of `message` (one of this batch's), so that what it does joins that message's trace. */
  within = <T>(message: KafkaMessage, fn: () => T): T => {
    const found = this.contexts.get(message);
    return found ? context.with(found, fn) : fn();
  };

  end(error?: unknown): void {
    endSpans(this.spans, error);
  }
}
