/**
 * `npm run chaos`: faults injected into the real mesh while a sale is under load, one scenario at a time, each
 * ending with PASS or FAIL and its numbers. After every fault the same things must hold:
 *   - no oversell: the orders of the sale never hold more than its stock;
 *   - no lost accepted order: every purchase answered 202 becomes an order row;
 *   - no double payment: at most one captured payment per order, and a captured payment means a PAID order;
 *   - a buyer told PAID has a PAID order, no order is left PAYING, and no payment is refunded (a payment claims
 *     its order before it charges, so nothing here explains a refund);
 *   - Redis agrees with PostgreSQL once the mesh has recovered (available = stock - units held by orders);
 *   - the mesh serves again without a manual step: a new buyer's purchase is accepted.
 * Buyers behave like real clients: a purchase or payment without an answer (5xx, reset, timeout) is sent again
 * with the same Idempotency-Key. `npm run chaos -- <name filter>` runs only the scenarios whose name matches.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Pool as PgPool } from 'pg';
import { freshDatabase } from './lib/database';
import { addr, Mesh, SERVICES, type ServiceName } from './lib/mesh';
import { root } from './lib/processes';
import { ProviderProcess } from './lib/provider';
import { sleep, until } from './lib/wait';
import { mint } from '../scripts/token';

// Below Linux's ephemeral range (see bench/flash-sale.ts).
const PORTS = { gateway: 18180, promotion: 31151, inventory: 31152, order: 31153, payment: 31154 };
const PROVIDER_PORT = 31155;
const PROXY = { api: 18474, inventory: 31252 };
const STOCK = 50_000;
/** Recreated by every run, beside `npm start`'s flashsale; the run's topics are behind `chaos.`. */
const DATABASE = 'flashsale_chaos';
const BUYERS = 8;
const SESSION_TIMEOUT_MS = 6_000;
const run = promisify(execFile);

const infra = (...args: string[]) => run('bash', [join(root, 'scripts', 'infra.sh'), ...args], { timeout: 180_000 });

interface Context {
  mesh: Mesh;
  toxics: Toxics;
  provider: ProviderProcess;
}

interface Scenario {
  name: string;
  /** The sale's payment window (default an hour, so that no deadline interferes). */
  paymentTimeoutSeconds?: number;
  /** Injects the fault and returns once it is over (the mesh may still be recovering). */
  inject(context: Context): Promise<void>;
}

const killAndRestart = (service: ServiceName): Scenario => ({
  name: `kill -9 ${service}, restart it`,
  async inject({ mesh }) {
    await mesh.signal(service, 'SIGKILL');
    await sleep(1_000);
    mesh.start(service);
  },
});

const SCENARIOS: Scenario[] = [
  ...SERVICES.map(killAndRestart),
  {
    name: 'kill -9 payment mid-charge (the provider answering in 1.5 s, orders due in 5 s), restart it',
    paymentTimeoutSeconds: 5,
    async inject({ mesh, provider }) {
      await provider.configure({ latencyMs: 1_500 });
      const before = await provider.status();
      // Killed once several charges the buyers started are running at the provider.
      await until('charges running at the provider', async () => (await provider.status()).processing >= 5, 20_000);
      await mesh.signal('payment', 'SIGKILL');
      await provider.configure({ latencyMs: 20 });
      const after = await provider.status();
      console.log(
        `[chaos] killed with ${after.processing} charges running (${after.charged - before.charged} answered)`,
      );
      await sleep(1_000);
      mesh.start('payment');
    },
  },
  {
    name: 'Redis restarted empty',
    async inject() {
      await infra('down', 'redis');
      await infra('up');
    },
  },
  {
    name: 'Kafka stopped for 20 s',
    async inject() {
      await infra('down', 'kafka');
      await sleep(20_000);
      await infra('up');
    },
  },
  {
    name: 'PostgreSQL stopped for 20 s',
    async inject() {
      await infra('down', 'postgres');
      await sleep(20_000);
      await infra('up');
    },
  },
  {
    name: `order service frozen (SIGSTOP) for 10 s, past its ${SESSION_TIMEOUT_MS / 1000} s session timeout`,
    async inject({ mesh }) {
      await mesh.signal('order', 'SIGSTOP');
      await sleep(10_000);
      await mesh.signal('order', 'SIGCONT');
    },
  },
  {
    name: 'gateway -> inventory link: 300 ms delay for 5 s, then connection resets for 3 s',
    async inject({ toxics }) {
      await toxics.add('delay', 'latency', { latency: 300, jitter: 100 });
      await sleep(5_000);
      await toxics.remove('delay');
      await toxics.add('resets', 'reset_peer', { timeout: 0 });
      await sleep(3_000);
      await toxics.remove('resets');
    },
  },
];

/** Toxiproxy (a TCP fault proxy) in front of the inventory service, on the gateway's side. */
class Toxics {
  private constructor(private readonly server: ChildProcess) {}

  static async start(): Promise<Toxics> {
    const { stdout } = await run('bash', [join(root, 'scripts', 'ensure-toxiproxy.sh')], { timeout: 600_000 });
    const server = spawn(stdout.trim(), ['-host', '127.0.0.1', '-port', String(PROXY.api)], { stdio: 'ignore' });
    const toxics = new Toxics(server);
    await until('toxiproxy', async () => (await fetch(`${toxics.api}/version`)).ok, 20_000);
    const created = await fetch(`${toxics.api}/proxies`, {
      method: 'POST',
      body: JSON.stringify({ name: 'inventory', listen: addr(PROXY.inventory), upstream: addr(PORTS.inventory) }),
    });
    if (!created.ok) throw new Error(`toxiproxy: ${created.status} ${await created.text()}`);
    return toxics;
  }

  private get api() {
    return `http://127.0.0.1:${PROXY.api}`;
  }

  async add(name: string, type: string, attributes: Record<string, number>) {
    const reply = await fetch(`${this.api}/proxies/inventory/toxics`, {
      method: 'POST',
      body: JSON.stringify({ name, type, stream: 'downstream', toxicity: 1, attributes }),
    });
    if (!reply.ok) throw new Error(`toxiproxy: ${reply.status} ${await reply.text()}`);
  }

  async remove(name: string) {
    await fetch(`${this.api}/proxies/inventory/toxics/${name}`, { method: 'DELETE' });
  }

  stop() {
    this.server.kill('SIGTERM');
  }
}

/** Buyers pressing buy (and half of them paying) against one sale, retrying unanswered calls with their key. */
class Workload {
  readonly accepted = new Set<string>();
  refused = 0;
  retries = 0;
  /** Purchases that never got an answer before the workload gave up on them. */
  unanswered = 0;
  paid = 0;
  /** Orders whose buyer was answered 200 PAID, and 202 PAYING. */
  readonly toldPaid = new Set<string>();
  readonly toldPaying = new Set<string>();
  private running = true;
  private readonly loops: Promise<void>[] = [];
  private readonly payments: Promise<void>[] = [];
  private next = 0;

  constructor(
    private readonly gateway: string,
    private readonly promotionId: string,
    private readonly token: (user: string) => Promise<string>,
    private readonly label: string,
  ) {}

  start() {
    for (let i = 0; i < BUYERS; i += 1) this.loops.push(this.buyer());
  }

  async stop() {
    this.running = false;
    await Promise.all(this.loops);
    await Promise.all(this.payments);
  }

  private async buyer() {
    while (this.running) {
      const user = `${this.label}-${this.next++}`;
      const authorization = `Bearer ${await this.token(user)}`;
      const orderId = await this.send(`/v1/promotions/${this.promotionId}/purchase`, authorization, {
        quantity: 1,
      });
      if (orderId === 'refused') this.refused += 1;
      else if (orderId === undefined) this.unanswered += 1;
      else {
        this.accepted.add(orderId);
        if (Math.random() < 0.5) this.payments.push(this.pay(orderId, authorization));
      }
    }
  }

  private async pay(orderId: string, authorization: string) {
    await sleep(300 + Math.random() * 700);
    const heard = (status: number, body: { status?: string }) => {
      if (status === 200 && body.status === 'PAID') this.toldPaid.add(orderId);
      if (status === 202 && body.status === 'PAYING') this.toldPaying.add(orderId);
    };
    if ((await this.send(`/v1/orders/${orderId}/pay`, authorization, undefined, heard)) === orderId) this.paid += 1;
  }

  /** POSTs with one Idempotency-Key until it gets a definite answer: the order id, 'refused', or undefined. */
  private async send(
    path: string,
    authorization: string,
    body?: object,
    heard: (status: number, body: { status?: string }) => void = () => undefined,
  ): Promise<string | undefined> {
    const key = randomUUID();
    const giveUpAt = Date.now() + 90_000;
    for (let attempt = 0; Date.now() < giveUpAt; attempt += 1) {
      if (attempt > 0) {
        this.retries += 1;
        await sleep(250);
      }
      try {
        const reply = await fetch(`${this.gateway}${path}`, {
          method: 'POST',
          headers: { authorization, 'idempotency-key': key, 'content-type': 'application/json' },
          ...(body ? { body: JSON.stringify(body) } : {}),
          signal: AbortSignal.timeout(5_000),
        });
        const json = (await reply.json().catch(() => ({}))) as { orderId?: string; status?: string };
        heard(reply.status, json);
        if (reply.status === 202 || reply.status === 200) return json.orderId;
        if (reply.status < 500 && reply.status !== 429) return 'refused';
      } catch {
        // No answer (reset, refused, timed out): the same key again.
      }
    }
    return undefined;
  }
}

interface Verdict {
  pass: boolean;
  numbers: Record<string, number | string>;
  problems: string[];
}

async function verify(
  pg: PgPool,
  gateway: string,
  promotionId: string,
  workload: Workload,
  newBuyer: () => Promise<number>,
): Promise<Verdict> {
  const problems: string[] = [];
  const accepted = [...workload.accepted];
  const missing = async () =>
    (
      await pg.query<{ id: string }>(
        'SELECT x.id FROM unnest($1::bigint[]) AS x(id) WHERE NOT EXISTS (SELECT 1 FROM orders.orders o WHERE o.id = x.id)',
        [accepted],
      )
    ).rows.length;
  await until('every accepted order in PostgreSQL', async () => (await missing()) === 0, 120_000).catch(
    () => undefined,
  );
  const lost = await missing();
  if (lost > 0) problems.push(`${lost} accepted purchases have no order`);

  const held = async () =>
    (
      await pg.query<{ units: number; orders: number }>(
        `SELECT coalesce(sum(quantity), 0)::int AS units, count(*)::int AS orders FROM orders.orders
          WHERE promotion_id = $1 AND status IN ('AWAITING_PAYMENT', 'PAYING', 'PAID')`,
        [promotionId],
      )
    ).rows[0]!;
  const { units, orders } = await held();
  if (units > STOCK || accepted.length > STOCK) problems.push(`oversold: ${units} units held, stock ${STOCK}`);

  // Payments settle (late events, refunds) before they are judged.
  const doubtful = async () =>
    (
      await pg.query<{ problem: string }>(
        `SELECT CASE WHEN count(*) FILTER (WHERE p.status = 'SUCCEEDED') > 1 THEN 'charged twice'
                     WHEN bool_or(p.status = 'SUCCEEDED') AND o.status <> 'PAID' THEN 'captured but ' || o.status
                     WHEN o.status = 'PAID' AND NOT bool_or(p.status = 'SUCCEEDED') THEN 'paid without a payment'
                END AS problem
           FROM orders.orders o JOIN payment.payments p ON p.order_id = o.id
          WHERE o.promotion_id = $1 GROUP BY o.id, o.status`,
        [promotionId],
      )
    ).rows.filter((row) => row.problem !== null);
  await until('payments to settle', async () => (await doubtful()).length === 0, 60_000).catch(() => undefined);
  for (const { problem } of await doubtful()) problems.push(`payment: ${problem}`);
  const told = [...workload.toldPaid, ...workload.toldPaying];
  const promises = async () =>
    (
      await pg.query<{ paying: number; broken: number; refunded: number }>(
        `SELECT (SELECT count(*)::int FROM orders.orders WHERE promotion_id = $1 AND status = 'PAYING') AS paying,
                (SELECT count(*)::int FROM orders.orders WHERE id = ANY($2::bigint[]) AND status <> 'PAID') AS broken,
                (SELECT count(*)::int FROM payment.payments p JOIN orders.orders o ON o.id = p.order_id
                  WHERE o.promotion_id = $1 AND p.status = 'REFUNDED') AS refunded`,
        [promotionId, told],
      )
    ).rows[0]!;
  // Charges a killed process started are recovered from the provider once their attempt is old enough.
  await until('no order PAYING', async () => (await promises()).paying === 0, 60_000).catch(() => undefined);
  const { paying, broken, refunded } = await promises();
  if (paying > 0) problems.push(`${paying} orders still PAYING`);
  if (broken > 0) problems.push(`${broken} buyers told PAID or PAYING have no PAID order`);
  if (refunded > 0) problems.push(`${refunded} payments refunded`);

  const available = async () =>
    ((await (await fetch(`${gateway}/v1/promotions/${promotionId}`)).json()) as { availableStock: number })
      .availableStock;
  const truth = async () => STOCK - (await held()).units;
  await until('Redis to agree with PostgreSQL', async () => (await available()) === (await truth()), 90_000).catch(
    () => undefined,
  );
  const [redis, postgres] = [await available(), await truth()];
  if (redis !== postgres) problems.push(`Redis says ${redis} available, PostgreSQL ${postgres}`);

  const serves = await newBuyer();
  if (serves !== 202) problems.push(`a new purchase after recovery answered ${serves}`);
  return {
    pass: problems.length === 0,
    problems,
    numbers: {
      accepted: accepted.length,
      refused: workload.refused,
      retries: workload.retries,
      unanswered: workload.unanswered,
      paid: workload.paid,
      'told PAID': workload.toldPaid.size,
      'told PAYING': workload.toldPaying.size,
      orders,
      'available (Redis)': redis,
      'available (PostgreSQL)': postgres,
    },
  };
}

async function main() {
  const filter = process.argv[2];
  const scenarios = SCENARIOS.filter((s) => !filter || s.name.includes(filter));
  const secret = randomBytes(24).toString('base64url');
  const token = (user: string, admin = false) => mint(user, { admin, key: secret, ttlSeconds: 3 * 3600 });
  const runId = Date.now().toString(36);
  const admin = await token(`chaos-admin-${runId}`, true);
  const gateway = `http://${addr(PORTS.gateway)}`;

  const toxics = await Toxics.start();
  const provider = await ProviderProcess.start(PROVIDER_PORT);
  await freshDatabase(DATABASE);
  const mesh = new Mesh({
    database: DATABASE,
    topicPrefix: 'chaos.',
    ports: PORTS,
    jwtSecret: secret,
    nodeArgs: ['--require', '@flash-sale/observability/register'],
    gatewayInventoryAddr: addr(PROXY.inventory),
    env: {
      order: { KAFKA_SESSION_TIMEOUT_MS: String(SESSION_TIMEOUT_MS) },
      inventory: { RECONCILE_INTERVAL_MS: '2000', KAFKA_SESSION_TIMEOUT_MS: String(SESSION_TIMEOUT_MS) },
      payment: {
        KAFKA_SESSION_TIMEOUT_MS: String(SESSION_TIMEOUT_MS),
        PAYMENT_PROVIDER_URL: provider.url,
        // Attempts a killed process left PENDING are settled from the provider within seconds, not a minute.
        PAYMENT_RECOVERY_AFTER_MS: '6000',
        PAYMENT_RECOVERY_INTERVAL_MS: '500',
      },
      gateway: { CIRCUIT_RESET_MS: '1000', UPSTREAM_TIMEOUT_MS: '2000', RATE_LIMIT_USER_PER_SECOND: '0' },
    },
  });
  const pg = new PgPool({
    connectionString: `postgresql://postgres@127.0.0.1:${process.env.PG_PORT ?? 5432}/${DATABASE}`,
    max: 2,
  });
  pg.on('error', () => undefined);
  const results: { name: string; verdict: Verdict; seconds: number }[] = [];
  try {
    mesh.startAll();
    await until('the mesh', async () => (await fetch(`${gateway}/readyz`)).status === 200, 120_000);
    for (const scenario of scenarios) {
      const started = Date.now();
      console.log(`\n[chaos] ${scenario.name}`);
      const created = await fetch(`${gateway}/v1/promotions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          itemId: `chaos-${runId}`,
          title: scenario.name.slice(0, 200),
          priceCents: 999,
          stock: STOCK,
          perUserLimit: 1,
          startsAt: new Date(Date.now() - 1_000).toISOString(),
          endsAt: new Date(Date.now() + 3_600_000).toISOString(),
          paymentTimeoutSeconds: scenario.paymentTimeoutSeconds ?? 3_600,
        }),
      });
      if (created.status !== 201) {
        // Nothing to inject a fault into: a failure of its own, not 150 s of purchases refused with 400.
        const problem = `the sale could not be created: ${created.status} ${await created.text()}`;
        results.push({ name: scenario.name, verdict: { pass: false, numbers: {}, problems: [problem] }, seconds: 0 });
        console.log(`[chaos] FAIL ${scenario.name}: ${problem}`);
        continue;
      }
      const promotionId = ((await created.json()) as { id: string }).id;
      const label = `chaos-${runId}-${results.length}`;
      const workload = new Workload(gateway, promotionId, (user) => token(user), label);
      workload.start();
      await sleep(3_000);
      await scenario.inject({ mesh, toxics, provider });
      await sleep(5_000);
      await workload.stop();
      const newBuyer = async () => {
        let status = 0;
        await until(
          'a new purchase',
          async () => {
            const reply = await fetch(`${gateway}/v1/promotions/${promotionId}/purchase`, {
              method: 'POST',
              headers: {
                authorization: `Bearer ${await token(`${label}-after-${randomUUID()}`)}`,
                'idempotency-key': randomUUID(),
                'content-type': 'application/json',
              },
              body: '{}',
            });
            status = reply.status;
            return status === 202 || status === 409;
          },
          60_000,
        ).catch(() => undefined);
        return status;
      };
      const verdict = await verify(pg, gateway, promotionId, workload, newBuyer);
      const seconds = Math.round((Date.now() - started) / 1000);
      results.push({ name: scenario.name, verdict, seconds });
      console.log(
        `[chaos] ${verdict.pass ? 'PASS' : 'FAIL'} ${scenario.name} (${seconds} s): ${Object.entries(verdict.numbers)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}${verdict.problems.length ? `\n        ${verdict.problems.join('\n        ')}` : ''}`,
      );
    }
  } finally {
    await mesh.stopAll();
    toxics.stop();
    await provider.stop();
    await pg.end();
    // Whatever a scenario stopped is running again for whoever comes next.
    await infra('up').catch(() => undefined);
  }
  console.log('\n[chaos] summary');
  for (const { name, verdict, seconds } of results) {
    console.log(`  ${verdict.pass ? 'PASS' : 'FAIL'}  ${name}  (${seconds} s)`);
  }
  if (results.some((result) => !result.verdict.pass) || results.length < scenarios.length) process.exitCode = 1;
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
