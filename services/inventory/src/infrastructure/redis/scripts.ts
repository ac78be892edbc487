/**
 * The inventory's Lua scripts. Each touches only keys of one promotion (one hash tag), so each runs atomically
 * on one Redis Cluster node. Time comes from Redis (`TIME`), so every inventory replica sees one clock.
 * Reservation records are JSON: {u: user, q: quantity, a: amount cents, t: reserved at ms, s: R|X|C, k: key}.
 */

/**
 * Moves the sale's held count (units by `delta`, reservations written by `added`) where it is known: a missing one
 * stays missing, since counting from nothing would make a partial count that a stock repair would trust. Bumps the
 * write counter where it exists.
 */
const MOVE_HELD = (held: string, writes: string, delta: string, added?: string) => `
if redis.call('EXISTS', ${held}) == 1 then
  redis.call('HINCRBY', ${held}, 'units', ${delta})${
    added
      ? `
  redis.call('HINCRBY', ${held}, 'records', ${added})`
      : ''
  }
end
if redis.call('EXISTS', ${writes}) == 1 then redis.call('INCR', ${writes}) end`;

const NOW_MS = `local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)`;

/**
 * KEYS: meta, stock, users, idem, reservations, outbox, held, writes.
 * ARGV: user id, idempotency key, quantity, new order id, event id, promotion id, and the purchase's trace context
 * for the outbox entry (see `traceField`; optional, empty when there is none).
 * Returns {outcome, order id, amount cents, stock left, reserved at ms}; outcome is RESERVED, REPLAYED or a
 * rejection (NOT_PREHEATED, SALE_NOT_STARTED, SALE_ENDED, PURCHASE_LIMIT_REACHED, SOLD_OUT, INSUFFICIENT_STOCK).
 * PURCHASE_LIMIT_REACHED also carries the stock left: it is checked before the stock, and a sold-out sale must be
 * signalled again whichever of the two a buyer hears.
 */
export const RESERVE = `
local user, key, qty = ARGV[1], ARGV[2], tonumber(ARGV[3])
local idemField = user .. ':' .. key
local previous = redis.call('HGET', KEYS[4], idemField)
if previous then
  local record = cjson.decode(redis.call('HGET', KEYS[5], previous))
  return {'REPLAYED', previous, tostring(record.a), redis.call('GET', KEYS[2]) or '0', tostring(record.t)}
end
local meta = redis.call('HMGET', KEYS[1], 'startsAt', 'endsAt', 'limit', 'price', 'timeout')
if not meta[1] then return {'NOT_PREHEATED'} end
${NOW_MS}
if now < tonumber(meta[1]) then return {'SALE_NOT_STARTED'} end
if now >= tonumber(meta[2]) then return {'SALE_ENDED'} end
local held = tonumber(redis.call('HGET', KEYS[3], user) or '0')
local stock = tonumber(redis.call('GET', KEYS[2]) or '0')
if held + qty > tonumber(meta[3]) then return {'PURCHASE_LIMIT_REACHED', '', '', tostring(stock)} end
if stock <= 0 then return {'SOLD_OUT'} end
if stock < qty then return {'INSUFFICIENT_STOCK'} end
local orderId = ARGV[4]
local amount = tonumber(meta[4]) * qty
local left = redis.call('DECRBY', KEYS[2], qty)
redis.call('HINCRBY', KEYS[3], user, qty)${MOVE_HELD('KEYS[7]', 'KEYS[8]', 'qty', '1')}
redis.call('HSET', KEYS[4], idemField, orderId)
redis.call('HSET', KEYS[5], orderId, cjson.encode({u = user, q = qty, a = amount, t = now, s = 'R', k = key}))
redis.call('XADD', KEYS[6], '*', 'event', ARGV[5], 'order', orderId, 'promotion', ARGV[6], 'user', user,
  'quantity', qty, 'amount', amount, 'at', now, 'timeout', meta[5], 'key', key, 'trace', ARGV[7] or '')
if redis.call('PTTL', KEYS[5]) == -1 then
  -- First reservation of this sale: the per-user, idempotency, reservation and outbox keys expire with the sale.
  local expireAt = redis.call('PEXPIRETIME', KEYS[1])
  for i = 3, 6 do redis.call('PEXPIREAT', KEYS[i], expireAt) end
end
return {'RESERVED', orderId, tostring(amount), tostring(left), tostring(now)}
`;

/**
 * Gives a reservation's units back to stock and to the user's quota, once: only a reservation still in state R
 * moves (to X). KEYS: stock, users, reservations, held, writes. ARGV: order id. Returns {outcome, stock now, units}: outcome
 * 1 when released now, 0 when already released or paid, -1 when unknown.
 */
export const RELEASE = `
local raw = redis.call('HGET', KEYS[3], ARGV[1])
if not raw then return {-1, 0, 0} end
local record = cjson.decode(raw)
if record.s ~= 'R' then return {0, 0, 0} end
record.s = 'X'
redis.call('HSET', KEYS[3], ARGV[1], cjson.encode(record))
local stock = redis.call('INCRBY', KEYS[1], record.q)
redis.call('HINCRBY', KEYS[2], record.u, -record.q)${MOVE_HELD('KEYS[4]', 'KEYS[5]', '-record.q')}
return {1, stock, record.q}
`;

/**
 * Marks a reservation as paid (R -> C), once. KEYS: reservations. ARGV: order id. 1 = now, 0 = already paid,
 * -1 = unknown, -2 = released (its units went back to stock and may be sold again: it can no longer be paid).
 */
export const CONFIRM = `
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return -1 end
local record = cjson.decode(raw)
if record.s == 'X' then return -2 end
if record.s ~= 'R' then return 0 end
record.s = 'C'
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(record))
return 1
`;

/**
 * Seeds a sale's stock counter with its total, only where there is none. A sale seeded with no reservations
 * holds nothing: only then is its held count known without a recount. The write counter starts at a random value,
 * so one made again after a loss does not pass for the lost one. KEYS: stock, reservations, held, writes.
 * ARGV: total, the write counter's start.
 */
export const SEED = `
local seeded = redis.call('SET', KEYS[1], ARGV[1], 'NX')
if seeded and redis.call('EXISTS', KEYS[2]) == 0 then redis.call('HSET', KEYS[3], 'units', 0, 'records', 0) end
redis.call('SET', KEYS[4], ARGV[2], 'NX')
return seeded
`;

/**
 * Merges ledger entries (the truth) into Redis, idempotently: an entry Redis does not know is added (and, unless
 * released, takes its units from stock and counts against its buyer); an entry Redis holds as R that the ledger
 * has released or confirmed follows the ledger. `held` moves opposite to the stock. KEYS: stock, users, idem,
 * reservations, held, writes.
 * ARGV: groups of 7: order id, user, quantity, amount, reserved at ms, status (R, X or C), idempotency key.
 * Returns how many entries changed Redis.
 */
export const MERGE = `
local changed, moved, added = 0, 0, 0
for i = 1, #ARGV, 7 do
  local id, user, qty, status = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2]), ARGV[i + 5]
  local raw = redis.call('HGET', KEYS[4], id)
  if not raw then
    redis.call('HSET', KEYS[4], id, cjson.encode({u = user, q = qty, a = tonumber(ARGV[i + 3]), t = tonumber(ARGV[i + 4]), s = status, k = ARGV[i + 6]}))
    redis.call('HSET', KEYS[3], user .. ':' .. ARGV[i + 6], id)
    if status ~= 'X' then
      redis.call('DECRBY', KEYS[1], qty)
      redis.call('HINCRBY', KEYS[2], user, qty)
      moved = moved + qty
    end
    added = added + 1
    changed = changed + 1
  else
    local record = cjson.decode(raw)
    if record.s == 'R' and status ~= 'R' then
      record.s = status
      redis.call('HSET', KEYS[4], id, cjson.encode(record))
      if status == 'X' then
        redis.call('INCRBY', KEYS[1], record.q)
        redis.call('HINCRBY', KEYS[2], record.u, -record.q)
        moved = moved - record.q
      end
      changed = changed + 1
    end
  end
end
if changed > 0 then${MOVE_HELD('KEYS[5]', 'KEYS[6]', 'moved', 'added')}
end
return changed
`;

/**
 * Writes a sale's terms, which opens it to buyers (the reserve script refuses a sale without them), and sets
 * every key to expire after the sale. KEYS: meta, stock, users, idem, reservations, outbox, held, writes.
 * ARGV: startsAt ms, endsAt ms, limit, price, timeout s, total, expire-at ms. Returns the stock now available.
 */
export const OPEN = `
redis.call('HSET', KEYS[1], 'startsAt', ARGV[1], 'endsAt', ARGV[2], 'limit', ARGV[3], 'price', ARGV[4],
  'timeout', ARGV[5], 'total', ARGV[6])
for i = 1, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 1 then redis.call('PEXPIREAT', KEYS[i], ARGV[7]) end
end
return tonumber(redis.call('GET', KEYS[2]) or '0')
`;

/**
 * Checks the stock counter in O(1): it must equal total minus the units held by reservations not released, which
 * the scripts above keep in `held`. With ARGV[1] = 'repair', sets it right. KEYS: meta, stock, held, reservations.
 * Returns the drift (counter minus what it should be; 0 when consistent or the sale is not open), or nil when the
 * held count is unknown or not to be trusted: missing, or counting another number of reservations than the hash
 * holds (written by something other than these scripts, e.g. an older version's during a rolling update). Then
 * nothing is repaired, and a recount (`RECOUNT_HELD`) must come first.
 */
export const CHECK_STOCK = `
local total = tonumber(redis.call('HGET', KEYS[1], 'total') or '-1')
if total < 0 then return 0 end
local held = redis.call('HMGET', KEYS[3], 'units', 'records')
if not held[1] or not held[2] then return false end
if tonumber(held[2]) ~= redis.call('HLEN', KEYS[4]) then return false end
local should = total - tonumber(held[1])
local drift = tonumber(redis.call('GET', KEYS[2]) or '0') - should
if drift ~= 0 and ARGV[1] == 'repair' then redis.call('SET', KEYS[2], should, 'KEEPTTL') end
return drift
`;

/**
 * One page of a recount of `held` from the reservations themselves: an HSCAN page, its reservations and units not
 * released counted here. A recount spans many calls, so it is exact or inconclusive, never wrong: the first page
 * reads the write counter (making it if missing), every later page refuses to go on once it moved, and the last
 * page sets `held` only if it did not and the reservations counted are as many as the hash holds. Unmoved, the hash
 * neither grew (the only time HSCAN repeats a field) nor changed its units.
 * KEYS: meta, reservations, held, writes. ARGV: cursor, the write counter at the first page ('' on the first page),
 * the write counter's start if missing, COUNT, units and reservations counted so far. Returns {'page', cursor,
 * writes, units, reservations}, {'counted', '0', writes, units, reservations, units before ('' when unknown)},
 * {'moved'} or {'closed'} (no sale terms).
 */
export const RECOUNT_HELD = `
local expireAt = redis.call('PEXPIRETIME', KEYS[1])
if expireAt == -2 then return {'closed'} end
local writes = redis.call('GET', KEYS[4])
if ARGV[2] == '' then
  if not writes then
    writes = ARGV[3]
    redis.call('SET', KEYS[4], writes)
    if expireAt > 0 then redis.call('PEXPIREAT', KEYS[4], expireAt) end
  end
elseif writes ~= ARGV[2] then
  return {'moved'}
end
local page = redis.call('HSCAN', KEYS[2], ARGV[1], 'COUNT', ARGV[4])
local units, records = tonumber(ARGV[5]), tonumber(ARGV[6]) + #page[2] / 2
for i = 2, #page[2], 2 do
  local record = cjson.decode(page[2][i])
  if record.s ~= 'X' then units = units + record.q end
end
if page[1] ~= '0' then return {'page', page[1], writes, tostring(units), tostring(records)} end
if records ~= redis.call('HLEN', KEYS[2]) then return {'moved'} end
local before = redis.call('HGET', KEYS[3], 'units') or ''
redis.call('HSET', KEYS[3], 'units', units, 'records', records)
if expireAt > 0 then redis.call('PEXPIREAT', KEYS[3], expireAt) end
return {'counted', '0', writes, tostring(units), tostring(records), before}
`;
