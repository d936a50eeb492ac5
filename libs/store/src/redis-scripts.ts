// The Lua scripts RedisStore runs, so that check-and-count is one atomic step however many
// replicas share the Redis. They apply the rules of rate-window.ts (decideAdmission /
// decideReservation) to a window hash {req, tok}; each returns {allowed, req, tok}.
export const ADMIT_REQUEST_LUA = `
local r = tonumber(redis.call('HGET', KEYS[1], 'req') or '0')
local t = tonumber(redis.call('HGET', KEYS[1], 'tok') or '0')
local rpm = tonumber(ARGV[1])
local tpm = tonumber(ARGV[2])
if (rpm > 0 and r >= rpm) or (tpm > 0 and t >= tpm) then return {0, r, t} end
r = redis.call('HINCRBY', KEYS[1], 'req', 1)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return {1, r, t}
`;

export const RESERVE_TOKENS_LUA = `
local r = tonumber(redis.call('HGET', KEYS[1], 'req') or '0')
local t = tonumber(redis.call('HGET', KEYS[1], 'tok') or '0')
local tpm = tonumber(ARGV[1])
local n = tonumber(ARGV[2])
if tpm > 0 and t + n > tpm then return {0, r, t} end
t = redis.call('HINCRBY', KEYS[1], 'tok', n)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return {1, r, t}
`;

/** A correction never recreates a window that expired (it would live without its TTL). */
export const ADJUST_TOKENS_LUA = `
if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('HINCRBY', KEYS[1], 'tok', ARGV[1]) end
return 0
`;

/** last used, on a key that still exists (a revoke racing it must not leave a half record). */
export const TOUCH_API_KEY_LUA = `
if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('HSET', KEYS[1], 'lastUsedAtMs', ARGV[1]) end
return 0
`;
