import type { RequestHandler } from 'express';
import { httpProblem } from './problem';

/**
 * Global load shedding: beyond `maxInFlight` requests being served at once, new ones are refused at once with 503
 * OVERLOADED and `Retry-After: 1`, instead of queueing without end while every caller's latency grows. `0` turns
 * it off. Health, readiness and metrics are never shed (mount them before this).
 */
export function loadShedding(maxInFlight: number, shed: () => void, inFlight: (count: number) => void): RequestHandler {
  let current = 0;
  return (_req, res, next) => {
    if (maxInFlight > 0 && current >= maxInFlight) {
      shed();
      throw httpProblem(503, 'OVERLOADED', 'the gateway is overloaded; try again shortly', {}, 1);
    }
    current += 1;
    inFlight(current);
    res.once('close', () => {
      current -= 1;
      inFlight(current);
    });
    next();
  };
}
