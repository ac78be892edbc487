#!/usr/bin/env node
/**
 * Runs the whole mesh locally for `npm start`: the four services and the gateway as child processes (logs in
 * .infra/logs), talking mutual TLS with the certificates scripts/infra.sh keeps in .infra/pki (MTLS_MODE=off in the
 * environment runs them in plaintext), waits until each is ready, creates a demo promotion and prints the gateway URL
 * with tokens and the live sale console's URL.
 * Ctrl-C (or SIGTERM) stops every child gracefully and, with --stop-infra, the infrastructure too.
 */
const { spawn, execFileSync } = require('node:child_process');
const { createWriteStream, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } = require('node:fs');
const { dirname, join } = require('node:path');
const { nodeOptions } = require('@flash-sale/observability');
const { mint } = require('./token');

const root = join(__dirname, '..');
const logs = join(root, '.infra', 'logs');
const secret = readFileSync(join(root, '.infra', 'jwt-secret'), 'utf8').trim();
const env = process.env;
const host = '127.0.0.1';
const gatewayPort = Number(env.HTTP_PORT ?? 8080);
const doorPort = Number(env.GRPC_DOOR_PORT ?? 8443);
const shared = {
  REDIS_URL: env.REDIS_URL ?? `redis://${host}:${env.REDIS_PORT ?? 6379}`,
  KAFKA_BROKERS: env.KAFKA_BROKERS ?? `${host}:${env.KAFKA_PORT ?? 9092}`,
  LOG_LEVEL: env.LOG_LEVEL ?? 'info',
};
const pg = (role) => `postgresql://${role}:${role}@${host}:${env.PG_PORT ?? 5432}/flashsale?schema=${role}`;
const ports = { promotion: 50051, inventory: 50052, order: 50053, payment: 50054 };
// Each service's Prometheus /metrics (the gateway's is on its HTTP port); docs/observability.md lists them.
const metricsPorts = { promotion: 9461, inventory: 9462, order: 9463, payment: 9464 };
const address = (name) => `${host}:${ports[name]}`;

// The local Prometheus (scripts/infra.sh) scrapes every file in this folder.
const targetsFile = join(root, '.infra', 'prometheus', 'targets', 'mesh.json');

const processes = [
  {
    name: 'inventory',
    entry: 'services/inventory/dist/main.js',
    env: { GRPC_PORT: ports.inventory, METRICS_PORT: metricsPorts.inventory, DATABASE_URL: pg('inventory') },
  },
  {
    name: 'order',
    entry: 'services/order/dist/main.js',
    env: {
      GRPC_PORT: ports.order,
      METRICS_PORT: metricsPorts.order,
      DATABASE_URL: pg('orders'),
      INVENTORY_ADDR: address('inventory'),
    },
  },
  {
    name: 'payment',
    entry: 'services/payment/dist/main.js',
    env: {
      GRPC_PORT: ports.payment,
      METRICS_PORT: metricsPorts.payment,
      DATABASE_URL: pg('payment'),
      ORDER_ADDR: address('order'),
    },
  },
  {
    name: 'promotion',
    entry: 'services/promotion/dist/main.js',
    env: {
      GRPC_PORT: ports.promotion,
      METRICS_PORT: metricsPorts.promotion,
      DATABASE_URL: pg('promotion'),
      INVENTORY_ADDR: address('inventory'),
    },
  },
  {
    name: 'gateway',
    entry: 'gateway/dist/main.js',
    env: {
      HTTP_PORT: gatewayPort,
      GRPC_DOOR_PORT: doorPort,
      JWT_SECRET: secret,
      PROMOTION_ADDR: address('promotion'),
      INVENTORY_ADDR: address('inventory'),
      ORDER_ADDR: address('order'),
      PAYMENT_ADDR: address('payment'),
    },
  },
];

const children = [];
let stopping = false;

function start({ name, entry, env: own }) {
  const out = createWriteStream(join(logs, `${name}.log`), { flags: 'a' });
  const child = spawn(process.execPath, ['--require', '@flash-sale/observability/register', join(root, entry)], {
    cwd: root,
    env: {
      ...env,
      ...shared,
      // Names the process's spans when OTEL_TRACES_EXPORTER is set (the chart sets it per workload too).
      OTEL_SERVICE_NAME: name,
      // The heap sizes the images run with; NODE_OPTIONS in this shell adds to them (and wins).
      NODE_OPTIONS: nodeOptions(env),
      ...Object.fromEntries(Object.entries(own).map(([k, v]) => [k, String(v)])),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.pipe(out);
  child.stderr.pipe(out);
  child.on('exit', (code, signal) => {
    if (!stopping) {
      console.error(`\n${name} exited (${signal ?? code}); see .infra/logs/${name}.log`);
      stop(1);
    }
  });
  children.push({ name, child });
}

async function waitFor(what, check, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${what} did not become ready within ${timeoutMs / 1000}s; see .infra/logs`);
}

const ready = () => fetch(`http://${host}:${gatewayPort}/readyz`).then((res) => res.ok);

async function demoPromotion(adminToken) {
  const now = Date.now();
  const res = await fetch(`http://${host}:${gatewayPort}/v1/promotions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      itemId: 'demo-phone',
      title: 'Demo flash sale: phone',
      priceCents: 19900,
      stock: 100,
      perUserLimit: 2,
      startsAt: new Date(now).toISOString(),
      endsAt: new Date(now + 2 * 3600_000).toISOString(),
      paymentTimeoutSeconds: 900,
    }),
  });
  if (!res.ok) throw new Error(`demo promotion failed: ${res.status} ${await res.text()}`);
  return res.json();
}

/**
 * Events in `order.requested` that the order service's consumer group has not read yet. Tests, benchmarks and the
 * fault harness have topics of their own (docs/operations.md, "Isolation"), but a local Kafka from before they had them can
 * hold hundreds of thousands of their events in these topics, to get through before a new purchase becomes an order.
 */
async function orderBacklog() {
  // Loading the kit also clamps kafkajs's negative timer delays (packages/kafka-kit/src/kafkajs-timeouts.ts).
  const { ConsumerGroups, Topics } = require('@flash-sale/kafka-kit');
  const { Kafka, logLevel } = require('kafkajs');
  const admin = new Kafka({ brokers: shared.KAFKA_BROKERS.split(','), logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const topic = Topics.OrderRequested;
    // The order service's group for it.
    const groupId = `${env.KAFKA_GROUP_PREFIX ?? ''}${ConsumerGroups.OrderRequestsAndPayments.name}`;
    const [ends, [committed]] = await Promise.all([
      admin.fetchTopicOffsets(topic),
      admin.fetchOffsets({ groupId, topics: [topic] }),
    ]);
    const read = new Map(committed.partitions.map((p) => [p.partition, Number(p.offset)]));
    return ends.reduce((sum, p) => sum + Number(p.high) - Math.max(read.get(p.partition) ?? -1, Number(p.low)), 0);
  } finally {
    await admin.disconnect();
  }
}

/** Names every process in the local Prometheus's targets, each with its `service` label, under the job `mesh`. */
function writeTargets() {
  const ports = { ...metricsPorts, gateway: gatewayPort };
  const groups = Object.entries(ports).map(([service, port]) => ({
    targets: [`${host}:${port}`],
    labels: { job: 'mesh', service },
  }));
  mkdirSync(dirname(targetsFile), { recursive: true });
  // Written aside, then renamed: Prometheus never reads half a file.
  writeFileSync(`${targetsFile}.tmp`, JSON.stringify(groups, null, 2));
  renameSync(`${targetsFile}.tmp`, targetsFile);
}

function stop(code) {
  if (stopping) return;
  stopping = true;
  // Stopped on purpose: nothing for ServiceDown to page about.
  rmSync(targetsFile, { force: true });
  console.log('\nstopping the mesh...');
  const exits = children.reverse().map(
    ({ child }) =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', resolve);
        child.kill('SIGTERM');
      }),
  );
  Promise.all(exits).then(() => {
    if (process.argv.includes('--stop-infra'))
      execFileSync('bash', [join(root, 'scripts', 'infra.sh'), 'down'], { stdio: 'inherit' });
    process.exit(code);
  });
}

async function main() {
  mkdirSync(logs, { recursive: true });
  process.on('SIGINT', () => stop(0));
  process.on('SIGTERM', () => stop(0));
  for (const spec of processes) start(spec);
  await waitFor('the gateway and its upstreams', ready);
  writeTargets();
  const admin = await mint('admin', { admin: true, ttlSeconds: 12 * 3600, key: secret });
  const buyer = await mint('buyer-1', { ttlSeconds: 12 * 3600, key: secret });
  const promotion = await demoPromotion(admin);
  const url = `http://${host}:${gatewayPort}`;
  console.log(`
The flash-sale mesh is up.

  gateway      ${url}   (logs: .infra/logs/*.log)
  gRPC door    ${host}:${doorPort}   (TLS, certificate chains to .infra/pki/ca.crt)
  metrics      ${url}/metrics, ${Object.entries(metricsPorts)
    .map(([name, port]) => `${name} :${port}`)
    .join(', ')}
  mTLS         ${env.MTLS_MODE === 'off' ? 'off (plaintext between the processes)' : 'on, certificates in .infra/pki (CA: .infra/pki/ca.crt)'}
  admin token  ${admin}
  buyer token  ${buyer}
  demo sale    ${promotion.id} (${promotion.title}, stock ${promotion.stock})
  console      ${url}/console   (the live sale figures: paste the admin token above to sign in)
  Prometheus   http://${host}:${env.PROMETHEUS_PORT ?? 9091}   (alerts: /alerts; docs/observability.md)

Try it:
  curl -s -X POST ${url}/v1/promotions/${promotion.id}/purchase -H "authorization: Bearer ${buyer}" \\
    -H 'content-type: application/json' -H "idempotency-key: $(cat /proc/sys/kernel/random/uuid)" -d '{"quantity":1}'
  curl -s ${url}/v1/orders -H "authorization: Bearer ${buyer}"
  grpcurl -cacert .infra/pki/ca.crt -H "authorization: Bearer ${buyer}" ${host}:${doorPort} \\
    flashsale.order.v1.OrderService/ListOrders

More tokens: npm run token -- <user> [--admin]. Ctrl-C stops everything.`);
  const backlog = await orderBacklog().catch(() => 0);
  if (backlog > 1_000)
    console.log(`
Note: the order service has ${backlog.toLocaleString('en')} earlier events in order.requested to read before a new
purchase becomes an order (most likely left by tests or benchmarks of an older version, which wrote to the same
topics); until then new orders stay PENDING.
\`bash scripts/infra.sh reset\` (with the mesh stopped) starts the local infrastructure empty.`);
}

main().catch((error) => {
  console.error(error.message);
  stop(1);
});
