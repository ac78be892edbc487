/** An RFC 9457 problem: what every error response of the gateway carries, as `application/problem+json`. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  /** Stable, machine-readable: clients branch on this, never on `detail`. */
  code: string;
  instance?: string;
  requestId?: string;
  errors?: { field: string; message: string }[];
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  402: 'Payment Required',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

export function problem(status: number, code: string, detail: string, extra: Partial<Problem> = {}): Problem {
  return {
    type: `/problems/${code.toLowerCase().replace(/_/g, '-')}`,
    title: TITLES[status] ?? 'Error',
    status,
    detail,
    code,
    ...extra,
  };
}

/** An error a route throws to answer with a problem directly. */
export class HttpProblem extends Error {
  constructor(
    readonly problem: Problem,
    /** Sent as `Retry-After` (429 and 503). */
    readonly retryAfterSeconds?: number,
  ) {
    super(problem.detail);
    this.name = 'HttpProblem';
  }
}

export const httpProblem = (
  status: number,
  code: string,
  detail: string,
  extra: Partial<Problem> = {},
  retryAfterSeconds?: number,
) => new HttpProblem(problem(status, code, detail, extra), retryAfterSeconds);
