import type { ErrorRequestHandler, RequestHandler } from 'express';
import { isServiceError, readFailure } from '@flash-sale/grpc-kit';
import type { Logger } from '@flash-sale/logging';
import { problemFromFailure } from './grpc-status-map';
import { HttpProblem, problem, type Problem } from './problem';
import { stateOf } from '../routes/context';

/** Body-parser and other http-errors carry a `status` and a `type`. */
interface HttpError {
  status?: number;
  type?: string;
  expose?: boolean;
}

export function problemOf(error: unknown): Problem {
  if (error instanceof HttpProblem) return error.problem;
  if (isServiceError(error)) return problemFromFailure(readFailure(error));
  const http = error as HttpError;
  if (http?.type === 'entity.parse.failed') return problem(400, 'MALFORMED_JSON', 'the request body is not valid JSON');
  if (http?.type === 'entity.too.large') return problem(413, 'BODY_TOO_LARGE', 'the request body is too large');
  if (http?.type === 'charset.unsupported' || http?.type === 'encoding.unsupported') {
    return problem(415, 'UNSUPPORTED_ENCODING', 'the request body encoding is not supported');
  }
  if (typeof http?.status === 'number' && http.status >= 400 && http.status < 500 && http.expose) {
    return problem(http.status, 'BAD_REQUEST', 'the request could not be read');
  }
  return problem(500, 'INTERNAL', 'something went wrong on our side');
}

export function sendProblem(res: Parameters<RequestHandler>[1], body: Problem): void {
  // Kept for whoever watches the response finish (the live console's purchase outcomes).
  res.locals.problemCode = body.code;
  res.status(body.status).type('application/problem+json').json(body);
}

/** The one error handler: every failure leaves as problem+json; stacks and internals only reach the log. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error, req, res, _next) => {
    const body = { ...problemOf(error), instance: req.originalUrl.split('?')[0], requestId: stateOf(req).requestId };
    if (body.status >= 500)
      logger.error({ err: error, requestId: body.requestId, path: body.instance }, 'request failed');
    if (res.headersSent) return;
    if (error instanceof HttpProblem && error.retryAfterSeconds !== undefined) {
      res.set('Retry-After', String(error.retryAfterSeconds));
    }
    sendProblem(res, body);
  };
}

export const notFoundHandler: RequestHandler = (req, res) =>
  sendProblem(res, {
    ...problem(404, 'ROUTE_NOT_FOUND', `no route for ${req.method} ${req.path}`),
    requestId: stateOf(req).requestId,
  });
