/**
 * What a scrape reads from a broker or a database, shared: calls within `maxAgeMs` of the last answer get that
 * answer, calls while a read is under way wait for it, so scrapes (and the several metrics one scrape asks) never
 * pile reads up. A read that takes longer than `timeoutMs` fails the scrapes waiting for it, but is not started
 * again until it ends.
 */
export function scrapeCache<T>(read: () => Promise<T>, options: { maxAgeMs: number; timeoutMs: number }) {
  let last: { at: number; value: T } | undefined;
  let running: Promise<T> | undefined;
  return (): Promise<T> => {
    if (last && Date.now() - last.at < options.maxAgeMs) return Promise.resolve(last.value);
    running ??= read().then(
      (value) => {
        last = { at: Date.now(), value };
        running = undefined;
        return value;
      },
      (error: unknown) => {
        running = undefined;
        throw error;
      },
    );
    return withTimeout(running, options.timeoutMs);
  };
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}
