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
});
