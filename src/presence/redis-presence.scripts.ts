import type Redis from 'ioredis';
import type { Result } from 'ioredis';

/**
 * Renews a session's lease: its hash, its place in the user's sessions, the online users and all
 * sessions, with their expiries. One command per session instead of six: both ends parse one
 * reply, which at tens of thousands of sessions is most of what a flush costs.
 * KEYS: session hash, user's sessions, online users, all sessions.
 * ARGV: expires at, last seen at, member in the user's sessions, user id, session id, pings,
 * the members to replace (newline-separated, '' if none: the member holds the app state, so a
 * change replaces it; a JSON member holds no newline),
 * then, for a full write, all the hash's field/value pairs. A renewal without them only updates
 * what changes; if the hash is gone (lease lapsed, Redis restarted) it writes nothing and returns
 * 0, and the session is written in full on the next flush.
 */
const RENEW_LEASE_SCRIPT = `
if #ARGV > 7 then
  redis.call('HSET', KEYS[1], unpack(ARGV, 8))
elseif redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
else
  redis.call('HSET', KEYS[1], 'lastSeenAt', ARGV[2], 'pings', ARGV[6])
end
redis.call('PEXPIREAT', KEYS[1], ARGV[1])
for member in string.gmatch(ARGV[7], '[^\\n]+') do redis.call('ZREM', KEYS[2], member) end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
-- The user's index outlives its longest lease: a late renewal must not shorten it.
local now = redis.call('TIME')
local ttl = redis.call('PTTL', KEYS[2])
if ttl < 0 or now[1] * 1000 + math.floor(now[2] / 1000) + ttl < tonumber(ARGV[1]) then
  redis.call('PEXPIREAT', KEYS[2], ARGV[1])
end
redis.call('ZADD', KEYS[3], 'GT', ARGV[2], ARGV[4])
redis.call('ZADD', KEYS[4], ARGV[2], ARGV[5])
return 1`;

/**
 * Removes an ended session and keeps the user's entry in the online index truthful: its score
 * drops to the user's freshest remaining session, or the user leaves the index. Atomic, so two
 * instances ending a user's last two sessions at once cannot leave the user looking online.
 * KEYS: session hash, user's sessions, all sessions, online users. ARGV: session id, user id,
 * the session's member in the user's sessions, and the members it had before app state changes
 * not yet written (newline-separated; '' if none).
 */
const END_LEASE_SCRIPT = `
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[3])
for member in string.gmatch(ARGV[4], '[^\\n]+') do redis.call('ZREM', KEYS[2], member) end
redis.call('ZREM', KEYS[3], ARGV[1])
local freshest = redis.call('ZREVRANGE', KEYS[2], 0, 0, 'WITHSCORES')
if #freshest == 0 then
  redis.call('ZREM', KEYS[4], ARGV[2])
else
  redis.call('ZADD', KEYS[4], freshest[2], ARGV[2])
end
return 1`;

// The scripts' arguments in their order, so that the compiler checks each call against them.
declare module 'ioredis' {
  interface RedisCommander<Context> {
    /** RENEW_LEASE_SCRIPT: 1 once renewed, 0 when a partial renewal found the hash gone. */
    renewPresenceLease(
      sessionKey: string,
      userKey: string,
      usersKey: string,
      sessionsKey: string,
      expiresAt: number,
      lastSeenAt: number,
      member: string,
      userId: string,
      sessionId: string,
      pings: number,
      replacedMembers: string,
      ...hashFields: (string | number)[]
    ): Result<number, Context>;
    /** END_LEASE_SCRIPT. */
    endPresenceLease(
      sessionKey: string,
      userKey: string,
      sessionsKey: string,
      usersKey: string,
      sessionId: string,
      userId: string,
      member: string,
      replacedMembers: string,
    ): Result<number, Context>;
  }
}

/**
 * Defines the lease commands on a connection: sent as EVALSHA, the scripts loaded by ioredis on
 * first use (and again after a Redis restart).
 */
export function defineLeaseScripts(redis: Redis): void {
  redis.defineCommand('renewPresenceLease', { numberOfKeys: 4, lua: RENEW_LEASE_SCRIPT });
  redis.defineCommand('endPresenceLease', { numberOfKeys: 4, lua: END_LEASE_SCRIPT });
}
