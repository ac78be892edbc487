import { Writable } from 'node:stream';
import { context, ROOT_CONTEXT, trace, type Sampler } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { tracing } from '@opentelemetry/sdk-node';
import type { KafkaMessage, Producer } from 'kafkajs';
import { createLogger } from '@flash-sale/logging';
import { saveTraceContext, type TraceCarrier } from '@flash-sale/observability';
import { BatchSpans, messageContext } from './message-tracing';
import { PgOutboxRelay, type TransactionalSql } from './outbox-relay';

const TRACE = '0af7651916cd43dd8448eb211c80319c';
const OTHER_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const carrier = (traceId: string, flags: '00' | '01', spanId = 'b7ad6b7169203331'): TraceCarrier => ({
  traceparent: `00-${traceId}-${spanId}-${flags}`,
});
const parse = (traceparent: string | undefined) => {
  const [, traceId, spanId, flags] = traceparent?.split('-') ?? [];
  return { traceId, spanId, flags };
};

/** The SDK as the services run it: ParentBased(ratio 0) without an exporter; spans kept in memory to look at. */
function startTracing(root: Sampler = new tracing.TraceIdRatioBasedSampler(0)) {
  const exported = new tracing.InMemorySpanExporter();
  const provider = new tracing.BasicTracerProvider({
    sampler: new tracing.ParentBasedSampler({ root }),
    spanProcessors: [new tracing.SimpleSpanProcessor(exported)],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(provider);
  return exported;
}

afterEach(() => {
  trace.disable();
  context.disable();
});

const message = (offset: number, headers: Record<string, string> = {}): KafkaMessage => ({
  key: Buffer.from(`order-${offset}`),
  value: Buffer.from('x'),
  timestamp: '0',
  attributes: 0,
  offset: String(offset),
  headers: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, Buffer.from(value)])),
});

function logLines() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: createLogger({ service: 'order', destination }) };
}

describe('PgOutboxRelay and trace context', () => {
  /** An outbox of one pass's rows; returns the messages the relay sent. */
  async function relay(rows: { id: string; trace_context: Partial<TraceCarrier> | null }[]) {
    const sent: { headers: Record<string, string> }[] = [];
    const sql = {
      async query<T>(query: string) {
        if (query.includes('advisory')) return [{ locked: true }] as T[];
        if (query.startsWith('SELECT id')) {
          return rows.map((row) => ({ ...row, topic: 'order.events', key: row.id, payload: Buffer.from('x') })) as T[];
        }
        return [] as T[];
      },
    };
    const db: TransactionalSql = { ...sql, transaction: (fn) => fn(sql) };
    const producer = {
      sendBatch: async ({
        topicMessages,
      }: {
        topicMessages: { messages: { headers: Record<string, string> }[] }[];
      }) => {
        sent.push(...topicMessages.flatMap((topic) => topic.messages));
        return [];
      },
    } as unknown as Producer;
    const logger = createLogger({ service: 'relay-test', level: 'silent' });
    expect(await new PgOutboxRelay(db, producer, logger, { table: 'outbox' }).pumpOnce()).toBe(rows.length);
    return sent.map((m) => m.headers);
  }

  it('when nothing is sampled, then each message still carries its row trace, unsampled, in a send span of its own', async () => {
    const exported = startTracing();
    const [first, second] = await relay([
      { id: '1', trace_context: carrier(TRACE, '00') },
      { id: '2', trace_context: carrier(OTHER_TRACE, '00') },
    ]);

    expect(parse(first?.traceparent)).toEqual({ traceId: TRACE, spanId: expect.any(String), flags: '00' });
    expect(parse(first?.traceparent).spanId).not.toBe('b7ad6b7169203331');
    expect(parse(second?.traceparent)).toMatchObject({ traceId: OTHER_TRACE, flags: '00' });
    expect(first?.['event-id']).toBe('1');
    expect(exported.getFinishedSpans()).toHaveLength(0);
  });

  it('when a row was written in a sampled trace, then its send span is recorded as a child of the saved context', async () => {
    const exported = startTracing();
    const [headers] = await relay([{ id: '1', trace_context: carrier(TRACE, '01') }]);

    const [span] = exported.getFinishedSpans();
    expect(span).toMatchObject({ name: 'send order.events', kind: 3 });
    expect(span?.spanContext().traceId).toBe(TRACE);
    expect(span?.parentSpanContext?.spanId).toBe('b7ad6b7169203331');
    expect(parse(headers?.traceparent)).toEqual({ traceId: TRACE, spanId: span?.spanContext().spanId, flags: '01' });
  });

  it('when a row has no saved context (written before they were saved), then it is still published, in a trace of its own', async () => {
    startTracing();
    const [headers] = await relay([{ id: '7', trace_context: null }]);
    expect(headers?.['event-id']).toBe('7');
    expect(parse(headers?.traceparent).traceId).toMatch(/^[0-9a-f]{32}$/);
  });
});

describe('BatchSpans', () => {
  it('when a batch holds one message, then the handler runs in its trace (unsampled too) and logs its trace id', async () => {
    startTracing();
    const { lines, logger } = logLines();
    const one = message(5, carrier(TRACE, '00'));
    const spans = new BatchSpans('order.requested', 0, 'order', [one]);
    await spans.run(async () => {
      await new Promise((resolve) => setImmediate(resolve));
      logger.info('order created');
    });
    spans.end();
    expect(lines[0]).toMatchObject({ trace_id: TRACE });
    expect(lines[0]?.span_id).not.toBe('b7ad6b7169203331');
  });

  it('when a batch mixes traces, then the shared work runs in a batch span linked to each message, and `within` runs in the message trace', async () => {
    const exported = startTracing(new tracing.AlwaysOnSampler());
    const { lines, logger } = logLines();
    const a = message(1, carrier(TRACE, '01', '1111111111111111'));
    const b = message(2, carrier(OTHER_TRACE, '01', '2222222222222222'));
    const old = message(3);
    const spans = new BatchSpans('order.events', 2, 'inventory', [a, b, old]);
    let saved: (TraceCarrier | undefined)[] = [];
    spans.run(() => {
      logger.info('batch insert');
      saved = [a, b, old].map((m) => spans.within(m, () => saveTraceContext()));
      spans.within(b, () => logger.info('reservation confirmed'));
    });
    spans.end();

    const finished = exported.getFinishedSpans();
    const batch = finished.find((span) => span.attributes['messaging.batch.message_count'] === 3)!;
    expect(batch.parentSpanContext).toBeUndefined();
    expect(batch.links.map((link) => link.context.spanId)).toEqual(['1111111111111111', '2222222222222222']);
    const perMessage = finished.filter((span) => span !== batch);
    expect(perMessage.map((span) => [span.spanContext().traceId, span.parentSpanContext?.spanId])).toEqual([
      [TRACE, '1111111111111111'],
      [OTHER_TRACE, '2222222222222222'],
      [expect.not.stringMatching(new RegExp(`${TRACE}|${OTHER_TRACE}`)), undefined],
    ]);
    for (const span of perMessage) expect(span.links[0]?.context.spanId).toBe(batch.spanContext().spanId);
    expect(saved.map((c) => parse(c?.traceparent).spanId)).toEqual(perMessage.map((s) => s.spanContext().spanId));
    expect(lines.map((line) => [line.msg, line.trace_id])).toEqual([
      ['batch insert', batch.spanContext().traceId],
      ['reservation confirmed', OTHER_TRACE],
    ]);
  });

  it('when the handler throws, then the spans end marked as errors', () => {
    const exported = startTracing(new tracing.AlwaysOnSampler());
    const spans = new BatchSpans('order.events', 0, 'inventory', [message(1, carrier(TRACE, '01'))]);
    spans.end(new Error('database away'));
    expect(exported.getFinishedSpans().map((span) => span.status)).toEqual([{ code: 2, message: 'database away' }]);
  });

  it('when headers carry no or a broken traceparent, then the message has no context', () => {
    startTracing();
    expect(messageContext(message(1))).toBeUndefined();
    expect(messageContext(message(1, { traceparent: 'garbage' }))).toBeUndefined();
    const restored = messageContext(message(1, { ...carrier(TRACE, '00'), tracestate: 'vendor=1' }))!;
    expect(trace.getSpanContext(restored)).toMatchObject({ traceId: TRACE, isRemote: true });
    expect(trace.getSpanContext(restored)?.traceState?.get('vendor')).toBe('1');
    expect(trace.getSpanContext(ROOT_CONTEXT)).toBeUndefined();
  });
});
