import { clampKafkajsTimeouts, scheduleCheckPendingRequests, type RequestQueueState } from './kafkajs-timeouts';

function queue(fields: Partial<RequestQueueState>): RequestQueueState {
  return { throttledUntil: -1, pending: [], throttleCheckTimeoutId: null, checkPendingRequests: jest.fn(), ...fields };
}

describe('kafkajs RequestQueue timeouts', () => {
  let delays: number[];
  beforeEach(() => {
    delays = [];
    jest.spyOn(global, 'setTimeout').mockImplementation(((_: () => void, ms: number) => {
      delays.push(ms);
      return 1 as unknown as NodeJS.Timeout; // a timer id, truthy as a real one is
    }) as typeof setTimeout);
  });
  afterEach(() => jest.restoreAllMocks());

  it('when kafkajs is 2.2.4, then its RequestQueue gets the clamped method', () => {
    expect(clampKafkajsTimeouts()).toBe(true);
    const RequestQueue = require('kafkajs/src/network/requestQueue') as { prototype: Record<string, unknown> };
    expect(RequestQueue.prototype.scheduleCheckPendingRequests).toBe(scheduleCheckPendingRequests);
  });

  it('when never throttled and nothing is pending, then the check is 1 ms ahead, never a negative delay', () => {
    scheduleCheckPendingRequests.call(queue({}));
    expect(delays).toEqual([1]);
  });

  it('when never throttled and requests are pending, then the check is 10 ms ahead, as in kafkajs', () => {
    scheduleCheckPendingRequests.call(queue({ pending: [{}] }));
    expect(delays).toEqual([10]);
  });

  it('when throttled, then the check is when the throttle ends; and none is added while one is scheduled', () => {
    const state = queue({ throttledUntil: Date.now() + 500, pending: [{}] });
    scheduleCheckPendingRequests.call(state);
    scheduleCheckPendingRequests.call(state);
    expect(delays).toHaveLength(1);
    expect(delays[0]).toBeGreaterThan(400);
    expect(delays[0]).toBeLessThanOrEqual(500);
  });
});
