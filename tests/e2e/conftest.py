"""A real server (`quizapp serve`) on a free port and headless Debian chromium driven by Playwright."""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from quizapp.bank.loader import load_bank
from quizapp.bank.sync import sync_bank
from quizapp.db import make_engine, write_session
from quizapp.migrate import upgrade
from tests.utils.bank import SAMPLE

CHROMIUM = "/usr/bin/chromium"
SCREENS = Path(__file__).resolve().parent / "screens"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail("Debian's chromium is missing at /usr/bin/chromium; `make test` installs it")
        pytest.skip("no /usr/bin/chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield b
        b.close()


@pytest.fixture(scope="session")
def e2e_db(tmp_path_factory):
    """The SQLite database the browser tests' server uses (tests may add users to it)."""
    return f"sqlite:///{tmp_path_factory.mktemp('e2e-db') / 'e2e.db'}"


@pytest.fixture(scope="session")
def server(tmp_path_factory, e2e_db):
    """`quizapp serve` (the st.App server: app and /auth/ pages) against a fresh database with the sample bank."""
    tmp = tmp_path_factory.mktemp("e2e")
    url = e2e_db
    upgrade(url)
    qdir = tmp / "questions"
    qdir.mkdir()
    (qdir / "s.yaml").write_text(SAMPLE)
    engine = make_engine(url)
    with write_session(engine) as session:
        sync_bank(session=session, loaded=load_bank(qdir).questions)
    engine.dispose()
    env = {**os.environ, "QUIZAPP_DATABASE_URL": url, "QUIZAPP_DEMO_CONCURRENCY": "1"}
    quizapp = shutil.which("quizapp", path=str(Path(sys.executable).parent)) or "quizapp"
    with running_server([quizapp, "serve"], env) as base:
        yield base


@contextmanager
def running_server(cmd: list[str], env: dict, cwd: Path | None = None) -> Iterator[str]:
    """Run a Streamlit server (`quizapp serve` or `streamlit run FILE`) on a free port until its
    health check answers; yield its base URL, and stop it afterwards."""
    port = _free_port()
    proc = subprocess.Popen(
        [*cmd, "--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless", "true"],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(base + "/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            time.sleep(0.3)
    else:
        proc.kill()
        out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
        pytest.fail(f"{' '.join(cmd[:2])} did not answer /_stcore/health within 60 s:\n{out[-3000:]}")
    try:
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    p = context.new_page()
    p.set_default_timeout(30_000)
    yield p
    context.close()


def wait_idle(page) -> None:  # type: ignore[no-untyped-def]
    """Wait until Streamlit has finished running the script (no sleeping)."""
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=60_000)


def screenshot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    SCREENS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENS / f"{name}.png"), full_page=True)
