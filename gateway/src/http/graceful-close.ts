import type { Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

/**
 * Closes an HTTP server without cutting a request its clients already sent. Call it once responses carry
 * `Connection: close` (see `draining` in app.ts):
 * 1. For up to `settleMs` (a second at most) the server keeps serving, so each busy kept-alive connection gets one
 *    more answer and is closed after it. Node's own `close()` would not do this: it closes idle connections at once
 *    and lets busy ones go on until the deadline cuts them in the middle of a request.
 * 2. Then it stops listening and closes the connections left, all idle since the first step began; whatever is
 *    still running after `graceMs` in all is cut.
 */
export async function closeGracefully(server: Server, graceMs: number): Promise<void> {
  const started = Date.now();
  const settleMs = Math.min(1_000, graceMs / 2);
  const connections = promisify(server.getConnections.bind(server));
  while (Date.now() - started < settleMs && (await connections()) > 0) await sleep(20);
  await new Promise<void>((resolve) => {
    const force = setTimeout(
      () => {
        server.closeAllConnections();
        resolve();
      },
      Math.max(0, graceMs - (Date.now() - started)),
    );
    server.close(() => {
      clearTimeout(force);
      resolve();
    });
    server.closeIdleConnections();
  });
}
