import { ServingState, type HealthStatusSetter } from './probes';

/** A stand-in for grpc-health-check's HealthImplementation: records what it is told. */
function fakeHealth(): HealthStatusSetter & { told: string[] } {
  const told: string[] = [];
  return {
    told,
    setStatus(service, status) {
      told.push(`${service || "''"}=${status}`);
    },
  };
}

const codes = (state: ServingState) => [state.probe('/healthz')?.code, state.probe('/readyz')?.code];

describe('ServingState', () => {
  it('when the gRPC server has not started, then liveness and readiness both fail (the startup probe waits)', () => {
    const state = new ServingState();
    expect(codes(state)).toEqual([503, 503]);
    expect(state.probe('/readyz')?.body).toEqual({ status: 'STARTING' });
  });

  it('when the server is serving, then both probes pass', () => {
    const state = new ServingState();
    state.follow(fakeHealth());
    expect(codes(state)).toEqual([200, 200]);
  });

  it('when the server drains (overall status NOT_SERVING), then it is alive but not ready', () => {
    const state = new ServingState();
    const health = fakeHealth();
    state.follow(health);
    health.setStatus('flashsale.order.v1.OrderService', 'NOT_SERVING');
    expect(codes(state)).toEqual([200, 200]);
    health.setStatus('', 'NOT_SERVING');
    expect(codes(state)).toEqual([200, 503]);
    expect(state.probe('/readyz')?.body).toEqual({ status: 'NOT_SERVING' });
    // The health service itself still hears every change.
    expect(health.told).toEqual(['flashsale.order.v1.OrderService=NOT_SERVING', "''=NOT_SERVING"]);
  });

  it('when the overall status comes back, then readiness follows it', () => {
    const state = new ServingState();
    const health = fakeHealth();
    state.follow(health);
    health.setStatus('', 'NOT_SERVING');
    health.setStatus('', 'SERVING');
    expect(codes(state)).toEqual([200, 200]);
  });

  it('when another path is asked, then the probes do not answer it', () => {
    expect(new ServingState().probe('/metrics')).toBeUndefined();
  });
});
