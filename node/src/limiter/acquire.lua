-- One transaction for a connection, against its budget and its Stripe account's budget, atomically.
-- Hand-written rather than a crate or redis-cell: it must run inside Redis, in one script with the
-- live-node count and both buckets (docs/limiter.md).
-- KEYS[1] connection GCRA state (theoretical arrival time, microseconds of Redis's clock)
-- KEYS[2] connection recent admits (list of admit times, newest first)
-- KEYS[3] connection live nodes (sorted set: node id -> heartbeat expiry, microseconds)
-- KEYS[4] account GCRA state
-- KEYS[5] account recent admits
-- ARGV[1] transactions per second per live node
-- ARGV[2] account transactions per second (0: no account budget)
-- ARGV[3] least burst tolerance, microseconds (absorbs jitter at high rates)
-- Returns {admitted 1|0, retry_after_us, refused_by (0 none, 1 connection, 2 account),
--          live_nodes, capacity_tps, now_us}.

-- Redis < 5 must be told to replicate effects, because TIME is non-deterministic; 5+ always does.
if redis.replicate_commands then redis.replicate_commands() end

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local second = 1000000

redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
local nodes = redis.call('ZCARD', KEYS[3])
-- The caller is alive even if its heartbeat has not landed yet (e.g. just after a Redis restart).
if nodes < 1 then nodes = 1 end
local capacity = tonumber(ARGV[1]) * nodes
local account_tps = tonumber(ARGV[2])
local least_tolerance = tonumber(ARGV[3])

-- A budget of `rate` per second. GCRA spaces requests: one conforms while the theoretical
-- arrival time is at most the tolerance ahead of now (the tolerance is one emission interval, or
-- the least tolerance if that is longer). The tolerance absorbs arrival jitter but would let
-- `rate` + 1 through in the second after an idle spell, 17% over at 6 TPS. So the budget also
-- refuses while its `rate`-th most recent admit is less than a second old, give or take the least
-- tolerance: a window exactly one second long would turn on sub-millisecond network jitter
-- between two requests a second apart, and lose slots whenever the later one is a little faster.
-- Returns the wait (0 when it conforms) and the new theoretical arrival time.
local function check(state_key, recent_key, rate)
  local interval = second / rate
  local tolerance = math.max(interval, least_tolerance)
  local tat = tonumber(redis.call('GET', state_key)) or now
  if tat < now then tat = now end
  local wait = tat - tolerance - now
  local oldest = tonumber(redis.call('LINDEX', recent_key, rate - 1))
  if oldest then wait = math.max(wait, oldest + second - least_tolerance - now) end
  if wait > 0 then return wait, tat end
  return 0, tat + interval
end

local function store(state_key, recent_key, rate, tat)
  -- The state is worthless once the bucket is full again: let Redis drop it then.
  redis.call('SET', state_key, string.format('%.0f', tat), 'PX', math.floor((tat - now) / 1000) + 1)
  redis.call('LPUSH', recent_key, string.format('%.0f', now))
  redis.call('LTRIM', recent_key, 0, rate - 1)
  redis.call('PEXPIRE', recent_key, 1001)
end

local conn_wait, conn_tat = check(KEYS[1], KEYS[2], capacity)
local acct_wait, acct_tat = 0, 0
if account_tps > 0 then acct_wait, acct_tat = check(KEYS[4], KEYS[5], account_tps) end

if conn_wait > 0 or acct_wait > 0 then
  local refused_by = 1
  if conn_wait <= 0 then refused_by = 2 end
  return {0, math.ceil(math.max(conn_wait, acct_wait)), refused_by, nodes, capacity, now}
end

store(KEYS[1], KEYS[2], capacity, conn_tat)
if account_tps > 0 then store(KEYS[4], KEYS[5], account_tps, acct_tat) end
return {1, 0, 0, nodes, capacity, now}
