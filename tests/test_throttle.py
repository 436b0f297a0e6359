"""quizapp/throttle.py: growing delays per (name, address), a per-address limit and budget; in memory
and in Redis (127.0.0.1:6379), with a fake clock so nothing sleeps."""

import socket
import uuid

import pytest

from quizapp.throttle import Limits, MemoryStore, RedisStore, Throttle, limits_from_env


class Clock:
    def __init__(self) -> None:
        self.t = 1_000_000.0

    def __call__(self) -> float:
        return self.t


def _redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(params=["memory", "redis"])
def store(request):
    if request.param == "memory":
        yield MemoryStore()
        return
    if not _redis_up():
        pytest.skip("no Redis at 127.0.0.1:6379")
    import redis

    client = redis.Redis.from_url("redis://127.0.0.1:6379/0")
    yield RedisStore(client)
    client.close()


@pytest.fixture
def names():
    """A name and addresses of this test only, so a shared Redis holds no one else's counts."""
    tag = uuid.uuid4().hex[:8]
    return f"Ann-{tag}", f"10.{tag[:2]}.0.1", f"10.{tag[:2]}.0.2"


def test_growing_delays_per_name_and_address(store, names):
    user, here, there = names
    clock = Clock()
    t = Throttle(store, Limits(free_failures=5, max_delay=8), clock)
    for _ in range(5):
        assert t.wait(user, here) == 0
        t.failed(user, here)
    assert t.wait(user, here) == pytest.approx(1)  # the sixth try waits 1 s after the fifth miss
    assert t.wait(user.upper(), here) == pytest.approx(1)  # names count in any case
    assert t.wait(user, there) == 0  # the owner elsewhere is not slowed
    assert t.wait("someone-else", here) == 0
    clock.t += 1
    assert t.wait(user, here) == 0
    expected = [2, 4, 8, 8]  # doubling, up to the cap
    for delay in expected:
        t.failed(user, here)
        assert t.wait(user, here) == pytest.approx(delay)
        clock.t += delay
    t.succeeded(user, there)  # success elsewhere leaves this address's count alone
    assert t.wait(user, here) == 0 and (t.failed(user, here) or t.wait(user, here) == pytest.approx(8))
    t.succeeded(user, here)
    assert t.wait(user, here) == 0


def test_failures_are_forgotten_after_a_while(names):
    user, here, _ = names
    clock = Clock()
    t = Throttle(MemoryStore(), Limits(free_failures=1, max_delay=10, forget_after=100), clock)
    t.failed(user, here)
    assert t.wait(user, here) == pytest.approx(1)
    clock.t += 111
    assert t.wait(user, here) == 0


def test_an_admin_clears_a_name_on_every_address(store, names):
    user, here, there = names
    t = Throttle(store, Limits(free_failures=1), Clock())
    t.failed(user, here)
    t.failed(user, there)
    t.failed("other" + user, here)
    assert t.wait(user, here) > 0 and t.wait(user, there) > 0
    assert t.clear(user.upper()) == 2
    assert t.wait(user, here) == 0 and t.wait(user, there) == 0
    assert t.wait("other" + user, here) > 0


def test_one_address_guessing_many_names_is_slowed_for_all(store, names):
    _, here, there = names
    t = Throttle(store, Limits(free_failures=5, address_free_failures=10), Clock())
    for i in range(10):
        t.failed(f"name{i}-{here}", here)
    assert t.wait(f"fresh-{here}", here) == pytest.approx(1)
    assert t.wait(f"fresh-{here}", there) == 0


def test_budget_per_address_and_form_with_retry_after(store, names):
    _, here, there = names
    clock = Clock()
    clock.t = 6_000_000.0  # a window boundary
    t = Throttle(store, Limits(budget=3, window=60), clock)
    assert [t.spend("signin", here) for _ in range(3)] == [0, 0, 0]
    clock.t += 15
    assert t.spend("signin", here) == pytest.approx(45)
    assert t.spend("signup", here) == 0 and t.spend("signin", there) == 0
    clock.t += 45
    assert t.spend("signin", here) == 0


def test_limits_from_the_environment(monkeypatch):
    monkeypatch.setenv("QUIZAPP_THROTTLE_FAILURES", "3")
    monkeypatch.setenv("QUIZAPP_AUTH_BUDGET", "7")
    got = limits_from_env()
    assert got.free_failures == 3 and got.budget == 7 and got.max_delay == Limits().max_delay
    monkeypatch.setenv("QUIZAPP_AUTH_WINDOW", "soon")
    with pytest.raises(ValueError, match="QUIZAPP_AUTH_WINDOW"):
        limits_from_env()


def test_the_memory_store_stays_bounded():
    store = MemoryStore(max_keys=100)
    t = Throttle(store, Limits(), Clock())
    for i in range(1000):
        t.failed("x", f"10.0.{i // 256}.{i % 256}")
    assert len(store._data) <= 101


def test_a_success_takes_back_its_address_miss(store, names):
    """The routes count a try as a miss before checking it; a right password takes it back, so many
    people signing in behind one address (a school's NAT) never add up to the per-address limit."""
    user, here, _ = names
    t = Throttle(store, Limits(free_failures=5, address_free_failures=3), Clock())
    for i in range(10):
        t.failed(f"{user}{i}", here)
        t.succeeded(f"{user}{i}", here)
    assert t.wait(f"{user}-new", here) == 0


def test_an_unreachable_store_does_not_stop_sign_in(caplog):
    """Redis away: the checks are skipped with a warning, never an error page for everyone; an admin's
    clear still reports the failure."""
    import redis

    t = Throttle(
        RedisStore(redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)), Limits(), Clock()
    )
    assert t.spend("signin", "10.0.0.1") == 0 and t.wait("ann", "10.0.0.1") == 0
    t.failed("ann", "10.0.0.1")
    t.succeeded("ann", "10.0.0.1")
    assert "throttle store unavailable" in caplog.text
    with pytest.raises(redis.exceptions.ConnectionError):
        t.clear("ann")
