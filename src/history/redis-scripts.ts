// The scale-out history's atomic steps, each one Lua script (run by EVALSHA through ioredis'
// defineCommand), so a write is either wholly in the stream and the pending indexes or not at all,
// and two nodes appending to one conversation never take the same seq. Key layout: redis-keys.ts.
// Times come from the server (TIME), so every node stamps rows from one clock. Row JSON is built
// by concatenation around the caller's JSON, never re-encoded in Lua (cjson would round numbers
// and turn empty arrays into objects).
import type { Redis } from 'ioredis';

const NOW = `
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local stamp = string.format('%d', now)`;

/**
 * A new conversation and its first items.
 * KEYS: 1 stream, 2 state, 3 conversation row, 4 owner index, 5 items (zset), 6 item rows (hash)
 * ARGV: 1 max pending, 2 state ttl ms, 3 owner, 4 conversation id, 5 its JSON without times,
 *       then per item: id, JSON without seq and time
 * Returns {'OK', createdAt, stream length} or {'BACKLOG', stream length}.
 */
const CREATE = `
local n = (#ARGV - 5) / 2
local length = redis.call('XLEN', KEYS[1])
if length + 1 + n > tonumber(ARGV[1]) then return {'BACKLOG', length} end
${NOW}
local conversation = '{"createdAt":' .. stamp .. ',"updatedAt":' .. stamp .. ',' .. string.sub(ARGV[5], 2)
redis.call('XADD', KEYS[1], '*', 'k', 'conversation', 'd', conversation)
redis.call('SET', KEYS[3], conversation)
redis.call('ZADD', KEYS[4], 0, string.format('%016d', now) .. ':' .. ARGV[4])
for i = 1, n do
  local row = '{"seq":' .. i .. ',"createdAt":' .. stamp .. ',' .. string.sub(ARGV[5 + 2 * i], 2)
  redis.call('XADD', KEYS[1], '*', 'k', 'item', 'd', row)
  redis.call('ZADD', KEYS[5], i, ARGV[4 + 2 * i])
  redis.call('HSET', KEYS[6], ARGV[4 + 2 * i], row)
end
redis.call('HSET', KEYS[2], 'owner', ARGV[3], 'seq', n)
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return {'OK', now, length + 1 + n}`;

/**
 * Items after a conversation's last, with the next seqs.
 * KEYS: 1 stream, 2 state, 3 items (zset), 4 item rows (hash)
 * ARGV: 1 max pending, 2 state ttl ms, 3 owner, 4 the database's max seq ('' if not read),
 *       then per item: id, JSON without seq and time
 * Returns {'OK', first seq, createdAt, stream length}, {'BACKLOG', stream length}, {'NOTFOUND'},
 * or {'UNKNOWN'}: no state, so read the conversation from the database and call again with ARGV 4.
 */
const APPEND = `
local n = (#ARGV - 4) / 2
local state = redis.call('HMGET', KEYS[2], 'owner', 'seq', 'deleted')
if state[3] then return {'NOTFOUND'} end
local owner, seq = state[1], tonumber(state[2]) or 0
if owner and owner ~= ARGV[3] then return {'NOTFOUND'} end
if not owner then
  if ARGV[4] == '' then return {'UNKNOWN'} end
  -- The state expired while items were still pending: they are not in the database's max.
  local top = redis.call('ZRANGE', KEYS[3], -1, -1, 'WITHSCORES')
  seq = math.max(seq, tonumber(ARGV[4]), tonumber(top[2] or 0))
end
local length = redis.call('XLEN', KEYS[1])
if length + n > tonumber(ARGV[1]) then return {'BACKLOG', length} end
${NOW}
for i = 1, n do
  local s = seq + i
  local row = '{"seq":' .. s .. ',"createdAt":' .. stamp .. ',' .. string.sub(ARGV[4 + 2 * i], 2)
  redis.call('XADD', KEYS[1], '*', 'k', 'item', 'd', row)
  redis.call('ZADD', KEYS[3], s, ARGV[3 + 2 * i])
  redis.call('HSET', KEYS[4], ARGV[3 + 2 * i], row)
end
redis.call('HSET', KEYS[2], 'owner', ARGV[3], 'seq', seq + n)
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return {'OK', seq + 1, now, length + n}`;

/**
 * One row that needs the stream only (usage) or the stream and a key to read it by (a response).
 * KEYS: 1 stream, 2 (optional) the key holding the row while pending
 * ARGV: 1 max pending, 2 kind, 3 the row's JSON
 * Returns {'OK', stream length} or {'BACKLOG', stream length}.
 */
const ENTRY = `
local length = redis.call('XLEN', KEYS[1])
if length + 1 > tonumber(ARGV[1]) then return {'BACKLOG', length} end
redis.call('XADD', KEYS[1], '*', 'k', ARGV[2], 'd', ARGV[3])
if KEYS[2] then redis.call('SET', KEYS[2], ARGV[3]) end
return {'OK', length + 1}`;

/**
 * Rows are in the database (a flusher committed them, or a change wrote them early): acknowledge
 * and delete their stream entries, if any, and drop them from the pending indexes, in one step.
 * KEYS: 1 stream, then the keys the operations name
 * ARGV: 1 group, 2 state ttl ms, 3 number of entry ids, the ids, then triples (operation, index
 *       into KEYS, argument): del; zrem member; hdel field; raise seq; deleted
 * Returns the stream's length.
 * Why raise: an append that finds no state reads max(seq) from the database, then takes the
 * larger of that and the highest pending seq. An item committed and dropped from the pending set
 * in between would be counted by neither; raising the state's seq in the same step as the drop
 * means such an append finds a state and never reuses the seq.
 */
const SETTLE = `
local ids = tonumber(ARGV[3])
for first = 4, 3 + ids, 1000 do
  local last = math.min(first + 999, 3 + ids)
  redis.call('XACK', KEYS[1], ARGV[1], unpack(ARGV, first, last))
  redis.call('XDEL', KEYS[1], unpack(ARGV, first, last))
end
for i = 4 + ids, #ARGV, 3 do
  local op, key, arg = ARGV[i], KEYS[tonumber(ARGV[i + 1])], ARGV[i + 2]
  if op == 'del' then redis.call('DEL', key)
  elseif op == 'zrem' then redis.call('ZREM', key, arg)
  elseif op == 'hdel' then redis.call('HDEL', key, arg)
  elseif op == 'raise' then
    if (tonumber(redis.call('HGET', key, 'seq')) or 0) < tonumber(arg) then redis.call('HSET', key, 'seq', arg) end
    redis.call('PEXPIRE', key, ARGV[2])
  elseif op == 'deleted' then
    redis.call('HSET', key, 'deleted', '1')
    redis.call('PEXPIRE', key, ARGV[2])
  end
end
return redis.call('XLEN', KEYS[1])`;

const COMMANDS = { floodgateHistoryCreate: CREATE, floodgateHistoryAppend: APPEND, floodgateHistoryEntry: ENTRY, floodgateHistorySettle: SETTLE };

export type ScriptArgs = ReadonlyArray<string | number>;
export type ScriptReply = Array<string | number>;
type Script = (keys: readonly string[], args: ScriptArgs) => Promise<ScriptReply>;

export interface HistoryScripts {
  create: Script;
  append: Script;
  entry: Script;
  settle: (keys: readonly string[], args: ScriptArgs) => Promise<number>;
}

/** Registers the scripts on `redis` (once per connection) and returns typed callers. */
export function historyScripts(redis: Redis): HistoryScripts {
  for (const [name, lua] of Object.entries(COMMANDS)) redis.defineCommand(name, { lua });
  // defineCommand adds methods ioredis' types cannot know; without numberOfKeys, the first argument is the key count.
  const commands = redis as unknown as Record<keyof typeof COMMANDS, (...args: Array<string | number>) => Promise<unknown>>;
  const run = (name: keyof typeof COMMANDS) => (keys: readonly string[], args: ScriptArgs) => commands[name](keys.length, ...keys, ...args);
  return {
    create: run('floodgateHistoryCreate') as Script,
    append: run('floodgateHistoryAppend') as Script,
    entry: run('floodgateHistoryEntry') as Script,
    settle: run('floodgateHistorySettle') as HistoryScripts['settle'],
  };
}
