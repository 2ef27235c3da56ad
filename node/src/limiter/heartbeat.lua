-- Marks a node live for a while, by Redis's clock, in its connection's and its Stripe account's
-- live-node sets, and counts both.
-- KEYS[1] connection live nodes (sorted set: node id -> expiry, microseconds)
-- KEYS[2] account live nodes (sorted set: connection/node id -> expiry, microseconds)
-- ARGV[1] node id, ARGV[2] time to live in milliseconds, ARGV[3] this node's member in KEYS[2]
-- Returns {connection live nodes, account live nodes}.
if redis.replicate_commands then redis.replicate_commands() end

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local ttl_ms = tonumber(ARGV[2])

local function renew(key, member)
  redis.call('ZADD', key, now + ttl_ms * 1000, member)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  -- An abandoned set goes away by itself.
  redis.call('PEXPIRE', key, ttl_ms * 2)
  return redis.call('ZCARD', key)
end

return {renew(KEYS[1], ARGV[1]), renew(KEYS[2], ARGV[3])}
