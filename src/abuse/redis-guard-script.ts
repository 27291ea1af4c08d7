// The GuardStore's start check as one Lua script, so a start costs one Redis round trip and its
// checks and counts are atomic across replicas. The same steps as MemoryGuardStore.admit and
// guard-judgement.ts: check everything, then count only when every check passed.
// KEYS: none (the keys derive from ARGV[1], this deployment's REDIS_KEY_PREFIX). ARGV[2]: the query.
export const ADMIT_SCRIPT = `
local p = ARGV[1]
local q = cjson.decode(ARGV[2])
local now = q.now
local result = { newBlocks = {}, wouldRefuse = false }
local function refuse(reason, ms)
  result.refused = reason
  result.retryAfterMs = ms
  return cjson.encode(result)
end
if q.resend then
  local ttl = redis.call('PTTL', p .. 'resend:' .. q.resend.key)
  if ttl > 0 then return refuse('resend_interval', ttl) end
end
if q.prefixLimit then
  local key = p .. 'prefix:' .. q.prefixLimit.key
  local count = tonumber(redis.call('GET', key) or '0')
  if count >= q.prefixLimit.max then return refuse('prefix_limit', math.max(redis.call('PTTL', key), 1)) end
end
local g = q.guard
if g then
  local first = math.floor((now - g.windowMs) / g.bucketMs)
  local lastJudged = math.floor((now - g.graceMs) / g.bucketMs) - 1
  local current = math.floor(now / g.bucketMs)
  local keep = g.windowMs + g.graceMs + 2 * g.bucketMs
  local blockNs = g.enforce and 'block:' or 'would-block:'
  local vouched = false
  local refusedFor = nil
  local extraStarts, extraApprovals = {}, {}
  for i, level in ipairs(g.levels) do
    local key = p .. 'fg:' .. level.prefix
    local fields = redis.call('HGETALL', key)
    local s, a, ts, ta, xs, xa = 0, 0, 0, 0, extraStarts[i] or 0, extraApprovals[i] or 0
    local stale = {}
    for j = 1, #fields, 2 do
      local kind = string.sub(fields[j], 1, 1)
      local bucket = tonumber(string.sub(fields[j], 2))
      local n = tonumber(fields[j + 1])
      if bucket < first then
        stale[#stale + 1] = fields[j]
      elseif kind == 's' then
        ts = ts + n
        if bucket <= lastJudged then s = s + n end
      elseif kind == 'a' then
        ta = ta + n
        if bucket <= lastJudged then a = a + n end
      elseif kind == 'x' then xs = xs + n
      elseif kind == 'y' then xa = xa + n
      end
    end
    if #stale > 0 then redis.call('HDEL', key, unpack(stale)) end
    s = math.max(0, s - xs); a = math.max(0, a - xa); ts = math.max(0, ts - xs); ta = math.max(0, ta - xa)
    local left = redis.call('PTTL', p .. blockNs .. level.prefix)
    if left <= 0 and s >= level.minStarts and a < g.minConversion * s then
      local block = { prefix = level.prefix, blockedAt = now, ["until"] = now + g.blockMs, starts = s, approvals = a }
      redis.call('SET', p .. blockNs .. level.prefix, cjson.encode(block), 'PX', g.blockMs)
      if g.enforce then redis.call('ZADD', p .. 'blocks', now + g.blockMs, level.prefix) end
      result.newBlocks[#result.newBlocks + 1] = block
      left = g.blockMs
      for k = i + 1, #g.levels do
        local wider = p .. 'fg:' .. g.levels[k].prefix
        if ts > 0 then redis.call('HINCRBY', wider, 'x' .. current, ts) end
        if ta > 0 then redis.call('HINCRBY', wider, 'y' .. current, ta) end
        redis.call('PEXPIRE', wider, keep)
        extraStarts[k] = (extraStarts[k] or 0) + ts
        extraApprovals[k] = (extraApprovals[k] or 0) + ta
      end
    end
    if left > 0 and not vouched then refusedFor = math.max(refusedFor or 0, left) end
    if a >= 1 and a >= g.minConversion * s then vouched = true end
  end
  if refusedFor then
    if g.enforce then return refuse('fraud_guard', refusedFor) end
    result.wouldRefuse = true
  end
end
if q.budget then
  local count = tonumber(redis.call('GET', p .. 'budget') or '0')
  if count >= q.budget.max then return refuse('budget', math.max(redis.call('PTTL', p .. 'budget'), 1)) end
end
if q.resend then redis.call('SET', p .. 'resend:' .. q.resend.key, '1', 'PX', q.resend.intervalMs) end
if q.prefixLimit then
  local key = p .. 'prefix:' .. q.prefixLimit.key
  if redis.call('INCR', key) == 1 then redis.call('PEXPIRE', key, q.prefixLimit.windowMs) end
end
if q.budget then
  if redis.call('INCR', p .. 'budget') == 1 then redis.call('PEXPIRE', p .. 'budget', q.budget.windowMs) end
end
if g then
  local bucket = 's' .. math.floor(now / g.bucketMs)
  local keep = g.windowMs + g.graceMs + 2 * g.bucketMs
  for _, level in ipairs(g.levels) do
    local key = p .. 'fg:' .. level.prefix
    redis.call('HINCRBY', key, bucket, 1)
    redis.call('PEXPIRE', key, keep)
  end
end
return cjson.encode(result)
`;

/** ARGV[1] key prefix, ARGV[2] keep ms, then triples: destination prefix, bucket field ("a<n>"), count. */
export const APPROVE_SCRIPT = `
for i = 3, #ARGV, 3 do
  local key = ARGV[1] .. 'fg:' .. ARGV[i]
  redis.call('HINCRBY', key, ARGV[i + 1], tonumber(ARGV[i + 2]))
  if redis.call('PTTL', key) < tonumber(ARGV[2]) then redis.call('PEXPIRE', key, ARGV[2]) end
end
return 1
`;

/** ARGV[1] prefix, ARGV[2] the prefix to lift: the block's JSON, or false when there was none. */
export const LIFT_SCRIPT = `
local block = redis.call('GET', ARGV[1] .. 'block:' .. ARGV[2])
redis.call('DEL', ARGV[1] .. 'block:' .. ARGV[2], ARGV[1] .. 'would-block:' .. ARGV[2], ARGV[1] .. 'fg:' .. ARGV[2])
redis.call('ZREM', ARGV[1] .. 'blocks', ARGV[2])
return block
`;
