"""Issue 15, findings 1, 2 and 6 through the /auth/ routes, on SQLite and PostgreSQL: wrong passwords
slow that name from that address only (never a lock for the owner elsewhere), a per-address budget
answers 429 with Retry-After before any hashing, the client address and HTTPS come from a proxy's
headers only when QUIZAPP_TRUSTED_PROXIES lists it, and QUIZAPP_COOKIE_SECURE forces Secure cookies."""

import re

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from quizapp import sessions
from quizapp.auth import create_user
from quizapp.db import write_session
from quizapp.throttle import Limits, MemoryStore, Throttle
from quizapp.web.client import client_address, is_https
from quizapp.web.routes import SESSION_COOKIE, auth_routes

PW = "correct horse battery"


class Clock:
    t = 2_000_000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def throttle(clock):
    return Throttle(MemoryStore(), Limits(free_failures=5, max_delay=60, budget=1000, window=60), clock)


@pytest.fixture
def app(engine, throttle):
    with write_session(engine) as s:
        create_user(session=s, username="alice", role="learner", password=PW)
    return Starlette(routes=auth_routes(engine=engine, throttle=throttle))


@pytest.fixture
def hashes(monkeypatch):
    """Counts every Argon2 verification the routes cause."""
    calls = []
    real = sessions.verify_password

    def counting(stored, password):
        calls.append(password)
        return real(stored, password)

    monkeypatch.setattr(sessions, "verify_password", counting)
    return calls


def _client(app, address):
    return TestClient(app, follow_redirects=False, client=(address, 40000))


def _post(c, path="/auth/signin", headers=None, **data):
    page = c.get(path)
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    return c.post(
        path, data={"csrf": token, **data}, headers={"Origin": "http://testserver", **(headers or {})}
    )


def test_wrong_passwords_slow_that_address_not_the_owner(app, clock, hashes):
    attacker, owner = _client(app, "203.0.113.5"), _client(app, "198.51.100.7")
    for _ in range(5):
        assert _post(attacker, username="alice", password="guess").status_code == 400
    n = len(hashes)
    tooth = _post(attacker, username="alice", password=PW)  # even the right password waits
    assert tooth.status_code == 429 and tooth.headers["retry-after"] == "1"
    assert "Wait 1 second" in tooth.text and len(hashes) == n  # answered without hashing
    # The owner, from their own address, signs in at once.
    ok = _post(owner, username="alice", password=PW)
    assert ok.status_code == 303 and SESSION_COOKIE in ok.cookies
    # An unknown name is slowed exactly the same way, so a delay tells nothing about who exists.
    for _ in range(5):
        assert _post(attacker, username="nobody", password="guess").status_code == 400
    assert _post(attacker, username="nobody", password="x").status_code == 429
    clock.t += 1
    assert _post(attacker, username="alice", password="guess").status_code == 400
    assert _post(attacker, username="alice", password=PW).headers["retry-after"] == "2"  # growing
    clock.t += 2
    assert _post(attacker, username="alice", password=PW).status_code == 303  # success clears it
    assert _post(attacker, username="alice", password="guess").status_code == 400


def test_the_budget_answers_429_before_hashing(engine, clock, hashes):
    with write_session(engine) as s:
        create_user(session=s, username="alice", role="learner", password=PW)
    t = Throttle(MemoryStore(), Limits(budget=3, window=60), clock)
    app = Starlette(routes=auth_routes(engine=engine, throttle=t))
    c, other = _client(app, "203.0.113.9"), _client(app, "203.0.113.10")
    for i in range(3):
        assert _post(c, username=f"u{i}", password="guess").status_code == 400
    n = len(hashes)
    r = _post(c, username="alice", password=PW)
    assert r.status_code == 429 and 1 <= int(r.headers["retry-after"]) <= 60 and len(hashes) == n
    signup = {"username": "newbie", "password": PW, "password2": PW}
    for _ in range(3):
        _post(c, "/auth/signup", **signup)
    r = _post(c, "/auth/signup", **{**signup, "username": "newbie2"})
    assert r.status_code == 429 and "retry-after" in r.headers
    assert _post(other, username="alice", password=PW).status_code == 303  # other addresses unaffected
    clock.t += 61
    assert _post(c, username="alice", password=PW).status_code == 303


def test_forwarded_for_counts_only_from_a_trusted_proxy(engine, clock, monkeypatch):
    with write_session(engine) as s:
        create_user(session=s, username="alice", role="learner", password=PW)
    t = Throttle(MemoryStore(), Limits(free_failures=2), clock)
    app = Starlette(routes=auth_routes(engine=engine, throttle=t))
    proxy = _client(app, "10.0.0.2")
    monkeypatch.setenv("QUIZAPP_TRUSTED_PROXIES", "10.0.0.0/24")
    for _ in range(2):
        _post(proxy, username="alice", password="guess", headers={"X-Forwarded-For": "1.2.3.4, 10.0.0.3"})
    behind = {"X-Forwarded-For": "1.2.3.4"}
    assert _post(proxy, username="alice", password=PW, headers=behind).status_code == 429
    # Another client behind the same proxy is not slowed.
    assert (
        _post(proxy, username="alice", password=PW, headers={"X-Forwarded-For": "5.6.7.8"}).status_code == 303
    )
    # A client that is not a trusted proxy cannot choose its address with the header.
    direct = _client(app, "198.51.100.1")
    for _ in range(2):
        _post(direct, username="alice", password="guess", headers={"X-Forwarded-For": "9.9.9.9"})
    assert (
        _post(direct, username="alice", password=PW, headers={"X-Forwarded-For": "8.8.8.8"}).status_code
        == 429
    )


def _scope(peer, headers=(), scheme="http"):
    return {"type": "http", "client": (peer, 1), "scheme": scheme, "headers": [(k, v) for k, v in headers]}


def test_client_address_and_https(monkeypatch):
    monkeypatch.delenv("QUIZAPP_TRUSTED_PROXIES", raising=False)
    monkeypatch.delenv("QUIZAPP_COOKIE_SECURE", raising=False)
    xff = [(b"x-forwarded-for", b"6.6.6.6, 1.2.3.4"), (b"x-forwarded-proto", b"https")]
    assert client_address(_scope("10.0.0.2", xff)) == "10.0.0.2"
    assert not is_https(_scope("10.0.0.2", xff))
    monkeypatch.setenv("QUIZAPP_TRUSTED_PROXIES", "10.0.0.2, ::1")
    # The nearest untrusted hop: the left-most value is whatever the client wrote.
    assert client_address(_scope("10.0.0.2", xff)) == "1.2.3.4"
    assert is_https(_scope("10.0.0.2", xff)) and not is_https(_scope("10.0.0.9", xff))
    assert client_address(_scope("10.0.0.2")) == "10.0.0.2"
    monkeypatch.setenv("QUIZAPP_TRUSTED_PROXIES", "not-an-ip")
    with pytest.raises(ValueError, match="QUIZAPP_TRUSTED_PROXIES"):
        client_address(_scope("10.0.0.2"))


@pytest.mark.parametrize("how", ["proxy", "forced"])
def test_secure_cookies_behind_a_tls_proxy(app, monkeypatch, how):
    """The session and device cookies are Secure when the browser used HTTPS through a trusted proxy,
    or always with QUIZAPP_COOKIE_SECURE=true; a forged X-Forwarded-Proto does nothing."""
    headers = {"X-Forwarded-Proto": "https"}
    c = _client(app, "10.0.0.2")

    def flags():
        page = c.get("/auth/signin")
        token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        # A Secure CSRF cookie is not sent back over plain http by the client: hand it over.
        cookie = {"Cookie": f"quizapp_csrf={token}", "Origin": "http://testserver"}
        data = {"csrf": token, "username": "alice", "password": PW}
        r = c.post("/auth/signin", data=data, headers={**headers, **cookie})
        assert r.status_code == 303
        return {h.split("=")[0]: "secure" in h.lower() for h in r.headers.get_list("set-cookie")}

    assert flags() == {"quizapp_session": False, "quizapp_device": False}  # nobody trusted yet
    if how == "proxy":
        monkeypatch.setenv("QUIZAPP_TRUSTED_PROXIES", "10.0.0.2")
    else:
        monkeypatch.setenv("QUIZAPP_COOKIE_SECURE", "true")
        headers = {}
    assert flags() == {"quizapp_session": True, "quizapp_device": True}


def test_the_device_cookie_is_secure_behind_a_trusted_tls_proxy(monkeypatch):
    from starlette.middleware import Middleware
    from starlette.responses import HTMLResponse
    from starlette.routing import Route

    from quizapp.web.device import DeviceCookieMiddleware

    app = Starlette(
        routes=[Route("/", lambda r: HTMLResponse("<p>page</p>"))],
        middleware=[Middleware(DeviceCookieMiddleware)],
    )
    c = _client(app, "10.0.0.2")
    html = {"Accept": "text/html", "X-Forwarded-Proto": "https"}

    def secure():
        [cookie] = c.get("/", headers=html).headers.get_list("set-cookie")
        c.cookies.clear()
        return "secure" in cookie.lower()

    assert not secure()
    monkeypatch.setenv("QUIZAPP_TRUSTED_PROXIES", "10.0.0.2")
    assert secure()


def test_guesses_in_flight_count_at_once(app, throttle, monkeypatch):
    """While a wrong guess is being hashed it already counts, so a burst of concurrent guesses
    cannot all pass the delay check before any of them has failed."""
    seen = []
    real = sessions.verify_password

    def slow(stored, password):
        seen.append(throttle.wait("alice", "203.0.113.77"))  # what a concurrent sixth try would see
        return real(stored, password)

    monkeypatch.setattr(sessions, "verify_password", slow)
    c = _client(app, "203.0.113.77")
    for _ in range(5):
        assert _post(c, username="alice", password="guess").status_code == 400
    assert seen[:4] == [0, 0, 0, 0] and seen[4] == pytest.approx(1)
