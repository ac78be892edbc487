/**
 * The live sale console in a real browser (Debian's Chromium, driven by playwright-core): an admin signs in on the
 * page, a sale of 200 units sells out to concurrent buyers over HTTP, and the page's figures move during the sale
 * and, once it is over, equal what the API says. Every wait on the page waits for its DOM to change.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { waitFor } from '@flash-sale/testing';
import { client, newKey, openSale, tokenFor } from './http';
import { startMesh, type Mesh } from './mesh';

type Json = Record<string, unknown>;

// What the page-side functions below use of the DOM: they run in the browser, and this program has Node's types only.
interface PageElement {
  dataset: Record<string, string | undefined>;
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): Iterable<PageElement>;
}
declare const document: { querySelector(selector: string): PageElement | null; body: unknown };
declare class MutationObserver {
  constructor(callback: () => void);
  observe(target: unknown, options: Record<string, boolean>): void;
  disconnect(): void;
}

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/lib/chromium/chromium';
const ARTIFACTS = join(__dirname, '..', '.cache', 'artifacts');
const STOCK = 200;
const BUYERS = 300;

let mesh: Mesh;
let browser: Browser;
let adminToken: string;

beforeAll(async () => {
  mesh = await startMesh();
  adminToken = await tokenFor('console-admin', true);
  // console.test is the gateway too: a host name that is not localhost, as a cluster's node or ingress address is, so
  // the browser treats the page as an ordinary plain-HTTP site.
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--host-resolver-rules=MAP console.test 127.0.0.1'],
  });
});

afterAll(async () => {
  await browser?.close();
  await mesh?.stop();
});

/** What one sale's card shows, as the page keeps it in its elements' data-value. */
interface Card {
  status: string;
  availableStock: number;
  stock: number;
  orders: number | null;
  paid: number | null;
  soldOutAt: string;
  acceptedPerSecond: number;
  accepted: number;
  refusedPerSecond: number;
  reasons: string[];
  p50: number | null;
  p99: number | null;
}

const readCard = (page: Page, promotionId: string): Promise<Card | undefined> =>
  page.evaluate((id) => {
    const card = document.querySelector(`article[data-promotion="${id}"]`);
    if (!card) return undefined;
    const value = (field: string) => card.querySelector(`[data-field="${field}"]`)!.dataset.value!;
    const number = (field: string) => (value(field) === '' ? null : Number(value(field)));
    return {
      status: value('status'),
      availableStock: Number(value('availableStock')),
      stock: Number(value('stock')),
      orders: number('orders'),
      paid: number('paid'),
      soldOutAt: value('soldOutAt'),
      acceptedPerSecond: Number(value('acceptedPerSecond')),
      accepted: Number(value('accepted')),
      refusedPerSecond: Number(value('refusedPerSecond')),
      reasons: [...card.querySelectorAll('[data-reason]')].map((li) => li.dataset.reason!),
      p50: number('p50'),
      p99: number('p99'),
    };
  }, promotionId);

/** Resolves on the page's next DOM change (false if none came within `ms`). */
const nextChange = (page: Page, ms = 3_000) =>
  page.evaluate(
    (timeout) =>
      new Promise<boolean>((resolve) => {
        const observer = new MutationObserver(() => {
          observer.disconnect();
          resolve(true);
        });
        observer.observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
        setTimeout(() => {
          observer.disconnect();
          resolve(false);
        }, timeout);
      }),
    ms,
  );

/** The card once `ok` holds for it, checked again at every change of the page. */
async function cardWhen(page: Page, promotionId: string, ok: (card: Card) => boolean, what: string): Promise<Card> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const card = await readCard(page, promotionId);
    if (card && ok(card)) return card;
    if (Date.now() > deadline) throw new Error(`the page never showed ${what}; it shows ${JSON.stringify(card)}`);
    await nextChange(page);
  }
}

/** Signs in on the page with `token`. */
async function signIn(page: Page, token: string): Promise<void> {
  await page.goto(`${mesh.url}/console`);
  await page.locator('#token').fill(token);
  await page.locator('#login-form button[type=submit]').click();
}

/** Buys one unit as a new buyer; every `payEvery`-th buyer who got one pays for it once the order is written. */
async function buyer(promotionId: string, n: number, payEvery: number): Promise<{ status: number; paid: boolean }> {
  const me = client(mesh.url, await tokenFor(`console-buyer-${promotionId}-${n}`));
  const reply = await me.post<Json>(
    `/v1/promotions/${promotionId}/purchase`,
    { quantity: 1 },
    { 'idempotency-key': newKey() },
  );
  if (reply.status !== 202 || n % payEvery !== 0) return { status: reply.status, paid: false };
  const orderId = reply.body.orderId as string;
  await waitFor(async () => (await me.get<Json>(`/v1/orders/${orderId}`)).body.status === 'AWAITING_PAYMENT', {
    what: `order ${orderId} written`,
  });
  const pay = await me.post<Json>(`/v1/orders/${orderId}/pay`, undefined, { 'idempotency-key': newKey() });
  if (pay.status === 200) return { status: reply.status, paid: true };
  // 202: the charge is still running; how it ends is the order's status once it leaves PAYING.
  const settled = await waitFor(
    async () => {
      const order = (await me.get<Json>(`/v1/orders/${orderId}`)).body;
      return order.status !== 'PAYING' && order;
    },
    { what: `order ${orderId} settled` },
  );
  return { status: reply.status, paid: settled.status === 'PAID' };
}

describe('the live sale console', () => {
  it('when no token, a forged one or a buyer token asks for the sales, then the answer is 401 or 403 and the page says so', async () => {
    const none = await client(mesh.url).get<Json>('/console/sales');
    expect([none.status, none.body.code, none.contentType]).toEqual([
      401,
      'UNAUTHENTICATED',
      expect.stringContaining('application/problem+json'),
    ]);
    const buyerToken = await tokenFor('console-buyer');
    const forbidden = await client(mesh.url, buyerToken).get<Json>('/console/sales');
    expect([forbidden.status, forbidden.body.code]).toEqual([403, 'FORBIDDEN']);

    const page = await browser.newPage();
    try {
      // The page itself holds no data and needs no token; its script keeps the strict CSP, and it runs over plain
      // HTTP on a host that is not localhost (the sign-in below needs it), as through a NodePort.
      const served = await page.goto(`${mesh.url.replace('127.0.0.1', 'console.test')}/console`);
      const policy = served!.headers()['content-security-policy'];
      expect(policy).toContain("script-src 'self'");
      expect(policy).not.toContain('upgrade-insecure-requests');
      await signIn(page, 'not-a-token');
      const wrong = page.locator('#login-error');
      await wrong.waitFor({ state: 'visible' });
      expect(await wrong.textContent()).toMatch(/401 INVALID_TOKEN/);
      await page.locator('#token').fill(buyerToken);
      await page.locator('#login-form button[type=submit]').click();
      await page.locator('#login-error', { hasText: '403' }).waitFor();
      expect(await wrong.textContent()).toContain('no admin role');
      expect(await page.locator('#board').isHidden()).toBe(true);
    } finally {
      await page.close();
    }
  });

  it('when a sale sells out to concurrent buyers, then the page moves during it and ends equal to the API', async () => {
    const admin = client(mesh.url, adminToken);
    const created = await admin.post<Json>(
      '/v1/promotions',
      openSale({ itemId: 'sku-console', title: 'Console demo: 200 headphones', stock: STOCK, perUserLimit: 1 }),
    );
    expect(created.status).toBe(201);
    const promotionId = created.body.id as string;

    const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    await signIn(page, adminToken);
    const before = await cardWhen(page, promotionId, () => true, 'the new sale');
    expect([before.status, before.availableStock, before.stock, before.orders]).toEqual(['ACTIVE', STOCK, STOCK, 0]);

    // Buyers arrive in waves of 8, about 60 a second, until all have tried: the sale lasts a few seconds.
    const outcomes: Promise<{ status: number; paid: boolean }>[] = [];
    const buying = (async () => {
      for (let n = 0; n < BUYERS; n += 8) {
        for (let i = n; i < Math.min(n + 8, BUYERS); i += 1) outcomes.push(buyer(promotionId, i, 4));
        await new Promise((resolve) => setTimeout(resolve, 130));
      }
    })();

    const first = await cardWhen(
      page,
      promotionId,
      (card) => card.availableStock < STOCK && card.acceptedPerSecond > 0,
      'stock going and purchases accepted',
    );
    const second = await cardWhen(
      page,
      promotionId,
      (card) => card.availableStock < first.availableStock && card.accepted > first.accepted,
      'the stock and acceptances moving on',
    );
    expect(second.p50).toBeGreaterThan(0);
    expect(second.p99).toBeGreaterThanOrEqual(second.p50!);

    await buying;
    const results = await Promise.all(outcomes);
    expect(results.filter((result) => result.status === 202)).toHaveLength(STOCK);
    expect(results.filter((result) => result.status === 409)).toHaveLength(BUYERS - STOCK);

    // The truth, once every accepted purchase is an order row and every payment settled.
    const paid = results.filter((result) => result.paid).length;
    expect(paid).toBeGreaterThan(0);
    const truth = await waitFor(
      async () => {
        const summary = (await admin.get<Json>(`/v1/promotions/${promotionId}/order-summary`)).body;
        const byStatus = summary.byStatus as Record<string, { orders: number }>;
        if (summary.orders === STOCK && byStatus.PAID!.orders === paid) return summary;
        throw new Error(`the summary says ${summary.orders} orders, ${byStatus.PAID!.orders} paid (${paid} paid)`);
      },
      { what: 'every order written and every payment settled', timeoutMs: 60_000 },
    );
    const promotion = (await admin.get<Json>(`/v1/promotions/${promotionId}`)).body;
    expect([promotion.status, promotion.availableStock]).toEqual(['SOLD_OUT', 0]);

    const after = await cardWhen(
      page,
      promotionId,
      (card) =>
        card.orders === truth.orders && card.paid === paid && card.availableStock === 0 && card.soldOutAt !== '',
      'the final figures',
    );
    expect(after).toMatchObject({
      status: promotion.status,
      availableStock: promotion.availableStock,
      orders: truth.orders,
      paid: (truth.byStatus as Record<string, { orders: number }>).PAID!.orders,
      accepted: STOCK,
    });
    expect(after.reasons).toContain('SOLD_OUT');
    expect(Date.parse(after.soldOutAt)).toBeGreaterThanOrEqual(Date.parse(created.body.createdAt as string));

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'console.png') });
    await page.close();
  });
});
