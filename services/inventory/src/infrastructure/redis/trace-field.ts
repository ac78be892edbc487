import { saveTraceContext, type TraceCarrier } from '@flash-sale/observability';

/**
 * The `trace` field of an outbox entry: the active trace context as one string, its `traceparent` and, when the
 * trace has one, a space and its `tracestate` (a traceparent holds no space); empty without a trace. One short field
 * per reservation, read from the context the reservation runs in (each item of a ReserveBatch runs in its own
 * purchase's, see the handlers), so the hot path pays a string and an argument.
 */
export function traceField(): string {
  const carrier = saveTraceContext();
  if (!carrier) return '';
  return carrier.tracestate ? `${carrier.traceparent} ${carrier.tracestate}` : carrier.traceparent;
}

/** The trace context a `trace` field holds; undefined when empty or absent (entries written before it existed). */
export function fromTraceField(field: string | undefined): TraceCarrier | undefined {
  if (!field) return undefined;
  const space = field.indexOf(' ');
  if (space < 0) return { traceparent: field };
  return { traceparent: field.slice(0, space), tracestate: field.slice(space + 1) };
}
