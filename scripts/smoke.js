#!/usr/bin/env node
/**
 * A real purchase through a running gateway: an admin creates a sale, a buyer buys one item, the order becomes
 * payable (AWAITING_PAYMENT) and is paid (PAID). `helm test` runs it in a pod; scripts/k8s/test-k8s.sh runs its
 * load mode from the host while the chart upgrades.
 *
 *   node scripts/smoke.js                     the public checks below, then one purchase, paid; exit 0 when every
 *                                             step answered as expected
 *   node scripts/smoke.js --load SECONDS      purchases by new buyers without pause for SECONDS (8 at a time);
 *                                             exit 1 if any was refused or any accepted order never became payable;
 *                                             the summary names the inventory workers that reserved the orders
 *
 * The public checks need no token: the gateway is ready, a public read reaches the promotion service and its
 * database, and requests without a token or with a forged one are refused (401).
 *
 * Environment: GATEWAY_URL (http://127.0.0.1:8080), and the tokens, from one of:
 *   JWT_SECRET                  the gateway's HS256 secret: tokens are minted here (the load mode needs it)
 *   ADMIN_TOKEN and BUYER_TOKEN tokens minted elsewhere, short-lived: what `helm test` gets, never the secret
 *   neither                     the public checks only
 * Prints one JSON line per step (and a summary in load mode).
 */
'use strict';

const { randomBytes, randomUUID } = require('node:crypto');
const { mint } = require('./token');

const gateway = (process.env.GATEWAY_URL ?? 'http://127.0.0.1:8080').replace(/\/$/, '');
const say = (fields) => console.log(JSON.stringify({ at: new Date().toISOString(), ...fields }));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** One request; `token` undefined sends none. */
async function call(method, path, token, body, headers = {}) {
  const response = await fetch(`${gateway}${path}`, {
    method,
    headers: {
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = { raw: text };
  }
  return { status: response.status, body: json };
}

function expectStatus(step, reply, status) {
  if (reply.status !== status) {
    throw new Error(`${step}: expected HTTP ${status}, got ${reply.status} ${JSON.stringify(reply.body)}`);
  }
}

/** The admin's and a buyer's tokens: minted with JWT_SECRET, or ADMIN_TOKEN and BUYER_TOKEN; undefined without. */
async function tokens() {
  if (process.env.JWT_SECRET) {
    return { admin: await mint('smoke-admin', { admin: true }), buyer: await mint(`smoke-buyer-${randomUUID()}`) };
  }
  const { ADMIN_TOKEN: admin, BUYER_TOKEN: buyer } = process.env;
  return admin && buyer ? { admin, buyer } : undefined;
}

async function createSale(stock, perUserLimit, admin) {
  const now = Date.now();
  const reply = await call('POST', '/v1/promotions', admin, {
    itemId: `smoke-${now}`,
    title: 'Smoke test sale',
    priceCents: 100,
    stock,
    perUserLimit,
    startsAt: new Date(now - 1_000).toISOString(),
    endsAt: new Date(now + 3_600_000).toISOString(),
    paymentTimeoutSeconds: 600,
  });
  expectStatus('create the sale', reply, 201);
  say({ step: 'sale created', promotionId: reply.body.id, stock });
  return reply.body.id;
}

/**
 * One purchase as a careful client makes it: a connection that breaks before an answer (a gateway pod going away
 * during a rolling upgrade) is retried with the same Idempotency-Key, which makes the retry safe.
 */
async function purchase(promotionId, token) {
  const key = randomUUID();
  for (let attempt = 1; ; attempt++) {
    try {
      return await call(
        'POST',
        `/v1/promotions/${promotionId}/purchase`,
        token,
        { quantity: 1 },
        { 'idempotency-key': key },
      );
    } catch (error) {
      if (attempt === 3) return { status: 0, body: { error: String(error.cause ?? error) } };
      retriedConnections += 1;
      await sleep(200 * attempt);
    }
  }
}

/** Connections that broke before an answer and were tried again, in purchases and polls (printed in load mode). */
let retriedConnections = 0;

/**
 * Polls the order until it has `status`, or throws after `timeoutMs` with the last answer. A poll whose connection
 * breaks is tried again (a read is safe to repeat) and counted.
 */
async function waitForStatus(orderId, token, status, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      last = await call('GET', `/v1/orders/${orderId}`, token);
    } catch (error) {
      retriedConnections += 1;
      last = { status: 0, body: { error: String(error.cause ?? error) } };
    }
    if (last.status === 200 && last.body.status === status) return last.body;
    await sleep(250);
  }
  throw new Error(
    `order ${orderId} did not become ${status}: last answer ${last?.status} ${JSON.stringify(last?.body)}`,
  );
}

async function once() {
  // The gateway may still be connecting to its upstreams right after an install.
  for (let attempt = 1; ; attempt++) {
    const ready = await fetch(`${gateway}/readyz`).catch(() => undefined);
    if (ready?.ok) break;
    if (attempt === 60) throw new Error(`${gateway}/readyz did not answer 200 within 60 s`);
    await sleep(1_000);
  }
  await publicChecks();
  const given = await tokens();
  if (!given) {
    say({ step: 'purchase skipped', why: 'no tokens: set JWT_SECRET, or ADMIN_TOKEN and BUYER_TOKEN' });
    return;
  }
  const { admin, buyer } = given;
  expectStatus('a buyer creating a sale', await call('POST', '/v1/promotions', buyer, {}), 403);
  say({ step: 'a buyer cannot create a sale (403)' });
  const promotionId = await createSale(5, 1, admin);
  const bought = await purchase(promotionId, buyer);
  expectStatus('purchase', bought, 202);
  say({ step: 'purchase accepted', orderId: bought.body.orderId });
  const order = await waitForStatus(bought.body.orderId, buyer, 'AWAITING_PAYMENT');
  say({ step: 'order payable', orderId: order.id, amountCents: order.amountCents, expiresAt: order.expiresAt });
  const paid = await call('POST', `/v1/orders/${order.id}/pay`, buyer, undefined, { 'idempotency-key': randomUUID() });
  // 200: the order is PAID; 202: PAYING, the charge still runs (a slow provider), and the order becomes PAID after.
  expectStatus('pay', paid, paid.status === 202 ? 202 : 200);
  await waitForStatus(order.id, buyer, 'PAID');
  say({ step: 'order paid', orderId: order.id, paymentId: paid.body.paymentId });
}

/** What any client can check without a token: a public read through to a database, and refusals of bad tokens. */
async function publicChecks() {
  expectStatus('list promotions (public)', await call('GET', '/v1/promotions?pageSize=1'), 200);
  say({ step: 'a public read reached the promotion service' });
  const purchase = ['POST', '/v1/promotions/1/purchase'];
  expectStatus('purchase without a token', await call(...purchase, undefined, { quantity: 1 }), 401);
  // An admin token signed with a key of its own: the gateway must not believe it.
  const forged = await mint('smoke-forger', { admin: true, key: randomBytes(32).toString('hex') });
  expectStatus('create a sale with a forged admin token', await call('POST', '/v1/promotions', forged, {}), 401);
  expectStatus('list orders without a token', await call('GET', '/v1/orders'), 401);
  say({ step: 'missing and forged tokens refused (401)' });
}

async function load(seconds) {
  if (!process.env.JWT_SECRET) throw new Error('--load mints a token per buyer: set JWT_SECRET');
  const promotionId = await createSale(1_000_000, 1, await mint('smoke-admin', { admin: true }));
  const until = Date.now() + seconds * 1000;
  const accepted = [];
  const refused = [];
  const worker = async () => {
    while (Date.now() < until) {
      const token = await mint(`load-${randomUUID()}`);
      const reply = await purchase(promotionId, token);
      if (reply.status === 202) accepted.push({ orderId: reply.body.orderId, token });
      else refused.push({ status: reply.status, body: reply.body, at: new Date().toISOString() });
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  say({
    step: 'load done',
    accepted: accepted.length,
    refused: refused.length,
    firstRefusals: refused.slice(0, 5),
    // The Snowflake worker ids in the accepted orders' ids: one per inventory process that reserved them. The layout
    // is decompose() in packages/ids, which the gateway image this also runs in does not ship.
    inventoryWorkers: [...new Set(accepted.map(({ orderId }) => Number((BigInt(orderId) >> 12n) & 1023n)))].sort(
      (a, b) => a - b,
    ),
  });
  const lost = [];
  for (const { orderId, token } of accepted) {
    await waitForStatus(orderId, token, 'AWAITING_PAYMENT', 120_000).catch((error) => lost.push(error.message));
  }
  say({
    step: 'orders checked',
    payable: accepted.length - lost.length,
    lost: lost.length,
    firstLost: lost.slice(0, 5),
    retriedConnections,
  });
  if (refused.length > 0 || lost.length > 0 || accepted.length === 0) process.exitCode = 1;
}

const loadIndex = process.argv.indexOf('--load');
const run = loadIndex >= 0 ? load(Number(process.argv[loadIndex + 1] ?? 30)) : once();
run.catch((error) => {
  say({ step: 'failed', error: error.message });
  process.exitCode = 1;
});
