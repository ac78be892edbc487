/**
 * The gateway protects the mesh and itself: rate limits shared by every replica (through Redis), load shedding
 * when too much is in flight, a circuit breaker that answers 503 at once while an upstream is down and closes
 * again when it is back, and a shutdown that answers every request its clients already sent.
 */
import { Agent, get } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { Redis } from 'ioredis';
import { infra, serviceEnv, startServiceProcess, waitFor, type ServiceProcess } from '@flash-sale/testing';
import { loadGatewayConfig } from '../gateway/src/config';
import { startGateway, type RunningGateway } from '../gateway/src/main';
import { loadOrderConfig } from '../services/order/src/config';
import { startOrderService } from '../services/order/src/service';
import { client, newKey, openSale, tokenFor } from './http';
import { gatewayEnv, startMesh, type Mesh } from './mesh';

type Json = Record<string, unknown>;
let mesh: Mesh;

beforeAll(async () => {
  mesh = await startMesh({ gateway: { RATE_LIMIT_USER_PER_SECOND: '5' } });
});

afterAll(async () => {
  await mesh?.stop();
});

const problemOf = (reply: { status: number; body: Json; headers: Headers }) => ({
  status: reply.status,
  code: reply.body.code,
  retryAfter: reply.headers.get('retry-after'),
});

describe('gateway protection', () => {
  it('when one user calls two gateway processes at once, then they share one rate limit through Redis and refuse the rest with 429 and Retry-After', async () => {
    const second: ServiceProcess = await startServiceProcess(
      'gateway',
      'gateway/src/main.ts',
      gatewayEnv(mesh.addresses, { RATE_LIMIT_USER_PER_SECOND: '5' }),
      { listening: 'gateway listening' },
    );
    try {
      const token = await tokenFor(`limited-${Date.now()}`);
      const gateways = [client(mesh.url, token), client(`http://127.0.0.1:${second.port}`, token)];
      // Twenty calls well inside one second, alternating between the two processes.
      const replies = await Promise.all(
        Array.from({ length: 20 }, (_, i) => gateways[i % 2]!.get<Json>('/v1/orders?pageSize=1')),
      );
      const accepted = replies.filter((reply) => reply.status === 200);
      const limited = replies.filter((reply) => reply.status === 429);
      expect(accepted).toHaveLength(5);
      expect(limited).toHaveLength(15);
      expect(problemOf(limited[0]!)).toEqual({ status: 429, code: 'RATE_LIMITED', retryAfter: '1' });
      // Both processes refused some: the count is shared, not per process.
      expect(new Set(replies.map((reply, i) => (reply.status === 429 ? i % 2 : -1)))).toEqual(new Set([-1, 0, 1]));
    } finally {
      await second.kill('SIGTERM');
    }
  });

  it('when a buyer sends more purchases than the limit at once, then the rest get 429 and give their Idempotency-Keys back, so the same key buys once the limit allows', async () => {
    const admin = client(mesh.url, await tokenFor('limited-admin', true));
    const sale = await admin.post<Json>(
      '/v1/promotions',
      openSale({ itemId: 'sku-limited', stock: 20, perUserLimit: 10 }),
    );
    const user = `limited-buyer-${Date.now()}`;
    const buyer = client(mesh.url, await tokenFor(user));
    const keys = Array.from({ length: 8 }, () => newKey());
    const purchase = (key: string) =>
      buyer.post<Json>(
        `/v1/promotions/${sale.body.id as string}/purchase`,
        { quantity: 1 },
        { 'idempotency-key': key },
      );
    const replies = await Promise.all(keys.map(purchase));
    expect(replies.map((reply) => reply.status).sort()).toEqual([202, 202, 202, 202, 202, 429, 429, 429]);
    const refused = keys.filter((_, i) => replies[i]!.status === 429);
    expect(problemOf(replies.find((reply) => reply.status === 429)!)).toEqual({
      status: 429,
      code: 'RATE_LIMITED',
      retryAfter: '1',
    });

    const redis = new Redis(infra.redisUrl);
    try {
      const held = (key: string) => redis.exists(`flashsale:gateway:idempotency:${user}:purchase:${key}`);
      for (const key of refused) expect(await held(key)).toBe(0);
      for (const key of keys.filter((key) => !refused.includes(key))) expect(await held(key)).toBe(1);
      // The buyer's one-second window is a key with that lifetime: once it is gone, the limit allows again.
      await waitFor(async () => (await redis.exists(`flashsale:gateway:rate:user:${user}`)) === 0, {
        what: "the rate limit's window to end",
        timeoutMs: 5_000,
      });
    } finally {
      redis.disconnect();
    }
    const again = await purchase(refused[0]!);
    expect(again.status).toBe(202);
    expect(again.headers.get('idempotent-replayed')).toBeNull();
  });

  describe('with an upstream that accepts connections but never answers', () => {
    let stall: Server;
    const sockets = new Set<Socket>();
    let gateway: RunningGateway;

    beforeAll(async () => {
      stall = createServer((socket) => {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
      });
      await new Promise<void>((resolve) => stall.listen(0, '127.0.0.1', resolve));
      const { port } = stall.address() as { port: number };
      gateway = await startGateway(
        loadGatewayConfig(
          gatewayEnv(
            { ...mesh.addresses, ORDER_ADDR: `127.0.0.1:${port}` },
            { MAX_IN_FLIGHT: '4', UPSTREAM_TIMEOUT_MS: '1500', CIRCUIT_MIN_CALLS: '1000' },
          ),
        ),
      );
    });

    afterAll(async () => {
      await gateway?.stop();
      for (const socket of sockets) socket.destroy();
      stall?.close();
    });

    it('when more requests are in flight than the bound, then the rest are shed at once with 503 OVERLOADED, and the gateway serves again afterwards', async () => {
      const buyer = client(`http://127.0.0.1:${gateway.port}`, await tokenFor('shed-buyer'));
      const started = Date.now();
      const stuck = Array.from({ length: 4 }, () => buyer.get<Json>('/v1/orders'));
      // The gateway counts them in flight (its metrics are never shed).
      await waitFor(
        async () =>
          /^gateway_in_flight_requests\{service="gateway"\} 4$/m.test(
            await fetch(`http://127.0.0.1:${gateway.port}/metrics`).then((r) => r.text()),
          ),
        { what: 'four requests in flight', timeoutMs: 1_000, intervalMs: 10 },
      );
      const shed = await Promise.all(Array.from({ length: 6 }, () => buyer.get<Json>('/v1/orders')));
      expect(Date.now() - started).toBeLessThan(1_400); // answered before the stuck calls' deadline
      for (const reply of shed) expect(problemOf(reply)).toEqual({ status: 503, code: 'OVERLOADED', retryAfter: '1' });

      const timedOut = await Promise.all(stuck);
      for (const reply of timedOut) expect(reply.status).toBe(504);
      // Recovered: a route whose upstream answers works again.
      expect((await buyer.get<Json>('/v1/promotions?pageSize=1')).status).toBe(200);
    });
  });

  it('when the gateway stops while clients keep their kept-alive connections busy, then every request sent on them is answered and each connection is closed after an answer, not cut at the deadline', async () => {
    const gateway = await startGateway(loadGatewayConfig(gatewayEnv(mesh.addresses, { SHUTDOWN_GRACE_MS: '3000' })));
    const token = await tokenFor('draining-buyer');
    const agent = new Agent({ keepAlive: true, maxSockets: 4 });
    // One outcome per request: "<status> <Connection header>", or the error's code.
    const request = () =>
      new Promise<string>((resolve) => {
        const sent = get(
          {
            host: '127.0.0.1',
            port: gateway.port,
            path: '/v1/orders',
            agent,
            headers: { authorization: `Bearer ${token}` },
          },
          (res) => {
            res.resume();
            res.on('end', () => resolve(`${res.statusCode} ${res.headers.connection}`));
          },
        );
        sent.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
      });
    // Each client sends without pause on its kept-alive connection until an answer says otherwise.
    const kept = [0, 0, 0, 0];
    const busyClient = async (_: unknown, i: number) => {
      for (;;) {
        const outcome = await request();
        if (outcome !== '200 keep-alive') return { kept: kept[i]! > 0, last: outcome };
        kept[i]! += 1;
      }
    };
    let clients: { kept: boolean; last: string }[];
    try {
      const running = Promise.all(kept.map(busyClient));
      // Every connection has been kept alive after an answer: all four are busy when the gateway stops.
      await waitFor(async () => kept.every((answers) => answers > 0), {
        what: 'an answer on every connection',
        intervalMs: 10,
      });
      await gateway.stop();
      clients = await running;
    } finally {
      agent.destroy();
    }
    // Nothing was reset: every request got its answer, and the last one closed its connection.
    expect(clients).toEqual(Array.from({ length: 4 }, () => ({ kept: true, last: '200 close' })));
  });

  it('when an upstream goes down, then callers get a fast 503 problem, the circuit opens, and it closes again once the upstream is back', async () => {
    const env = serviceEnv('orders', { INVENTORY_ADDR: mesh.addresses.INVENTORY_ADDR });
    let order = await startOrderService(loadOrderConfig(env));
    const port = order.port;
    const gateway = await startGateway(
      loadGatewayConfig(
        gatewayEnv(
          { ...mesh.addresses, ORDER_ADDR: `127.0.0.1:${port}` },
          { CIRCUIT_MIN_CALLS: '4', CIRCUIT_RESET_MS: '1500' },
        ),
      ),
    );
    const url = `http://127.0.0.1:${gateway.port}`;
    const buyer = client(url, await tokenFor('circuit-buyer'));
    const metric = async () =>
      /gateway_upstream_circuit_state\{upstream="order",service="gateway"\} (\d)/.exec(
        await fetch(`${url}/metrics`).then((r) => r.text()),
      )?.[1];
    try {
      expect((await buyer.get('/v1/orders')).status).toBe(200);
      await order.stop();

      const failing = [];
      for (let i = 0; i < 6; i += 1) {
        const started = Date.now();
        const reply = await buyer.get<Json>('/v1/orders');
        failing.push({ ...problemOf(reply), ms: Date.now() - started });
      }
      for (const reply of failing) {
        expect(reply).toMatchObject({ status: 503, code: 'UPSTREAM_UNAVAILABLE' });
        expect(reply.ms).toBeLessThan(1_000);
      }
      // Once open, the circuit answers without trying, and says when to come back.
      expect(failing.at(-1)!.retryAfter).toBe('2');
      expect(await metric()).toBe('2');
      // Before it opened, each listOrders (a call that may be repeated) was tried once more after UNAVAILABLE,
      // within the retry budget; once open, nothing more was tried.
      const retries = Number(
        /gateway_upstream_retries_total\{upstream="order",service="gateway"\} (\d+)/.exec(
          await fetch(`${url}/metrics`).then((r) => r.text()),
        )?.[1] ?? 0,
      );
      expect(retries).toBeGreaterThanOrEqual(1);
      expect(retries).toBeLessThan(failing.length);

      order = await startOrderService(loadOrderConfig({ ...env, GRPC_PORT: String(port) }));
      const recovered = await waitFor(
        async () => {
          const reply = await buyer.get<Json>('/v1/orders');
          return reply.status === 200 && reply;
        },
        { what: 'the circuit to close', timeoutMs: 15_000, intervalMs: 250 },
      );
      expect(recovered.body).toHaveProperty('orders');
      expect(await metric()).toBe('0');
    } finally {
      await gateway.stop();
      await order.stop();
    }
  });
});
