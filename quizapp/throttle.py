"""Sign-in throttling and the per-address budget for the /auth/ forms: no account can be locked by
someone else, and guessing is slow.

- Failures are counted per (account name, client address): after `free_failures` (5) misses from one
  address, the next attempt for that name from that address must wait 1, 2, 4 ... seconds after the
  last miss, up to `max_delay`. The owner signing in from another address is not slowed.
- Failures are also counted per address, whatever the name: after `address_free_failures` (50) the
  same growing delay applies to every name tried from that address.
- Every sign-in and sign-up post spends one unit of the address's budget (`budget` per `window`
  seconds, per form); past it the form answers 429 with Retry-After.
A throttled attempt is answered before any password hashing and does not count as a failure. A
success clears the (name, address) count; failures are forgotten `forget_after` seconds after the
last. Unknown names are throttled exactly as real ones, so a delay tells nothing about who exists.

State lives in memory (one server process) or, when QUIZAPP_REDIS_URL is set, in Redis (shared by
every process, and cleared by `quizapp user unlock` from the command line). The clock is injectable.
"""

import functools
import logging
import math
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

_PREFIX = "quizapp:throttle:"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limits:
    free_failures: int = 5
    max_delay: float = 900.0
    address_free_failures: int = 50
    forget_after: float = 3600.0
    budget: int = 30
    window: float = 60.0


def _env_number(name: str, default: float, *, integer: bool = False) -> Any:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw) if integer else float(raw)
    except ValueError:
        raise ValueError(f"{name}: {raw!r} is not a number") from None
    if value <= 0:
        raise ValueError(f"{name}: {raw!r} must be above 0")
    return value


def limits_from_env() -> Limits:
    """Limits from QUIZAPP_THROTTLE_FAILURES, QUIZAPP_THROTTLE_MAX_DELAY,
    QUIZAPP_THROTTLE_ADDRESS_FAILURES, QUIZAPP_AUTH_BUDGET and QUIZAPP_AUTH_WINDOW."""
    d = Limits()
    return Limits(
        free_failures=_env_number("QUIZAPP_THROTTLE_FAILURES", d.free_failures, integer=True),
        max_delay=_env_number("QUIZAPP_THROTTLE_MAX_DELAY", d.max_delay),
        address_free_failures=_env_number(
            "QUIZAPP_THROTTLE_ADDRESS_FAILURES", d.address_free_failures, integer=True
        ),
        forget_after=d.forget_after,
        budget=_env_number("QUIZAPP_AUTH_BUDGET", d.budget, integer=True),
        window=_env_number("QUIZAPP_AUTH_WINDOW", d.window),
    )


class Store(Protocol):
    def count(self, key: str, ttl: float, now: float) -> int:
        """Add one to a counter that disappears `ttl` seconds after it was made; the new value."""

    def fail(self, key: str, ttl: float, now: float) -> None:
        """Add one failure at `now`; the record disappears `ttl` seconds after the last."""

    def failures(self, key: str, now: float) -> tuple[int, float]:
        """(failures, time of the last) for a key; (0, 0.0) when none."""

    def unfail(self, key: str, now: float) -> None:
        """Take back one failure (never below 0); the time of the last stays."""

    def clear(self, key_prefix: str) -> int:
        """Drop every key starting with `key_prefix`; how many went."""


class MemoryStore:
    """One process's store: a dict under a lock, pruned of expired keys as it grows."""

    def __init__(self, max_keys: int = 100_000) -> None:
        self._lock = threading.Lock()
        self._data: dict[str, tuple[int, float, float]] = {}  # key -> (count, last, expires)
        self._max_keys = max_keys

    def _prune(self, now: float) -> None:
        if len(self._data) < self._max_keys:
            return
        self._data = {k: v for k, v in self._data.items() if v[2] > now}
        while len(self._data) >= self._max_keys:  # still full: the soonest to expire go first
            del self._data[min(self._data, key=lambda k: self._data[k][2])]

    def _get(self, key: str, now: float) -> tuple[int, float, float] | None:
        row = self._data.get(key)
        if row is not None and row[2] <= now:
            del self._data[key]
            return None
        return row

    def count(self, key: str, ttl: float, now: float) -> int:
        with self._lock:
            row = self._get(key, now)
            if row is None:
                self._prune(now)
                row = (0, now, now + ttl)
            self._data[key] = (row[0] + 1, row[1], row[2])
            return row[0] + 1

    def fail(self, key: str, ttl: float, now: float) -> None:
        with self._lock:
            row = self._get(key, now)
            if row is None:
                self._prune(now)
            self._data[key] = ((row[0] if row else 0) + 1, now, now + ttl)

    def failures(self, key: str, now: float) -> tuple[int, float]:
        with self._lock:
            row = self._get(key, now)
            return (row[0], row[1]) if row else (0, 0.0)

    def unfail(self, key: str, now: float) -> None:
        with self._lock:
            row = self._get(key, now)
            if row is not None:
                self._data[key] = (max(0, row[0] - 1), row[1], row[2])

    def clear(self, key_prefix: str) -> int:
        with self._lock:
            gone = [k for k in self._data if k.startswith(key_prefix)]
            for k in gone:
                del self._data[k]
            return len(gone)


class RedisStore:
    """The same store in Redis, shared by every server process and the command line."""

    def __init__(self, client: Any) -> None:
        self.r = client

    def count(self, key: str, ttl: float, now: float) -> int:
        k = _PREFIX + key
        pipe = self.r.pipeline()
        pipe.incr(k)
        pipe.expire(k, max(1, math.ceil(ttl)), nx=True)
        value, _ = pipe.execute()
        return int(value)

    def fail(self, key: str, ttl: float, now: float) -> None:
        k = _PREFIX + key
        pipe = self.r.pipeline()
        pipe.hincrby(k, "n", 1)
        pipe.hset(k, "last", repr(now))
        pipe.expire(k, max(1, math.ceil(ttl)))
        pipe.execute()

    def failures(self, key: str, now: float) -> tuple[int, float]:
        got = self.r.hmget(_PREFIX + key, ["n", "last"])
        if not got or got[0] is None:
            return 0, 0.0
        return int(got[0]), float(got[1] or 0.0)

    def unfail(self, key: str, now: float) -> None:
        k = _PREFIX + key
        if self.r.hincrby(k, "n", -1) < 0:
            self.r.hset(k, "n", 0)

    def clear(self, key_prefix: str) -> int:
        keys = list(self.r.scan_iter(match=_PREFIX + key_prefix + "*", count=500))
        return int(self.r.delete(*keys)) if keys else 0


def _name(username: str) -> str:
    # Hex: any text a form can carry becomes a key with no glob or separator characters in it.
    return username.strip().lower().encode("utf-8", "replace").hex()


def _addr(address: str) -> str:
    return address.encode("utf-8", "replace").hex()


def _open_on_error(default: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A store that cannot be reached (Redis restarting) must not take sign-in down with it: the
    check is skipped, with a warning in the log, and the request goes on as if unthrottled."""

    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def inner(self: "Throttle", *args: Any) -> Any:
            try:
                return fn(self, *args)
            except Exception:
                log.warning("sign-in throttle store unavailable; %s skipped", fn.__name__, exc_info=True)
                return default

        return inner

    return wrap


class Throttle:
    def __init__(
        self, store: Store | None = None, limits: Limits | None = None, clock: Callable[[], float] = time.time
    ) -> None:
        self.store: Store = store if store is not None else MemoryStore()
        self.limits = limits or Limits()
        self.clock = clock

    def _delay(self, failures: int, free: int) -> float:
        if failures < free:
            return 0.0
        return min(self.limits.max_delay, 2.0 ** min(failures - free, 60))

    @_open_on_error(0.0)
    def spend(self, form: str, address: str) -> float:
        """Spend one unit of the address's budget for a form ('signin', 'signup'): 0 when allowed,
        else the seconds until the window ends (the Retry-After)."""
        now, window = self.clock(), self.limits.window
        start = math.floor(now / window) * window
        n = self.store.count(f"budget:{form}:{_addr(address)}:{int(start)}", window, now)
        return 0.0 if n <= self.limits.budget else max(0.001, start + window - now)

    @_open_on_error(0.0)
    def wait(self, username: str, address: str) -> float:
        """Seconds before a sign-in for this name from this address may be checked; 0: go ahead."""
        now = self.clock()
        waits = [0.0]
        for key, free in (
            (f"fail:{_name(username)}:{_addr(address)}", self.limits.free_failures),
            (f"addr:{_addr(address)}", self.limits.address_free_failures),
        ):
            n, last = self.store.failures(key, now)
            waits.append(last + self._delay(n, free) - now if n >= free else 0.0)
        return max(waits)

    @_open_on_error(None)
    def failed(self, username: str, address: str) -> None:
        """Count a miss. The routes call it BEFORE checking the password (and `succeeded` takes it
        back), so concurrent guesses see each other and cannot all slip past the delay."""
        now, ttl = self.clock(), self.limits.forget_after + self.limits.max_delay
        self.store.fail(f"fail:{_name(username)}:{_addr(address)}", ttl, now)
        self.store.fail(f"addr:{_addr(address)}", ttl, now)

    @_open_on_error(None)
    def succeeded(self, username: str, address: str) -> None:
        """A right password: the name's count from this address goes, and the address gets back
        the miss `failed` counted for this try."""
        self.store.clear(f"fail:{_name(username)}:{_addr(address)}")
        self.store.unfail(f"addr:{_addr(address)}", self.clock())

    def clear(self, username: str) -> int:
        """Drop a name's failure counts from every address (an admin's unlock); how many went."""
        return self.store.clear(f"fail:{_name(username)}:")


_default: Throttle | None = None
_default_lock = threading.Lock()


def shared() -> bool:
    """Whether the throttle's state is shared between processes (QUIZAPP_REDIS_URL is set)."""
    return bool(os.environ.get("QUIZAPP_REDIS_URL"))


def get_throttle() -> Throttle:
    """The process's throttle: Redis-backed when QUIZAPP_REDIS_URL is set, else in memory."""
    global _default
    with _default_lock:
        if _default is None:
            url = os.environ.get("QUIZAPP_REDIS_URL")
            if url:
                import redis

                store: Store = RedisStore(redis.Redis.from_url(url))
            else:
                store = MemoryStore()
            _default = Throttle(store, limits_from_env())
        return _default


def reset_default() -> None:
    """Forget the process's throttle (tests; a changed environment)."""
    global _default
    with _default_lock:
        _default = None
