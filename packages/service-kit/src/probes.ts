import type { Foundation } from './foundation';

/** The overall (`''`) status of a service's `grpc.health.v1.Health`, plus the time before its server started. */
export type ServingStatus = 'STARTING' | 'SERVING' | 'NOT_SERVING';

/** What `HealthImplementation` (grpc-health-check) offers that the mirror needs. */
export interface HealthStatusSetter {
  setStatus(service: string, status: 'SERVING' | 'NOT_SERVING' | 'UNKNOWN'): void;
}

export interface ProbeAnswer {
  code: number;
  body: { status: ServingStatus };
}

/**
 * The gRPC health status, mirrored for kubelet's HTTP probes on the metrics port: with mTLS on, a gRPC probe cannot
 * present a client certificate, so the gRPC port cannot answer kubelet.
 *
 * - `/readyz`: 200 while the gRPC server is SERVING; 503 before it starts and while it drains.
 * - `/healthz`: 200 once the gRPC server has started, draining included (restarting a draining pod would cut its
 *   calls short); 503 before, which the startup probe waits out.
 */
export class ServingState {
  private current: ServingStatus = 'STARTING';

  get status(): ServingStatus {
    return this.current;
  }

  /** Follows a started server's health: SERVING now (the server returns only then), then every change of `''`. */
  follow(health: HealthStatusSetter): void {
    this.current = 'SERVING';
    const setStatus = health.setStatus.bind(health);
    health.setStatus = (service, status) => {
      setStatus(service, status);
      if (service === '') this.current = status === 'SERVING' ? 'SERVING' : 'NOT_SERVING';
    };
  }

  /** The answer to a probe path, or undefined for any other path. */
  probe(path: string): ProbeAnswer | undefined {
    const status = this.current;
    if (path === '/readyz') return { code: status === 'SERVING' ? 200 : 503, body: { status } };
    if (path === '/healthz') return { code: status === 'STARTING' ? 503 : 200, body: { status } };
    return undefined;
  }
}

const states = new WeakMap<Foundation, ServingState>();

/** The one ServingState of a service: its metrics server answers probes from it, `serve` keeps it current. */
export function servingState(foundation: Foundation): ServingState {
  let state = states.get(foundation);
  if (!state) {
    state = new ServingState();
    states.set(foundation, state);
  }
  return state;
}
