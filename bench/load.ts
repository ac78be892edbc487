/**
 * The load generator of `npm run bench`, a process of its own so that it never shares an event loop with what it
 * measures. It takes one run at a time over IPC and answers with every response's end time, latency and status.
 * Closed loop: `connections` callers send back to back (a crowd pressing buy). Open loop: a fixed arrival rate,
 * latency counted from the moment a request was due (so queueing in the generator is not hidden).
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Pool } from 'undici';

export interface LoadRun {
  url: string;
  path: string;
  method: 'GET' | 'POST';
  body?: string;
  /** A file with one bearer token per line; requests take them in turn. Without: no Authorization header. */
  tokensFile?: string;
  idempotencyKey?: boolean;
  connections: number;
  mode: 'closed' | 'open';
  /** Open loop: requests per second. */
  rate?: number;
  durationMs: number;
  /** Closed loop: stop `afterMs` after this many 2xx answers (the stock ran out), or at durationMs. */
  stopAfterAccepted?: { accepted: number; afterMs: number };
}

export interface LoadResult {
  startedAt: number;
  /** Per response: end (ms since start), latency (ms), HTTP status. */
  ends: number[];
  latencies: number[];
  statuses: number[];
  errors: number;
}

async function run(spec: LoadRun): Promise<LoadResult> {
  const tokens = spec.tokensFile ? readFileSync(spec.tokensFile, 'utf8').split('\n').filter(Boolean) : [];
  // A pool of its own for every run, so its connections open as the run starts: a flash sale's buyers arrive on new
  // connections, and the gateway's accepting them belongs to the sale's first second.
  const pool = new Pool(spec.url, { connections: spec.connections, pipelining: 1, keepAliveTimeout: 60_000 });
  const result: LoadResult = { startedAt: Date.now(), ends: [], latencies: [], statuses: [], errors: 0 };
  const t0 = performance.now();
  let next = 0;
  let accepted = 0;
  let stopAt = t0 + spec.durationMs;

  const one = async (due: number) => {
    const n = next++;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (tokens.length) headers.authorization = `Bearer ${tokens[n % tokens.length]}`;
    if (spec.idempotencyKey) headers['idempotency-key'] = randomUUID();
    try {
      const { statusCode, body } = await pool.request({
        path: spec.path,
        method: spec.method,
        headers,
        ...(spec.body ? { body: spec.body } : {}),
      });
      await body.dump();
      const now = performance.now();
      result.ends.push(now - t0);
      result.latencies.push(now - due);
      result.statuses.push(statusCode);
      if (statusCode < 300 && spec.stopAfterAccepted && ++accepted === spec.stopAfterAccepted.accepted) {
        stopAt = Math.min(stopAt, now + spec.stopAfterAccepted.afterMs);
      }
    } catch {
      result.errors += 1;
    }
  };

  if (spec.mode === 'closed') {
    await Promise.all(
      Array.from({ length: spec.connections }, async () => {
        while (performance.now() < stopAt) await one(performance.now());
      }),
    );
  } else {
    const inFlight = new Set<Promise<void>>();
    const interval = 5;
    let owed = 0;
    while (performance.now() < stopAt) {
      const tick = performance.now();
      owed += (spec.rate! * interval) / 1000;
      for (; owed >= 1; owed -= 1) {
        const request = one(tick).finally(() => inFlight.delete(request));
        inFlight.add(request);
      }
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, interval - (performance.now() - tick))));
    }
    await Promise.all(inFlight);
  }
  await pool.close();
  return result;
}

process.on('message', (spec: LoadRun) => {
  run(spec).then(
    (result) => process.send!({ ok: true, result }),
    (error: unknown) => process.send!({ ok: false, error: String(error) }),
  );
});
