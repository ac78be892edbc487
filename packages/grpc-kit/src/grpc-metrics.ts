import {
  InterceptingCall,
  ServerInterceptingCall,
  status,
  type Interceptor,
  type ServerInterceptingCallInterface,
  type ServerInterceptor,
  type ServiceDefinition,
} from '@grpc/grpc-js';
import type { Registry } from 'prom-client';
import { PreboundCounter, PreboundHistogram, type CounterCell, type HistogramCell } from './prebound-metrics';

/** Buckets of `grpc_*_handling_seconds`, in seconds. */
export const GRPC_HANDLING_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** Every gRPC status code, 0 (OK) to 16 (UNAUTHENTICATED), by number. */
const CODES = Object.values(status).filter((code): code is number => typeof code === 'number');

/** What one method's calls add to: bound when the server or client is set up, so a call only does arithmetic. */
interface MethodCells {
  started: CounterCell;
  /** By status code. */
  handled: CounterCell[];
  seconds: HistogramCell;
}

type Side = 'server' | 'client';

/** One side's three families (started, handled, handling seconds) and its methods' cells. */
class SideMetrics {
  private readonly started: PreboundCounter;
  private readonly handled: PreboundCounter;
  private readonly seconds: PreboundHistogram;
  private readonly methods = new Map<string, MethodCells>();

  constructor(registry: Registry, side: Side) {
    const who = side === 'server' ? 'started on the server' : 'started by this client';
    this.started = new PreboundCounter(`grpc_${side}_started_total`, `gRPC calls ${who}`, registry);
    this.handled = new PreboundCounter(
      `grpc_${side}_handled_total`,
      `gRPC calls ${side === 'server' ? 'completed by the server' : 'completed at the client'}, by status code`,
      registry,
      true,
    );
    this.seconds = new PreboundHistogram(
      `grpc_${side}_handling_seconds`,
      `Time from a call's start to its status, ${side === 'server' ? 'on the server' : 'at the client'}`,
      registry,
      GRPC_HANDLING_BUCKETS,
    );
  }

  /** The path -> cells map of `services`' methods, binding each method once (again: the same cells). */
  bind(services: readonly ServiceDefinition[]): Map<string, MethodCells> {
    const byPath = new Map<string, MethodCells>();
    for (const service of services) {
      for (const method of Object.values(service)) {
        let cells = this.methods.get(method.path);
        if (!cells) {
          cells = this.cellsOf(method.path, typeOf(method.requestStream, method.responseStream));
          this.methods.set(method.path, cells);
        }
        byPath.set(method.path, cells);
      }
    }
    return byPath;
  }

  private cellsOf(path: string, type: string): MethodCells {
    const [service = '', method = ''] = path.slice(1).split('/');
    const labels = { grpc_type: type, grpc_service: service, grpc_method: method };
    return {
      started: this.started.cell(labels),
      handled: CODES.map((code) => this.handled.cell({ ...labels, grpc_code: String(status[code]) })),
      seconds: this.seconds.cell(labels),
    };
  }
}

function typeOf(requestStream: boolean, responseStream: boolean): string {
  if (requestStream && responseStream) return 'bidi_stream';
  if (requestStream) return 'client_stream';
  return responseStream ? 'server_stream' : 'unary';
}

function finishOnce(cells: MethodCells) {
  const startedAt = performance.now();
  let done = false;
  return (code: number) => {
    if (done) return;
    done = true;
    (cells.handled[code] ?? cells.handled[status.UNKNOWN]!).inc();
    cells.seconds.observe((performance.now() - startedAt) / 1000);
  };
}

/**
 * A client gives up at its deadline and resets the stream, which can reach the server a moment before the server's
 * own copy of that deadline passes: a cancellation this near the deadline is the deadline.
 */
const DEADLINE_MARGIN_MS = 25;

function deadlinePassed(call: ServerInterceptingCallInterface): boolean {
  const deadline = call.getDeadline();
  return (deadline instanceof Date ? deadline.getTime() : deadline) <= Date.now() + DEADLINE_MARGIN_MS;
}

/**
 * gRPC RED metrics under the names go-grpc-prometheus made conventional (`grpc_server_handled_total`, ...), labelled
 * grpc_type, grpc_service (full name), grpc_method (short name) and, when handled, grpc_code (its name). One instance
 * per registry, shared by the process's servers and clients (see `GrpcMetrics.of`).
 */
export class GrpcMetrics {
  private static readonly instances = new WeakMap<Registry, GrpcMetrics>();
  private readonly sides = new Map<Side, SideMetrics>();

  private constructor(private readonly registry: Registry) {}

  /** The gRPC metrics of `registry`, made on first use (a registry takes each metric name once). */
  static of(registry: Registry): GrpcMetrics {
    let metrics = GrpcMetrics.instances.get(registry);
    if (!metrics) {
      metrics = new GrpcMetrics(registry);
      GrpcMetrics.instances.set(registry, metrics);
    }
    return metrics;
  }

  /**
   * Counts the calls of `services`' methods on a server; other methods (health, reflection) pass uncounted. Put it
   * first among the server's interceptors: grpc-js runs the first one nearest the transport, so it sees the status
   * of calls the others refuse. A call the client cancelled, or whose deadline passed, before the handler answered
   * is counted once, as CANCELLED or DEADLINE_EXCEEDED.
   */
  serverInterceptor(services: readonly ServiceDefinition[]): ServerInterceptor {
    const byPath = this.side('server').bind(services);
    return (descriptor, call) => {
      const cells = byPath.get(descriptor.path);
      if (!cells) return new ServerInterceptingCall(call);
      cells.started.inc();
      const finish = finishOnce(cells);
      return new ServerInterceptingCall(call, {
        // grpc-js tells every listener onCancel when a call ends, answered or not: only the unanswered count here.
        start: (next) =>
          next({ onCancel: () => finish(deadlinePassed(call) ? status.DEADLINE_EXCEEDED : status.CANCELLED) }),
        sendStatus: (sent, next) => {
          finish(sent.code);
          next(sent);
        },
      });
    };
  }

  /** Counts a client's calls to `service` (`createClient(..., { interceptors: [metrics.clientInterceptor(...)] })`). */
  clientInterceptor(service: ServiceDefinition): Interceptor {
    const byPath = this.side('client').bind([service]);
    return (options, nextCall) => {
      const cells = byPath.get(options.method_definition.path);
      if (!cells) return new InterceptingCall(nextCall(options));
      cells.started.inc();
      const finish = finishOnce(cells);
      return new InterceptingCall(nextCall(options), {
        start: (metadata, _listener, next) =>
          next(metadata, {
            onReceiveStatus: (received, nextStatus) => {
              finish(received.code);
              nextStatus(received);
            },
          }),
      });
    };
  }

  private side(side: Side): SideMetrics {
    let metrics = this.sides.get(side);
    if (!metrics) {
      metrics = new SideMetrics(this.registry, side);
      this.sides.set(side, metrics);
    }
    return metrics;
  }
}
