/**
 * kafkajs 2.2.4, its last release, schedules its check of pending requests `throttledUntil - Date.now()` ms ahead,
 * and `throttledUntil` is -1 until a broker throttles the client: a delay of about minus 1.8 trillion ms. Node has
 * always run a negative delay as 1 ms; Node 24 also prints a `TimeoutNegativeWarning` to stderr, a line that is not
 * JSON in a service's JSON log (tulios/kafkajs#1751; the fix, #1755, was never released). This puts the same method
 * back with the delay clamped to 1 ms itself, so the behaviour is exactly what it was and Node has nothing to say.
 * Only for 2.2.4, whose method this copies: another version is left alone (and the unit test says so).
 */
const { version } = require('kafkajs/package.json') as { version: string };

/** The fields of kafkajs's RequestQueue that the method reads and writes. */
export interface RequestQueueState {
  throttledUntil: number;
  pending: unknown[];
  throttleCheckTimeoutId: ReturnType<typeof setTimeout> | null;
  checkPendingRequests(): void;
}

/** kafkajs's CHECK_PENDING_REQUESTS_INTERVAL. */
const CHECK_PENDING_REQUESTS_INTERVAL_MS = 10;

export function scheduleCheckPendingRequests(this: RequestQueueState): void {
  let scheduleAt = this.throttledUntil - Date.now();
  if (!this.throttleCheckTimeoutId) {
    if (this.pending.length > 0) scheduleAt = scheduleAt > 0 ? scheduleAt : CHECK_PENDING_REQUESTS_INTERVAL_MS;
    this.throttleCheckTimeoutId = setTimeout(
      () => {
        this.throttleCheckTimeoutId = null;
        this.checkPendingRequests();
      },
      Math.max(scheduleAt, 1),
    );
  }
}

/** Installs the clamped method on kafkajs's RequestQueue; true when it did (kafkajs 2.2.4). Idempotent. */
export function clampKafkajsTimeouts(): boolean {
  if (version !== '2.2.4') return false;
  const RequestQueue = require('kafkajs/src/network/requestQueue') as { prototype: Record<string, unknown> };
  RequestQueue.prototype.scheduleCheckPendingRequests = scheduleCheckPendingRequests;
  return true;
}
