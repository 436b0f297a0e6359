"""What a burst of bogus sign-ins costs the server, with and without the throttle (issue 15).

Usage: python bench/signin.py [--burst 24]
Serves the /auth/ routes with uvicorn on a free port against a temporary SQLite database holding one
account, with Argon2id at its real cost. Fires --burst concurrent sign-in posts with wrong passwords
for that account from one address, three times: with no effective limit (the old behaviour: every
post is hashed), with the default limits (per-address budget 30 a minute; 5 misses per name, then
growing delays), and again once that address's budget is spent. Prints, for each burst, the wall
time, how many posts were hashed, the replies by status and the median reply time; then how long a
right-password sign-in by the owner from another address takes just after the bursts.
"""

import argparse
import re
import socket
import statistics
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

sys.path[0:1] = [str(Path(__file__).resolve().parent.parent)]

import uvicorn  # noqa: E402
from starlette.applications import Starlette  # noqa: E402

from quizapp import sessions  # noqa: E402
from quizapp.auth import create_user  # noqa: E402
from quizapp.db import make_engine, write_session  # noqa: E402
from quizapp.migrate import upgrade  # noqa: E402
from quizapp.throttle import Limits, MemoryStore, Throttle  # noqa: E402
from quizapp.web.routes import auth_routes  # noqa: E402

PW = "the owner's long password"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(app: Starlette) -> tuple[str, uvicorn.Server]:
    port = _port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", server


def _csrf(base: str) -> str:
    with urllib.request.urlopen(base + "/auth/signin", timeout=30) as r:
        return re.search(r'name="csrf" value="([^"]+)"', r.read().decode()).group(1)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None  # a 303 after signing in is the answer itself


_OPENER = urllib.request.build_opener(_NoRedirect)


def _post(base: str, token: str, password: str, forwarded: str) -> tuple[int, float]:
    body = urlencode({"csrf": token, "username": "owner", "password": password}).encode()
    headers = {
        "Origin": base,
        "Cookie": f"quizapp_csrf={token}",
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Forwarded-For": forwarded,
    }
    start = time.perf_counter()
    try:
        with _OPENER.open(urllib.request.Request(base + "/auth/signin", body, headers), timeout=120) as r:
            status = r.status
    except urllib.error.HTTPError as e:
        status = e.code
    return status, time.perf_counter() - start


def _burst(base: str, token: str, n: int, hashes: list) -> None:
    before = len(hashes)
    start = time.perf_counter()
    with ThreadPoolExecutor(n) as pool:
        got = list(pool.map(lambda i: _post(base, token, f"guess {i}", "203.0.113.5"), range(n)))
    wall = time.perf_counter() - start
    by = {s: sum(1 for c, _ in got if c == s) for s in sorted({c for c, _ in got})}
    med = statistics.median(t for _, t in got)
    print(
        f"  {n} posts in {wall:.2f} s; hashed {len(hashes) - before}; replies {by}; median reply {med * 1000:.0f} ms"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--burst", type=int, default=24)
    args = ap.parse_args()
    import os

    os.environ["QUIZAPP_TRUSTED_PROXIES"] = "127.0.0.1"  # X-Forwarded-For names the simulated clients
    hashes: list[str] = []
    real = sessions.verify_password

    def counting(stored: str, password: str) -> bool:
        hashes.append(password)
        return real(stored, password)

    sessions.verify_password = counting
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        upgrade(url)
        engine = make_engine(url)
        with write_session(engine) as s:
            create_user(session=s, username="owner", role="learner", password=PW)
        sessions._dummy_hash()  # paid once, before timing
        for label, limits in [
            (
                "no limit (every post hashed, as before)",
                Limits(free_failures=10**6, address_free_failures=10**6, budget=10**6),
            ),
            ("default limits", Limits()),
        ]:
            base, server = _serve(
                Starlette(routes=auth_routes(engine=engine, throttle=Throttle(MemoryStore(), limits)))
            )
            token = _csrf(base)
            print(label)
            _burst(base, token, args.burst, hashes)
            if label == "default limits":
                print(" the same address again, at once")
                _burst(base, token, args.burst, hashes)
                status, took = _post(base, token, PW, "198.51.100.7")
                print(f" the owner from another address: {status} in {took * 1000:.0f} ms")
            server.should_exit = True
            time.sleep(0.3)
        engine.dispose()


if __name__ == "__main__":
    main()
