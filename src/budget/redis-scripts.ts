// The shared budgets' atomic steps, each one Lua script run by EVALSHA (ioredis defineCommand),
// so nodes racing for one deployment never let out one call too many. Time comes from the server
// (TIME): every node spends on one clock. The arithmetic is gcra.ts's, line for line.
//
// Key layout (one deployment; the braces keep both keys in one Redis Cluster slot):
//   P:{deployment}     hash: h (no call before, ms), rt / tt (configured requests / tokens TAT),
//                      lri lrc lrt and lti ltc ltt (the upstream's last report as inc, cap, TAT).
//                      Expires a minute after its last TAT or hold has passed.
//   P:{deployment}:c   sorted set of calls in flight, scored by lease expiry (ms): a node that
//                      died mid-call frees its slots when their leases end.
import type { Redis } from 'ioredis';

const PRELUDE = `
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + tonumber(clock[2]) / 1000
local EPSILON = 0.001
local function num(x) return string.format('%.3f', x) end
local function ready_in(tat, inc, cap, units)
  local level = math.max(0, tat - now)
  if level <= EPSILON then return 0 end
  local need = units * inc
  if level + need <= cap + EPSILON then return 0 end
  if need <= cap then return level + need - cap end
  return level
end
local function charge(tat, inc, units) return math.max(tat, now) + units * inc end
local function expire(key, s)
  local horizon = now
  for _, field in ipairs(s) do horizon = math.max(horizon, tonumber(field) or 0) end
  redis.call('PEXPIRE', key, math.ceil(horizon - now) + 60000)
end`;

/**
 * KEYS: 1 state hash, 2 leases
 * ARGV: 1 tokens, 2 requests inc (0: not configured), 3 requests cap, 4 tokens inc (0: not
 *       configured), 5 tokens cap, 6 max concurrency (0: none), 7 lease id, 8 lease ms,
 *       9 retry hint ms for a full concurrency cap
 * Returns {1} taken, or {0, wait ms, reason} with reason hold | requests | tokens | concurrency.
 */
const TAKE = `${PRELUDE}
local s = redis.call('HMGET', KEYS[1], 'h', 'rt', 'tt', 'lri', 'lrc', 'lrt', 'lti', 'ltc', 'ltt')
local hold = tonumber(s[1]) or 0
if hold > now then return {0, math.ceil(hold - now), 'hold'} end
local tokens = tonumber(ARGV[1])
local ri, rc, ti, tc = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local rt, tt = tonumber(s[2]) or 0, tonumber(s[3]) or 0
local lri, lrc, lrt = tonumber(s[4]), tonumber(s[5]), tonumber(s[6])
local lti, ltc, ltt = tonumber(s[7]), tonumber(s[8]), tonumber(s[9])
local wait, reason = 0, 'requests'
local function check(tat, inc, cap, units, why)
  local w = ready_in(tat, inc, cap, units)
  if w > wait then wait, reason = w, why end
end
if ri > 0 then check(rt, ri, rc, 1, 'requests') end
if ti > 0 then check(tt, ti, tc, tokens, 'tokens') end
if lri then check(lrt, lri, lrc, 1, 'requests') end
if lti then check(ltt, lti, ltc, tokens, 'tokens') end
if wait > 0 then return {0, math.ceil(wait), reason} end
local conc = tonumber(ARGV[6])
if conc > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
  if redis.call('ZCARD', KEYS[2]) >= conc then return {0, tonumber(ARGV[9]), 'concurrency'} end
  local lease = tonumber(ARGV[8])
  redis.call('ZADD', KEYS[2], num(now + lease), ARGV[7])
  if redis.call('PTTL', KEYS[2]) < lease then redis.call('PEXPIRE', KEYS[2], lease) end
end
if ri > 0 then rt = charge(rt, ri, 1) end
if ti > 0 then tt = charge(tt, ti, tokens) end
redis.call('HSET', KEYS[1], 'rt', num(rt), 'tt', num(tt))
if lri then
  lrt = charge(lrt, lri, 1)
  redis.call('HSET', KEYS[1], 'lrt', num(lrt))
end
if lti then
  ltt = charge(ltt, lti, tokens)
  redis.call('HSET', KEYS[1], 'ltt', num(ltt))
end
expire(KEYS[1], {hold, rt, tt, lrt or 0, ltt or 0})
return {1}`;

/**
 * KEYS: 1 state hash, 2 leases
 * ARGV: 1 real minus charged tokens, 2 tokens inc (0: not configured), 3 lease id ('' for none)
 * Returns 1.
 */
const SETTLE = `${PRELUDE}
local delta, inc = tonumber(ARGV[1]), tonumber(ARGV[2])
if inc > 0 and delta ~= 0 and redis.call('EXISTS', KEYS[1]) == 1 then
  local tt = charge(tonumber(redis.call('HGET', KEYS[1], 'tt')) or 0, inc, delta)
  redis.call('HSET', KEYS[1], 'tt', num(tt))
  expire(KEYS[1], redis.call('HMGET', KEYS[1], 'h', 'rt', 'tt', 'lrt', 'ltt'))
end
if ARGV[3] ~= '' then redis.call('ZREM', KEYS[2], ARGV[3]) end
return 1`;

/**
 * An upstream's report replaces what was known of its budget; without a limit, an empty budget
 * holds every call until its reset.
 * KEYS: 1 state hash
 * ARGV: 1-3 requests remaining, reset ms, limit; 4-6 the same for tokens ('' where not reported)
 * Returns 1.
 */
const OBSERVE = `${PRELUDE}
local function learn(offset, prefix)
  local remaining, reset, limit = tonumber(ARGV[offset]), tonumber(ARGV[offset + 1]), tonumber(ARGV[offset + 2])
  if remaining == nil or reset == nil then return end
  if limit == nil then
    if remaining <= 0 and reset > 0 then
      local hold = math.max(tonumber(redis.call('HGET', KEYS[1], 'h')) or 0, now + reset)
      redis.call('HSET', KEYS[1], 'h', num(hold))
    end
    return
  end
  if limit > remaining and reset > 0 and remaining >= 0 then
    local inc = reset / (limit - remaining)
    redis.call('HSET', KEYS[1], prefix .. 'i', num(inc), prefix .. 'c', num(limit * inc), prefix .. 't', num(now + reset))
  else
    redis.call('HDEL', KEYS[1], prefix .. 'i', prefix .. 'c', prefix .. 't')
  end
end
learn(1, 'lr')
learn(4, 'lt')
expire(KEYS[1], redis.call('HMGET', KEYS[1], 'h', 'rt', 'tt', 'lrt', 'ltt'))
return 1`;

/**
 * KEYS: 1 state hash
 * ARGV: 1 ms no call may go out for
 * Returns 1.
 */
const HOLD = `${PRELUDE}
local hold = math.max(tonumber(redis.call('HGET', KEYS[1], 'h')) or 0, now + tonumber(ARGV[1]))
redis.call('HSET', KEYS[1], 'h', num(hold))
expire(KEYS[1], redis.call('HMGET', KEYS[1], 'h', 'rt', 'tt', 'lrt', 'ltt'))
return 1`;

const COMMANDS = { floodgateBudgetTake: TAKE, floodgateBudgetSettle: SETTLE, floodgateBudgetObserve: OBSERVE, floodgateBudgetHold: HOLD };

type Script = (keys: readonly string[], args: ReadonlyArray<string | number>) => Promise<unknown>;

export interface BudgetScripts {
  take: Script;
  settle: Script;
  observe: Script;
  hold: Script;
}

/** Registers the scripts on `redis` (once per connection) and returns typed callers. */
export function budgetScripts(redis: Redis): BudgetScripts {
  for (const [name, lua] of Object.entries(COMMANDS)) redis.defineCommand(name, { lua });
  // defineCommand adds methods ioredis' types cannot know; without numberOfKeys, the first argument is the key count.
  const commands = redis as unknown as Record<keyof typeof COMMANDS, (...args: Array<string | number>) => Promise<unknown>>;
  const run = (name: keyof typeof COMMANDS): Script => (keys, args) => commands[name](keys.length, ...keys, ...args);
  return { take: run('floodgateBudgetTake'), settle: run('floodgateBudgetSettle'), observe: run('floodgateBudgetObserve'), hold: run('floodgateBudgetHold') };
}
