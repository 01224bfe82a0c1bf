"""The Lua scripts of the Redis store, each one atomic step on the server.

Every script touches only the keys in ``KEYS``, except that on standalone Redis (the
index prefix argument non-empty) the write scripts also maintain the per-user index
keys they derive from the session's ``m:u`` field. A script is called by EVALSHA;
``as_eval`` gives the EVAL form to send after a NOSCRIPT reply (a server restart or
SCRIPT FLUSH), and ``noscript`` finds the replies that call for it.

A read of a key that holds another type (``WRONGTYPE``: a string someone else set at a
session's key) is answered with the error as its reply (``wrong_type``), so the plan
treats it as a corrupt record; any other error reply is raised.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from redis.exceptions import NoScriptError, ResponseError

__all__ = [
    "CREATE",
    "DELETE",
    "DELETE_IF_OWNED",
    "INDEX_ADD",
    "REPLACE",
    "TAKE",
    "UPDATE",
    "Command",
    "Script",
    "as_eval",
    "first_key",
    "noscript",
    "wrong_type",
]

Command = tuple[Any, ...]
"""Arguments of one Redis command, as for ``execute_command``."""

_LIB = """
local function hset_all(key, argv, first, last)
  for i = first, last, 200 do
    redis.call('HSET', key, unpack(argv, i, math.min(i + 199, last)))
  end
end
local function hdel_all(key, argv, first, last)
  for i = first, last, 200 do
    redis.call('HDEL', key, unpack(argv, i, math.min(i + 199, last)))
  end
end
local function index_add(index, member, score)
  redis.call('ZREMRANGEBYSCORE', index, '-inf', redis.call('TIME')[1])
  redis.call('ZADD', index, score, member)
  local top = redis.call('ZRANGE', index, -1, -1, 'WITHSCORES')
  redis.call('PEXPIREAT', index, string.format('%.0f', math.ceil(tonumber(top[2]) * 1000)))
end
local function drop(key, index_prefix, member)
  if index_prefix ~= '' then
    local user = redis.call('HGET', key, 'm:u')
    if user then redis.call('ZREM', index_prefix .. user, member) end
  end
  return redis.call('DEL', key)
end
local function live(key, now, revoked)
  local meta = redis.call('HMGET', key, 'm:e', 'm:a', revoked)
  if not meta[1] or not meta[2] or meta[3] then return false end
  now = tonumber(now)
  return now < tonumber(meta[1]) and now < tonumber(meta[2])
end
"""

_BODIES: dict[str, str] = {}


class Script:
    """A Lua script (with the shared helper functions), called by EVALSHA."""

    def __init__(self, body: str) -> None:
        self.body = _LIB + body
        self.sha = hashlib.sha1(self.body.encode(), usedforsecurity=False).hexdigest()
        _BODIES[self.sha] = self.body

    def call(self, keys: Sequence[str], args: Sequence[Any]) -> Command:
        """The EVALSHA command running this script on ``keys`` with ``args``."""
        return ("EVALSHA", self.sha, len(keys), *keys, *args)


_READS = frozenset({"HGETALL", b"HGETALL"})


def wrong_type(command: Command, reply: Any) -> bool:
    """True if ``reply`` says that the key ``command`` reads holds another type (the
    caller takes it as a corrupt record, not as a failure)."""
    return (
        command[0] in _READS
        and isinstance(reply, ResponseError)
        and str(reply).startswith("WRONGTYPE")
    )


def noscript(batch: list[Command], results: list[Any]) -> list[int]:
    """Positions of pipelined scripts to run again by EVAL; raise any other error
    except a read's ``wrong_type`` reply."""
    for command, result in zip(batch, results, strict=True):
        if (
            isinstance(result, Exception)
            and not isinstance(result, NoScriptError)
            and not wrong_type(command, result)
        ):
            raise result
    return [i for i, result in enumerate(results) if isinstance(result, NoScriptError)]


def first_key(command: Command) -> Any:
    """The key a command is routed by on a cluster."""
    return command[3] if command[0] in ("EVALSHA", "EVAL") else command[1]


def as_eval(command: Command) -> Command:
    """The EVAL form of an EVALSHA command (the script's text instead of its hash)."""
    return ("EVAL", _BODIES[command[1]], *command[2:])


# KEYS[1] new session. ARGV: 1 expiry (ms), 2 member, 3 index score, 4 index prefix
# ('' = indexes kept by the caller), 5.. field/value pairs. Returns 1, or 0 if it exists.
CREATE = Script("""
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
hset_all(KEYS[1], ARGV, 5, #ARGV)
if ARGV[4] ~= '' then
  local user = redis.call('HGET', KEYS[1], 'm:u')
  if user then index_add(ARGV[4] .. user, ARGV[2], ARGV[3]) end
end
redis.call('PEXPIREAT', KEYS[1], ARGV[1])
return 1
""")

# Standalone regenerate. KEYS[1] new session, KEYS[2] old session. ARGV: 1 expiry (ms),
# 2 member, 3 index score, 4 index prefix, 5 old member, 6 now, 7 revocation field,
# 8.. field/value pairs. Returns 1; or 0, changing nothing, if the old session is not
# live at ARGV[6] (gone, past a deadline or revoked) or the new one exists.
REPLACE = Script("""
if not live(KEYS[2], ARGV[6], ARGV[7]) then return 0 end
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
drop(KEYS[2], ARGV[4], ARGV[5])
hset_all(KEYS[1], ARGV, 8, #ARGV)
local user = redis.call('HGET', KEYS[1], 'm:u')
if user then index_add(ARGV[4] .. user, ARGV[2], ARGV[3]) end
redis.call('PEXPIREAT', KEYS[1], ARGV[1])
return 1
""")

# Cluster regenerate, first step. KEYS[1] old session. ARGV: 1 now, 2 revocation field.
# Deletes the session and returns 1 if it is live at ARGV[1]; else 0, changing nothing.
TAKE = Script("""
if not live(KEYS[1], ARGV[1], ARGV[2]) then return 0 end
redis.call('DEL', KEYS[1])
return 1
""")

# KEYS[1] session. ARGV: 1 expiry (ms), 2 member, 3 index prefix ('' = indexes kept by
# the caller), 4 user change ('' none, '-' unbind, '=' bind to ARGV[5]), 5 user,
# 6 number n of set elements, 7..6+n field/value pairs, then fields to delete.
# Returns 1, or 0 (and changes nothing) if the session is gone.
UPDATE = Script("""
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local n = 6 + tonumber(ARGV[6])
hset_all(KEYS[1], ARGV, 7, n)
hdel_all(KEYS[1], ARGV, n + 1, #ARGV)
if ARGV[4] ~= '' then
  local old = redis.call('HGET', KEYS[1], 'm:u')
  local new = nil
  if ARGV[4] == '=' then
    new = ARGV[5]
    redis.call('HSET', KEYS[1], 'm:u', new)
  else
    redis.call('HDEL', KEYS[1], 'm:u')
  end
  if ARGV[3] ~= '' and old ~= new then
    if old then redis.call('ZREM', ARGV[3] .. old, ARGV[2]) end
    if new then index_add(ARGV[3] .. new, ARGV[2], redis.call('HGET', KEYS[1], 'm:a')) end
  end
end
redis.call('PEXPIREAT', KEYS[1], ARGV[1])
return 1
""")

# KEYS[1] session. ARGV: 1 index prefix, 2 member.
DELETE = Script("return drop(KEYS[1], ARGV[1], ARGV[2])")

# KEYS[1] session. ARGV: 1 user. Returns 1 deleted, 0 gone, -1 another user's session.
DELETE_IF_OWNED = Script("""
local user = redis.call('HGET', KEYS[1], 'm:u')
if user == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
if user or redis.call('EXISTS', KEYS[1]) == 1 then return -1 end
return 0
""")

# KEYS[1] index. ARGV: 1 member, 2 score.
INDEX_ADD = Script("index_add(KEYS[1], ARGV[1], ARGV[2]) return 1")
