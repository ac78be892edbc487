import { context, createTraceState, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { fromTraceField, traceField } from './trace-field';

describe('the trace field of an outbox entry', () => {
  beforeAll(() => context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable()));
  afterAll(() => context.disable());

  const active = (traceFlags: number, tracestate?: string) =>
    trace.setSpanContext(ROOT_CONTEXT, {
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags,
      ...(tracestate ? { traceState: createTraceState(tracestate) } : {}),
    });

  it('when a reservation runs in a trace, sampled or not, then the field is its traceparent, read back as it was', () => {
    const field = context.with(active(0), traceField);
    expect(field).toBe('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00');
    expect(fromTraceField(field)).toEqual({ traceparent: field });
  });

  it('when the trace has a tracestate, then it follows the traceparent after a space', () => {
    const field = context.with(active(1, 'vendor=a b,x=1'), traceField);
    expect(field).toBe('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01 vendor=a b,x=1');
    expect(fromTraceField(field)).toEqual({
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      tracestate: 'vendor=a b,x=1',
    });
  });

  it('when there is no trace, then the field is empty, and an empty or missing field reads as none', () => {
    expect(traceField()).toBe('');
    expect(fromTraceField('')).toBeUndefined();
    expect(fromTraceField(undefined)).toBeUndefined();
  });
});
