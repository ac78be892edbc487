import type { RequestHandler, Response } from 'express';
import { ACCEPTED, REPLAYED, type SaleWindows } from './sale-windows';

/** The problem code a response was answered with (set by `sendProblem`), if any. */
export const problemCodeOf = (res: Response): string | undefined => res.locals.problemCode as string | undefined;

/**
 * Records each answer of the purchase route in the sale's window: its outcome and how long it took, from the
 * route's first middleware to the last byte written. Only an acceptance or a refusal by the sale's state (409)
 * starts tracking a promotion: those prove it exists.
 */
export function purchaseObserver(windows: SaleWindows): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    res.once('finish', () => {
      const promotionId = req.params.promotionId;
      if (typeof promotionId !== 'string') return;
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const replayed = res.getHeader('idempotent-replayed') === 'true';
      const code = problemCodeOf(res);
      const outcome = code ?? (res.statusCode < 300 ? (replayed ? REPLAYED : ACCEPTED) : `HTTP_${res.statusCode}`);
      windows.record(promotionId, outcome, ms, res.statusCode === 202 || res.statusCode === 409);
    });
    next();
  };
}
