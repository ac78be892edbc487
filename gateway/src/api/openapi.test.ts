import { descriptorSetPath, meshHttpRules } from '@flash-sale/contracts';
import { servedOpenApi } from './openapi';
import { routeTable } from './route-table';
import { createPromotionBody } from './schemas';

const routes = routeTable(meshHttpRules(descriptorSetPath));

type Json = Record<string, unknown>;
const exampleOf = (document: Json) =>
  (document.components as { schemas: Record<string, { examples: Json[] }> }).schemas.CreatePromotion!.examples[0]!;

describe('the served OpenAPI document', () => {
  it('when it is read at any time, then its example sale is valid, open at that time and at most a day long', () => {
    const served = servedOpenApi(routes, 'test');
    for (const at of ['2026-11-30T15:59:59.999Z', '2027-02-28T00:00:00Z', '2031-07-04T12:34:56Z']) {
      const now = new Date(at);
      const example = exampleOf(served(now));
      expect(createPromotionBody.safeParse(example).success).toBe(true);
      const [startsAt, endsAt] = [Date.parse(example.startsAt as string), Date.parse(example.endsAt as string)];
      expect(startsAt).toBeLessThanOrEqual(now.getTime());
      expect(endsAt).toBeGreaterThan(now.getTime());
      expect(endsAt - startsAt).toBe(24 * 3_600_000);
    }
  });

  it('when the hour changes, then the document is built again; within the hour the same document is served', () => {
    const served = servedOpenApi(routes, 'test');
    const first = served(new Date('2026-11-30T15:00:00Z'));
    expect(served(new Date('2026-11-30T15:59:59Z'))).toBe(first);
    const next = served(new Date('2026-11-30T16:00:00Z'));
    expect(next).not.toBe(first);
    expect(exampleOf(next).startsAt).toBe('2026-11-30T16:00:00.000Z');
  });
});
