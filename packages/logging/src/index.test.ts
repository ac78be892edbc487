import { Writable } from 'node:stream';
import { createLogger } from './index';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()));
      done();
    },
  });
  return { lines, stream };
}

describe('createLogger', () => {
  it('when a line is logged, then it is JSON with the service name and a text level', () => {
    const { lines, stream } = capture();
    createLogger({ service: 'order', destination: stream }).info({ orderId: '1' }, 'created');
    expect(lines[0]).toMatchObject({ service: 'order', level: 'info', orderId: '1', msg: 'created' });
  });

  it('when secrets are logged, then they are redacted', () => {
    const { lines, stream } = capture();
    createLogger({ service: 'gateway', destination: stream }).info(
      { req: { headers: { authorization: 'Bearer abc' } }, payment: { cardNumber: '4242' } },
      'request',
    );
    expect(JSON.stringify(lines[0])).not.toContain('abc');
    expect(JSON.stringify(lines[0])).not.toContain('4242');
  });

  it('when a configuration with credentials is logged, then the credentials are redacted', () => {
    const { lines, stream } = capture();
    const config = {
      DATABASE_URL: 'postgresql://orders:db-secret@db:5432/flashsale?schema=orders',
      DATABASE_PASSWORD: 'db-secret',
      REDIS_URL: 'redis://redis:6379',
      REDIS_PASSWORD: 'redis-secret',
      JWT_SECRET: 'jwt-secret-of-at-least-32-characters',
    };
    const logger = createLogger({ service: 'order', destination: stream });
    logger.info(config, 'config');
    logger.info({ config }, 'config');
    for (const line of lines) {
      expect(JSON.stringify(line)).not.toMatch(/db-secret|redis-secret|jwt-secret/);
    }
    expect(lines[0]).toMatchObject({ REDIS_URL: 'redis://redis:6379', DATABASE_URL: '[redacted]' });
  });
});

describe('trace correlation', () => {
  it('when a span is active, then each line carries its trace and span ids', async () => {
    const { context, trace } = await import('@opentelemetry/api');
    const { AsyncLocalStorageContextManager } = await import('@opentelemetry/context-async-hooks');
    const manager = new AsyncLocalStorageContextManager().enable();
    context.setGlobalContextManager(manager);
    try {
      const spanContext = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1 };
      const { lines, stream } = capture();
      const logger = createLogger({ service: 'order', destination: stream });
      context.with(trace.setSpanContext(context.active(), spanContext), () => logger.info('inside a span'));
      logger.info('outside');
      expect(lines[0]).toMatchObject({ trace_id: spanContext.traceId, span_id: spanContext.spanId });
      expect(lines[1]).not.toHaveProperty('trace_id');
    } finally {
      context.disable();
    }
  });
});
