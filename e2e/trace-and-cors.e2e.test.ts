/**
 * What travels with a request: the caller's trace context and request id go through the gateway into the gRPC
 * call (the order service, a process of its own with OpenTelemetry loaded, logs the same trace id) and come back in
 * the response; browsers get CORS headers only for the configured origins.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { serviceEnv, startServiceProcess, waitFor, type ServiceProcess } from '@flash-sale/testing';
import { loadGatewayConfig } from '../gateway/src/config';
import { startGateway } from '../gateway/src/main';
import { tokenFor } from './http';
import { gatewayEnv, startMesh, type Mesh } from './mesh';

const REGISTER = 'packages/observability/src/register.ts';
let mesh: Mesh;

beforeAll(async () => {
  mesh = await startMesh();
});

afterAll(async () => {
  await mesh?.stop();
});

describe('request context', () => {
  let order: ServiceProcess | undefined;
  let gateway: ServiceProcess | undefined;

  afterAll(async () => {
    await gateway?.kill('SIGTERM');
    await order?.kill('SIGTERM');
  });

  it('when a request carries a traceparent and a request id, then the upstream service logs that trace and the response returns both', async () => {
    order = await startServiceProcess(
      'order-traced',
      'services/order/src/main.ts',
      serviceEnv('orders', { INVENTORY_ADDR: mesh.addresses.INVENTORY_ADDR }),
      { preload: [REGISTER] },
    );
    gateway = await startServiceProcess(
      'gateway-traced',
      'gateway/src/main.ts',
      gatewayEnv({ ...mesh.addresses, ORDER_ADDR: `127.0.0.1:${order.port}` }),
      { listening: 'gateway listening', preload: [REGISTER] },
    );
    const traceId = randomBytes(16).toString('hex');
    const requestId = `trace-test-${traceId.slice(0, 8)}`;
    const reply = await fetch(`http://127.0.0.1:${gateway.port}/v1/orders/42`, {
      headers: {
        authorization: `Bearer ${await tokenFor('traced-buyer')}`,
        traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01`,
        'x-request-id': requestId,
      },
    });

    expect(reply.status).toBe(404);
    expect(reply.headers.get('x-request-id')).toBe(requestId);
    expect(reply.headers.get('traceparent')).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
    // The order service refused the call (no such order) and logged it inside the caller's trace.
    const logged = await waitFor(
      async () =>
        readFileSync(order!.logPath, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line) as Record<string, unknown>)
          .find((line) => line.msg === 'grpc call rejected' && line.trace_id === traceId),
      { what: 'the order service log line of the traced call', timeoutMs: 10_000 },
    );
    expect(logged).toMatchObject({ method: expect.stringContaining('GetOrder'), trace_id: traceId });
  });
});

describe('CORS', () => {
  it('when a browser on an allowed origin asks, then it is allowed; any other origin gets no CORS headers', async () => {
    const gateway = await startGateway(
      loadGatewayConfig(gatewayEnv(mesh.addresses, { CORS_ORIGINS: 'https://shop.example' })),
    );
    try {
      const preflight = (origin: string) =>
        fetch(`http://127.0.0.1:${gateway.port}/v1/promotions/1/purchase`, {
          method: 'OPTIONS',
          headers: {
            origin,
            'access-control-request-method': 'POST',
            'access-control-request-headers': 'authorization,content-type,idempotency-key',
          },
        });
      const allowed = await preflight('https://shop.example');
      expect(allowed.status).toBe(204);
      expect(allowed.headers.get('access-control-allow-origin')).toBe('https://shop.example');
      expect(allowed.headers.get('access-control-allow-headers')).toContain('idempotency-key');

      const other = await preflight('https://evil.example');
      expect(other.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await gateway.stop();
    }
  });
});
