-- Marks a node live for a while, by Redis's clock, and counts the connection's live nodes.
-- KEYS[1] connection live nodes (sorted set: node id -> expiry, microseconds)
-- ARGV[1] node id, ARGV[2] time to live in milliseconds
-- Returns the number of live nodes.
if redis.replicate_commands then redis.replicate_commands() end

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local ttl_ms = tonumber(ARGV[2])

redis.call('ZADD', KEYS[1], now + ttl_ms * 1000, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
-- An abandoned connection's set goes away by itself.
redis.call('PEXPIRE', KEYS[1], ttl_ms * 2)
return redis.call('ZCARD', KEYS[1])
