/**
 * The inventory's Lua scripts. Each touches only keys of one promotion (one hash tag), so each runs atomically
 * on one Redis Cluster node. Time comes from Redis (`TIME`), so every inventory replica sees one clock.
 * Reservation records are JSON: {u: user, q: quantity, a: amount cents, t: reserved at ms, s: R|X|C}.
 */

const NOW_MS = `local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)`;

/**
 * KEYS: meta, stock, users, idem, reservations, outbox.
 * ARGV: user id, idempotency key, quantity, new order id, event id, promotion id.
 * Returns {outcome, order id, amount cents, stock left, reserved at ms}; outcome is RESERVED, REPLAYED or a
 * rejection (NOT_PREHEATED, SALE_NOT_STARTED, SALE_ENDED, PURCHASE_LIMIT_REACHED, SOLD_OUT, INSUFFICIENT_STOCK).
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
if held + qty > tonumber(meta[3]) then return {'PURCHASE_LIMIT_REACHED'} end
local stock = tonumber(redis.call('GET', KEYS[2]) or '0')
if stock <= 0 then return {'SOLD_OUT'} end
if stock < qty then return {'INSUFFICIENT_STOCK'} end
local orderId = ARGV[4]
local amount = tonumber(meta[4]) * qty
local left = redis.call('DECRBY', KEYS[2], qty)
redis.call('HINCRBY', KEYS[3], user, qty)
redis.call('HSET', KEYS[4], idemField, orderId)
redis.call('HSET', KEYS[5], orderId, cjson.encode({u = user, q = qty, a = amount, t = now, s = 'R'}))
redis.call('XADD', KEYS[6], '*', 'event', ARGV[5], 'order', orderId, 'promotion', ARGV[6], 'user', user,
  'quantity', qty, 'amount', amount, 'at', now, 'timeout', meta[5], 'key', key)
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

/**
 * Writes a sale's terms and, only if the sale has no stock counter yet, its available stock: repeating it never
 * hands out stock twice. KEYS: meta, stock. ARGV: startsAt ms, endsAt ms, limit, price, timeout s, total,
 * available, expire-at ms (the sale's keys outlive its window so late payments and releases still find them).
 * Returns the stock now available.
 */
export const PREPARE = `
redis.call('HSET', KEYS[1], 'startsAt', ARGV[1], 'endsAt', ARGV[2], 'limit', ARGV[3], 'price', ARGV[4],
  'timeout', ARGV[5], 'total', ARGV[6])
redis.call('SET', KEYS[2], ARGV[7], 'NX')
redis.call('PEXPIREAT', KEYS[1], ARGV[8])
redis.call('PEXPIREAT', KEYS[2], ARGV[8])
return tonumber(redis.call('GET', KEYS[2]))
`;
