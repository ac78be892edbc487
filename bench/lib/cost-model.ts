/**
 * How many pods, Redis shards and Kafka partitions a sale needs, from the CPU the bench measured per purchase and per
 * sold-out refusal in each process (docs/performance.md "Sizing a sale: the cost model").
 */

export interface SaleShape {
  buyers: number;
  /** Over how many seconds the buyers arrive, evenly. */
  seconds: number;
  units: number;
}

export interface MeasuredCosts {
  /** CPU ms per accepted purchase, by process (the bench's `cpuMsPerPurchase`). */
  purchase: Record<string, number>;
  /** CPU ms per sold-out refusal, by process (`cpuMsPerRefusal`). */
  refusal: Record<string, number>;
  /** Reserve scripts per second one Redis core ran (the bench's raw EVALSHA ceiling). */
  reservesPerRedisCore: number;
}

export interface Assumptions {
  /** Share of a core a pod or a server is planned to use at the peak: the rest is headroom for bursts and GC. */
  busy: number;
  /** Cores one gateway, inventory or order pod gets (its CPU limit). */
  coresPerPod: number;
}

export const DEFAULT_ASSUMPTIONS: Assumptions = { busy: 0.7, coresPerPod: 1 };

export interface Sizing {
  arrivalsPerSecond: number;
  /** Purchases accepted per second: the arrivals, or what one sale's Redis slot runs if that is fewer. */
  purchasesPerSecond: number;
  /** Requests over that rate while stock lasts: answered from memory (shed, retried), at about a refusal's cost. */
  overflowPerSecond: number;
  stockSeconds: number;
  /** Cores each component uses at the peak (while stock lasts), and after the sale sold out. */
  cores: Record<string, { peak: number; soldOut: number }>;
  pods: { gateway: number; inventory: number; order: number };
  /** One primary for the sale's slot (all its keys share a hash tag), and the others for the gateway's keys. */
  redisPrimaries: { sale: number; other: number };
  /** Of `order.requested`: at least one per order pod, so that each pod consumes. */
  kafkaPartitions: number;
}

/**
 * What a refusal from memory touches: the gateway and one Redis read of the idempotency key. What the other
 * processes spend after the sell-out (relay polls, scrapes, the orders still draining) does not grow with buyers.
 */
export const REFUSAL_PATH: ReadonlySet<string> = new Set(['gateway', 'redis']);

const round = (n: number) => Number(n.toFixed(1));
const cost = (costs: Record<string, number>, name: string) => Math.max(0, costs[name] ?? 0);
const refusalCost = (costs: Record<string, number>, name: string) => (REFUSAL_PATH.has(name) ? cost(costs, name) : 0);

/**
 * While stock lasts, every arriving buyer is either sold a unit (up to what the sale's Redis slot runs) or, over
 * that, answered from memory; after the sell-out every buyer is a refusal. A component's cores are
 * purchases/s × its ms per purchase + the rest/s × its ms per refusal, / 1,000.
 */
export function sizeSale(
  sale: SaleShape,
  costs: MeasuredCosts,
  assumptions: Assumptions = DEFAULT_ASSUMPTIONS,
): Sizing {
  const arrivals = sale.buyers / sale.seconds;
  const slotCeiling = costs.reservesPerRedisCore * assumptions.busy;
  const purchases = Math.min(arrivals, slotCeiling);
  const overflow = arrivals - purchases;
  const names = [...new Set([...Object.keys(costs.purchase), ...Object.keys(costs.refusal)])].filter(
    (name) => name !== 'load' && name !== 'prometheus',
  );
  const cores = Object.fromEntries(
    names.map((name) => [
      name,
      {
        peak: round((purchases * cost(costs.purchase, name) + overflow * refusalCost(costs.refusal, name)) / 1000),
        soldOut: round((arrivals * refusalCost(costs.refusal, name)) / 1000),
      },
    ]),
  );
  const pods = (name: string) =>
    Math.max(
      2,
      Math.ceil(
        Math.max(cores[name]?.peak ?? 0, cores[name]?.soldOut ?? 0) / (assumptions.coresPerPod * assumptions.busy),
      ),
    );
  // The sale's slot runs the reserve scripts; the rest of Redis's CPU is the gateway's keys (rate limits,
  // idempotency), spread over the other primaries by their hash.
  const saleRedisCores = purchases / costs.reservesPerRedisCore;
  const otherRedisCores = Math.max(0, Math.max(cores.redis?.peak ?? 0, cores.redis?.soldOut ?? 0) - saleRedisCores);
  const order = pods('order');
  return {
    arrivalsPerSecond: Math.round(arrivals),
    purchasesPerSecond: Math.round(purchases),
    overflowPerSecond: Math.round(overflow),
    stockSeconds: round(sale.units / purchases),
    cores,
    pods: { gateway: pods('gateway'), inventory: pods('inventory'), order },
    redisPrimaries: { sale: 1, other: Math.max(1, Math.ceil(otherRedisCores / assumptions.busy)) },
    kafkaPartitions: Math.max(12, order),
  };
}
