// The Redis limiter's atomic steps, each one Lua script run by EVALSHA (ioredis defineCommand).
// DECIDE checks every limit of a request and charges all of them only if all pass, so nodes
// racing on one identity never admit one request too many. Time comes from the server (TIME):
// every node decides on one clock. The GCRA arithmetic is gcra.ts's, line for line: a TAT is
// whole ms (m) plus a fraction in units of 1/limit ms (f), so nothing is rounded.
//
// Key layout (one identity; the braces keep both keys in one Redis Cluster slot):
//   P:{identity}     hash: rm rf (requests TAT), tm tf (tokens TAT), d (UTC day number),
//                    dr dt (requests and tokens counted on day d). Expires once equal to fresh:
//                    when both TATs have passed, or at midnight if a day count is kept.
//   P:{identity}:c   sorted set of in-flight request ids scored by lease expiry (ms); expired
//                    members are dropped before counting, so a node that died mid-request frees
//                    its slots when their leases end. Expires with its newest lease.
import type { Redis } from 'ioredis';

const PRELUDE = `
local W = 60000
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local function from_now(m, f) if m < now then return now, 0 end return m, f end
-- Takes the TAT as it comes from from_now (Lua passes all of a call's results only when it is the
-- last argument, so the TAT goes last).
local function advance(limit, cost, m, f)
  local total = f + cost * W
  local whole = math.floor(total / limit)
  return m + whole, total - whole * limit
end
local function int(n) return string.format('%d', n) end`;

/**
 * KEYS: 1 state hash, 2 leases
 * ARGV: 1 rpm, 2 tpm, 3 concurrency, 4 daily requests, 5 daily tokens (0: not enforced),
 *       6 estimated tokens, 7 request id, 8 lease ms, 9 retry hint ms for a full concurrency limit
 * Returns {refused limit (0: admitted; 1-5 as LIMIT_NAMES), wait ms (-1: never), UTC day,
 *          requests remaining, requests reset ms, tokens remaining, tokens reset ms}
 */
const DECIDE = `${PRELUDE}
local rpm, tpm, conc, dreq, dtok = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local cost = tonumber(ARGV[6])
local s = redis.call('HMGET', KEYS[1], 'rm', 'rf', 'tm', 'tf', 'd', 'dr', 'dt')
local rm, rf, tm, tf = tonumber(s[1]) or 0, tonumber(s[2]) or 0, tonumber(s[3]) or 0, tonumber(s[4]) or 0
local day = math.floor(now / 86400000)
local dr, dt = 0, 0
if tonumber(s[5]) == day then dr, dt = tonumber(s[6]) or 0, tonumber(s[7]) or 0 end
local midnight = (day + 1) * 86400000 - now
local code, wait = 0, 0
local function refuse(c, w)
  if wait == -1 then return end
  if code == 0 or w == -1 or w > wait then code, wait = c, w end
end
local function wait_for(m, f)
  local over = m - now - W
  if over < 0 or (over == 0 and f == 0) then return 0 end
  if f > 0 then return over + 1 end
  return over
end
local nrm, nrf, ntm, ntf = rm, rf, tm, tf
if rpm > 0 then
  nrm, nrf = advance(rpm, 1, from_now(rm, rf))
  local w = wait_for(nrm, nrf)
  if w > 0 then refuse(1, w) end
end
if tpm > 0 then
  ntm, ntf = advance(tpm, cost, from_now(tm, tf))
  if cost > tpm then refuse(2, -1) else
    local w = wait_for(ntm, ntf)
    if w > 0 then refuse(2, w) end
  end
end
if conc > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
  if redis.call('ZCARD', KEYS[2]) >= conc then refuse(3, tonumber(ARGV[9])) end
end
if dreq > 0 and dr + 1 > dreq then refuse(4, midnight) end
if dtok > 0 and dt + cost > dtok then
  if cost > dtok then refuse(5, -1) else refuse(5, midnight) end
end
if code == 0 then
  rm, rf, tm, tf = nrm, nrf, ntm, ntf
  redis.call('HSET', KEYS[1], 'rm', int(rm), 'rf', int(rf), 'tm', int(tm), 'tf', int(tf))
  local ttl = math.max(rm, tm) - now + 1
  -- Day counts only for enforced quotas, as in memory-store.ts.
  if dreq > 0 or dtok > 0 then
    if dreq > 0 then dr = dr + 1 else dr = 0 end
    if dtok > 0 then dt = dt + cost else dt = 0 end
    redis.call('HSET', KEYS[1], 'd', int(day), 'dr', int(dr), 'dt', int(dt))
    ttl = math.max(ttl, midnight)
  end
  redis.call('PEXPIRE', KEYS[1], math.max(ttl, 1))
  if conc > 0 then
    local lease = tonumber(ARGV[8])
    redis.call('ZADD', KEYS[2], now + lease, ARGV[7])
    if redis.call('PTTL', KEYS[2]) < lease then redis.call('PEXPIRE', KEYS[2], lease) end
  end
end
local function budget(m, f, limit)
  if limit == 0 then return -1, -1 end
  m, f = from_now(m, f)
  local reset = m - now
  if f > 0 then reset = reset + 1 end
  return math.max(0, math.floor(((now + W - m) * limit - f) / W)), reset
end
local rr, rs = budget(rm, rf, rpm)
local tr, ts = budget(tm, tf, tpm)
return {code, wait, day, rr, rs, tr, ts}`;

/**
 * Replaces a reservation with real usage: moves the tokens TAT by the difference (never before
 * now: a refund cannot buy more than a full budget) and, if the day is still the one charged,
 * the day's token count; for a request the gateway did not serve, gives back its day's request.
 * KEYS: 1 state hash
 * ARGV: 1 tpm (0: not enforced), 2 actual minus estimated tokens, 3 the UTC day charged ('': daily
 *       tokens not enforced), 4 the UTC day whose request count to give back ('': none)
 * Returns 1.
 */
const RECONCILE = `${PRELUDE}
local tpm, diff = tonumber(ARGV[1]), tonumber(ARGV[2])
local s = redis.call('HMGET', KEYS[1], 'tm', 'tf', 'd', 'dt', 'dr')
local ttl = redis.call('PTTL', KEYS[1])
if tpm > 0 and diff ~= 0 then
  local m, f = advance(tpm, diff, from_now(tonumber(s[1]) or 0, tonumber(s[2]) or 0))
  if m < now then m, f = now, 0 end
  redis.call('HSET', KEYS[1], 'tm', int(m), 'tf', int(f))
  ttl = math.max(ttl, m - now + 1)
end
local charged = tonumber(s[3])
if ARGV[3] ~= '' and charged == tonumber(ARGV[3]) then redis.call('HSET', KEYS[1], 'dt', int(math.max(0, (tonumber(s[4]) or 0) + diff))) end
if ARGV[4] ~= '' and charged == tonumber(ARGV[4]) then redis.call('HSET', KEYS[1], 'dr', int(math.max(0, (tonumber(s[5]) or 0) - 1))) end
if ttl > 0 then redis.call('PEXPIRE', KEYS[1], ttl) end
return 1`;

const COMMANDS = { floodgateLimitsDecide: DECIDE, floodgateLimitsReconcile: RECONCILE };

type Script = (keys: readonly string[], args: ReadonlyArray<string | number>) => Promise<number[]>;

export interface LimitScripts {
  decide: Script;
  reconcile: Script;
}

/** Registers the scripts on `redis` (once per connection) and returns typed callers. */
export function limitScripts(redis: Redis): LimitScripts {
  for (const [name, lua] of Object.entries(COMMANDS)) redis.defineCommand(name, { lua });
  // defineCommand adds methods ioredis' types cannot know; without numberOfKeys, the first argument is the key count.
  const commands = redis as unknown as Record<keyof typeof COMMANDS, (...args: Array<string | number>) => Promise<number[]>>;
  const run = (name: keyof typeof COMMANDS): Script => (keys, args) => commands[name](keys.length, ...keys, ...args);
  return { decide: run('floodgateLimitsDecide'), reconcile: run('floodgateLimitsReconcile') };
}
