import { Writable } from 'node:stream';
import { context, createTraceState, ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { tracing } from '@opentelemetry/sdk-node';
import { createLogger } from '@flash-sale/logging';
import { inItemSpan, inSpan, linkTo, restoreTraceContext, saveTraceContext } from './trace-context';
import { defaultSampler } from './tracing';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-(0[01])$/;

/** A tracer provider as `startTracing` makes one without an exporter: ParentBased(ratio 0), spans going nowhere. */
function tracingWithoutExporter() {
  const exported = new tracing.InMemorySpanExporter();
  const provider = new tracing.BasicTracerProvider({
    sampler: defaultSampler('none', {}),
    spanProcessors: [new tracing.SimpleSpanProcessor(exported)],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(provider);
  return { exported, tracer: provider.getTracer('test') };
}

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

afterEach(() => {
  trace.disable();
  context.disable();
});

describe('trace context through an outbox, with the default sampler (no exporter)', () => {
  it('when nothing is sampled, then the context is still saved (flags 00) and restored: the work that continues it keeps the trace id, and so do its log lines', async () => {
    const { exported, tracer } = tracingWithoutExporter();
    const purchase = tracer.startSpan('POST /v1/promotions/:id/purchase');
    expect(purchase.isRecording()).toBe(false);
    const { traceId } = purchase.spanContext();

    const saved = context.with(trace.setSpan(ROOT_CONTEXT, purchase), () => saveTraceContext());
    expect(saved?.traceparent).toMatch(TRACEPARENT);
    expect(TRACEPARENT.exec(saved!.traceparent)!.slice(1)).toEqual([traceId, purchase.spanContext().spanId, '00']);
    expect(saved).not.toHaveProperty('tracestate');

    // What a relay and a consumer do, later and elsewhere: continue the saved context.
    const restored = restoreTraceContext(JSON.parse(JSON.stringify(saved)) as typeof saved);
    expect(restored).toBeDefined();
    const { lines, logger } = logLines();
    const child = await inSpan('process order.requested', restored!, {}, async (span) => {
      await new Promise((resolve) => setImmediate(resolve));
      logger.info({ orderId: '1' }, 'order created');
      return span.spanContext();
    });

    expect(child.traceId).toBe(traceId);
    expect(child.spanId).not.toBe(purchase.spanContext().spanId);
    expect(child.traceFlags & TraceFlags.SAMPLED).toBe(0);
    expect(lines[0]).toMatchObject({ msg: 'order created', trace_id: traceId, span_id: child.spanId });
    expect(exported.getFinishedSpans()).toHaveLength(0);
  });

  it('when the caller sampled its trace, then what continues it is recorded too (parent-based)', () => {
    const { exported } = tracingWithoutExporter();
    const caller = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1 };
    const saved = saveTraceContext(trace.setSpanContext(ROOT_CONTEXT, caller));
    expect(saved?.traceparent).toBe('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');

    inSpan('send order.events', restoreTraceContext(saved)!, {}, () => undefined);

    const [span] = exported.getFinishedSpans();
    expect(span?.spanContext().traceId).toBe(caller.traceId);
    expect(span?.parentSpanContext?.spanId).toBe(caller.spanId);
  });

  it('when the trace has a tracestate, then it is saved and restored with it', () => {
    tracingWithoutExporter();
    const caller = {
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags: 0,
      traceState: createTraceState('vendor=abc,other=1'),
    };
    const saved = saveTraceContext(trace.setSpanContext(ROOT_CONTEXT, caller));
    expect(saved).toEqual({
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00',
      tracestate: 'vendor=abc,other=1',
    });
    expect(trace.getSpanContext(restoreTraceContext(saved)!)?.traceState?.get('vendor')).toBe('abc');
  });

  it('when there is no span, or what was saved is not a traceparent, then nothing is saved or restored', () => {
    tracingWithoutExporter();
    expect(saveTraceContext()).toBeUndefined();
    expect(restoreTraceContext(undefined)).toBeUndefined();
    expect(restoreTraceContext(null)).toBeUndefined();
    expect(restoreTraceContext({ traceparent: 'not-a-traceparent' })).toBeUndefined();
    expect(restoreTraceContext({ traceparent: `00-${'0'.repeat(32)}-${'1'.repeat(16)}-01` })).toBeUndefined();
    expect(linkTo(ROOT_CONTEXT)).toEqual([]);
  });

  it('when the work in a span throws, then the span ends marked as an error and the error goes on', async () => {
    const { exported } = tracingWithoutExporter();
    const sampled = trace.setSpanContext(ROOT_CONTEXT, {
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags: 1,
    });
    await expect(
      inSpan('confirm', sampled, {}, async () => {
        throw new Error('broker away');
      }),
    ).rejects.toThrow('broker away');
    expect(() =>
      inSpan('confirm', sampled, {}, () => {
        throw new Error('bad');
      }),
    ).toThrow('bad');
    expect(exported.getFinishedSpans().map((span) => [span.status.code, span.status.message])).toEqual([
      [2, 'broker away'],
      [2, 'bad'],
    ]);
  });
});

describe('inItemSpan', () => {
  it("when a batch call's items come from other traces, then each item's span continues its own trace and links to the call; an item of the call's trace is the call's child", () => {
    const { exported, tracer } = tracingWithoutExporter();
    // The gateway's call, in its first purchase's trace (a...a, span 2...2).
    const first = trace.setSpanContext(ROOT_CONTEXT, {
      traceId: 'a'.repeat(32),
      spanId: '2'.repeat(16),
      traceFlags: 1,
    });
    const call = tracer.startSpan('ReserveBatch', {}, first);
    context.with(trace.setSpan(ROOT_CONTEXT, call), () => {
      inItemSpan('item', { traceparent: `00-${'a'.repeat(32)}-${'2'.repeat(16)}-01` }, () => undefined);
      inItemSpan('item', { traceparent: `00-${'b'.repeat(32)}-${'3'.repeat(16)}-01` }, () => undefined);
      inItemSpan('item', undefined, () => undefined);
    });
    const [own, other, none] = exported.getFinishedSpans();
    expect(own?.parentSpanContext?.spanId).toBe(call.spanContext().spanId);
    expect(own?.links).toEqual([]);
    expect(other?.spanContext().traceId).toBe('b'.repeat(32));
    expect(other?.parentSpanContext?.spanId).toBe('3'.repeat(16));
    expect(other?.links.map((link) => link.context.spanId)).toEqual([call.spanContext().spanId]);
    expect(none?.parentSpanContext?.spanId).toBe(call.spanContext().spanId);
  });
});
