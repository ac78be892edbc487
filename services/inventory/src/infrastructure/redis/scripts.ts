/**
 * The inventory's Lua scripts. Each touches only keys of one promotion (one hash tag), so each runs atomically
 * on one Redis Cluster node. Time comes from Redis (`TIME`), so every inventory replica sees one clock.
 * Reservation records are JSON: {u: user, q: quantity, a: amount cents, t: reserved at ms, s: R|X|C, k: key}.
 */

const NOW_MS = `local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)`;

/**
 * KEYS: meta, stock, users, idem, reservations, outbox.
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
redis.call('HINCRBY', KEYS[3], user, qty)
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
 * moves (to X). KEYS: stock, users, reservations. ARGV: order id. Returns {outcome, stock now, units}: outcome
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
redis.call('HINCRBY', KEYS[2], record.u, -record.q)
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

/** Seeds a sale's stock counter with its total, only where there is none. KEYS: stock. ARGV: total. */
export const SEED = `return redis.call('SET', KEYS[1], ARGV[1], 'NX')`;

/**
 * Merges ledger entries (the truth) into Redis, idempotently: an entry Redis does not know is added (and, unless
 * released, takes its units from stock and counts against its buyer); an entry Redis holds as R that the ledger
 * has released or confirmed follows the ledger. KEYS: stock, users, idem, reservations.
 * ARGV: groups of 7: order id, user, quantity, amount, reserved at ms, status (R, X or C), idempotency key.
 * Returns how many entries changed Redis.
 */
export const MERGE = `
local changed = 0
for i = 1, #ARGV, 7 do
  local id, user, qty, status = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2]), ARGV[i + 5]
  local raw = redis.call('HGET', KEYS[4], id)
  if not raw then
    redis.call('HSET', KEYS[4], id, cjson.encode({u = user, q = qty, a = tonumber(ARGV[i + 3]), t = tonumber(ARGV[i + 4]), s = status, k = ARGV[i + 6]}))
    redis.call('HSET', KEYS[3], user .. ':' .. ARGV[i + 6], id)
    if status ~= 'X' then
      redis.call('DECRBY', KEYS[1], qty)
      redis.call('HINCRBY', KEYS[2], user, qty)
    end
    changed = changed + 1
  else
    local record = cjson.decode(raw)
    if record.s == 'R' and status ~= 'R' then
      record.s = status
      redis.call('HSET', KEYS[4], id, cjson.encode(record))
      if status == 'X' then
        redis.call('INCRBY', KEYS[1], record.q)
        redis.call('HINCRBY', KEYS[2], record.u, -record.q)
      end
      changed = changed + 1
    end
  end
end
return changed
`;

/**
 * Writes a sale's terms, which opens it to buyers (the reserve script refuses a sale without them), and sets
 * every key to expire after the sale. KEYS: meta, stock, users, idem, reservations, outbox.
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
 * Checks the stock counter against the reservations Redis holds (stock must equal total minus units held by
 * reservations not released) and, with ARGV[1] = 'repair', sets it right. KEYS: meta, stock, reservations.
 * Returns the drift (counter minus what it should be); 0 when consistent.
 */
export const CHECK_STOCK = `
local total = tonumber(redis.call('HGET', KEYS[1], 'total') or '-1')
if total < 0 then return 0 end
local held = 0
for _, raw in ipairs(redis.call('HVALS', KEYS[3])) do
  local record = cjson.decode(raw)
  if record.s ~= 'X' then held = held + record.q end
end
local drift = tonumber(redis.call('GET', KEYS[2]) or '0') - (total - held)
if drift ~= 0 and ARGV[1] == 'repair' then redis.call('SET', KEYS[2], total - held) end
return drift
`;
