"""Page and click times in Chromium against Streamlit's own floor, and server memory over many reruns.

Usage: python bench/pages.py [--runs 7] [--reruns 1000] [--modes prod,dev,alltabs]
Starts, on free ports with one temporary SQLite database (questions/ plus a 40-learner sample
cohort): the app as `quizapp serve` runs it (prod: no forced GC after each run, no file watching),
the app with Streamlit's defaults (`quizapp serve --dev`), the prod app with Teach drawing all four
tabs on every run as it did before issue 17 (alltabs: QUIZAPP_TEACH_ALL_TABS=1; only Teach is
measured there), and a bare one-chart Streamlit page (the floor). Drives Debian's chromium (Playwright, headless) on the warm servers and prints, per page and
per action, the median and max over --runs runs and the ratio to the floor's page load (pages) or the
floor's in-app click (actions). Ready means: the script state is notRunning, no skeleton is left, the
page's own content is present and every plotly chart on it has drawn its SVG.
Demo runs (dropout, 100 steps): the first in the fresh server process, a second with another seed
(both train), and a cached one (the first's seed again: the stored result).
Then, on the prod server: its RSS after 100 and after --reruns reruns of one page, and after a few
demo runs (the target is growth within 10%).
"""

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

sys.path[0:1] = [str(Path(__file__).resolve().parent.parent)]

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PW = "bench pages password"
FLOOR_APP = """
import plotly.express as px
import streamlit as st

st.title("Floor")
fig = px.line(x=list(range(50)), y=[i * i for i in range(50)], title="One chart")
st.plotly_chart(fig)
if st.button("Click"):
    st.write("Clicked", st.session_state.setdefault("n", 0))
    st.session_state.n += 1
"""
READY = '[data-testid="stApp"][data-test-script-state="notRunning"]'


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_health(port: int, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server on {port} did not answer health")


def _start(cmd: list[str], env: dict) -> tuple[subprocess.Popen, str]:
    port = _port()
    proc = subprocess.Popen(
        [*cmd, "--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless=true"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
    )
    _wait_health(port, proc)
    return proc, f"http://127.0.0.1:{port}"


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _ready(page, content: str | None = None) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_selector(READY, timeout=60_000)
    if content:
        page.get_by_text(content).first.wait_for(timeout=60_000)
    page.wait_for_function(
        """() => document.querySelectorAll('[data-testid="stSkeleton"]').length === 0 &&
             Array.from(document.querySelectorAll('[data-testid="stPlotlyChart"]'))
                  .every(c => c.querySelector('.main-svg'))""",
        timeout=60_000,
    )
    page.wait_for_selector(READY, timeout=60_000)


def _times(fn: Callable[[], float], runs: int) -> list[float]:
    fn()  # warm: the first load of a page compiles and caches what later loads reuse
    return [fn() for _ in range(runs)]


def _load(context, url: str, content: str) -> float:  # type: ignore[no-untyped-def]
    page = context.new_page()
    t = time.perf_counter()
    page.goto(url)
    _ready(page, content)
    took = time.perf_counter() - t
    page.close()
    return took


def _prepare_db(url: str, questions: str) -> None:
    env = {**os.environ, "QUIZAPP_DATABASE_URL": url}
    subprocess.run(
        [str(BIN / "quizapp"), "init", "--questions", questions],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        cwd=ROOT,
    )
    subprocess.run(
        [str(BIN / "quizapp"), "sample-data", "--learners", "40", "--cohort", "Bench cohort"],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        cwd=ROOT,
    )
    from sqlmodel import select

    from quizapp.auth import create_user
    from quizapp.db import make_engine, write_session
    from quizapp.models import Cohort, Enrollment, User

    engine = make_engine(url)
    with write_session(engine) as s:
        cohort = s.exec(select(Cohort).where(Cohort.name == "Bench cohort")).one()
        owner = s.get(User, cohort.owner_id)
        assert owner is not None
        owner.password_hash = __import__("quizapp.auth", fromlist=["hash_password"]).hash_password(PW)
        s.add(owner)
        learner = create_user(session=s, username="bench-learner", role="learner", password=PW)
        s.add(Enrollment(cohort_id=cohort.id, user_id=learner.id))
        print(f"instructor {owner.username!r}, cohort {cohort.name!r}")
        os.environ["BENCH_TEACHER"] = owner.username
    engine.dispose()


def _sign_in(context, base: str, username: str) -> None:  # type: ignore[no-untyped-def]
    page = context.new_page()
    page.goto(f"{base}/auth/signin")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PW)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")
    page.close()


def _practice_clicks(context, base: str, runs: int) -> tuple[list[float], list[float]]:  # type: ignore[no-untyped-def]
    """Submit -> feedback, then Next -> the next question, on true/false questions."""
    page = context.new_page()
    page.goto(f"{base}/practice")
    _ready(page, "Pick what to practise")
    page.get_by_role("button", name="Start").click()
    _ready(page, "Question 1 of")
    submit, nxt = [], []
    for _ in range(runs + 1):
        form = page.get_by_test_id("stForm")
        radio = form.get_by_test_id("stRadio")
        if radio.count():
            radio.locator('label:has(input[type="radio"])').first.click()
        elif form.get_by_test_id("stCheckbox").count():
            form.get_by_test_id("stCheckbox").locator("label").first.click()
        elif form.locator("textarea").count():
            form.locator("textarea").first.fill(
                "The gradient shrinks layer by layer, so early layers learn slowly."
            )
        else:
            form.locator("input[type=text]").first.fill("42")
        page.wait_for_selector(READY)
        compare = page.get_by_role("button", name="Compare with the model answer")
        if compare.count():  # an open question: write, compare, then rate the key points
            compare.click()
            _ready(page, "Which of these key points")
            page.get_by_test_id("stForm").get_by_test_id("stCheckbox").locator("label").first.click()
            page.wait_for_selector(READY)
            final = page.get_by_role("button", name="Record my rating")
        else:
            final = page.get_by_role("button", name="Submit")
        t = time.perf_counter()
        final.click()
        try:
            page.get_by_text("Why", exact=True).wait_for(timeout=60_000)
        except Exception:
            page.screenshot(path="/tmp/bench-fail.png", full_page=True)
            raise
        _ready(page)
        submit.append(time.perf_counter() - t)
        button = page.get_by_role("button", name="Next question")
        if not button.count():
            break
        t = time.perf_counter()
        caption = page.get_by_text("Question ", exact=False).first.inner_text()
        button.click()
        page.wait_for_function(
            "c => !document.body.innerText.includes(c)", arg=caption.split("·")[0].strip(), timeout=60_000
        )
        _ready(page)
        nxt.append(time.perf_counter() - t)
    page.close()
    return submit[1:], nxt[1:]


def _floor_click(context, base: str, runs: int) -> list[float]:  # type: ignore[no-untyped-def]
    page = context.new_page()
    page.goto(base)
    _ready(page, "Floor")
    out = []
    for i in range(runs + 1):
        t = time.perf_counter()
        page.get_by_role("button", name="Click").click()
        page.get_by_text(f"Clicked {i}").wait_for()
        _ready(page)
        out.append(time.perf_counter() - t)
    page.close()
    return out[1:]


def _teach_switch(context, base: str, runs: int) -> list[float]:  # type: ignore[no-untyped-def]
    """Gradebook -> Item analysis: a rerun that draws the item analysis (lazy tabs), or a switch in
    the browser (every tab drawn already)."""
    page = context.new_page()
    out = []
    for _ in range(runs + 1):
        page.goto(f"{base}/teach")
        _ready(page, "Completion")
        t = time.perf_counter()
        page.get_by_role("tab", name="Item analysis").click()
        page.get_by_text("What learners answered").wait_for(timeout=60_000)
        _ready(page)
        out.append(time.perf_counter() - t)
    page.close()
    return out[1:]


def _demo_run(context, base: str, seed: int) -> float:  # type: ignore[no-untyped-def]
    page = context.new_page()
    page.goto(f"{base}/demos?demo=dropout&steps=100&seed={seed}")
    _ready(page, "Run")
    t = time.perf_counter()
    page.get_by_role("button", name="Run").click()
    page.get_by_text("Done", exact=True).wait_for(timeout=180_000)
    _ready(page)
    took = time.perf_counter() - t
    page.close()
    return took


def _demo_runs(context, base: str, runs: int) -> list[float]:  # type: ignore[no-untyped-def]
    first = _demo_run(context, base, 1)
    second = _demo_run(context, base, 2)
    print(
        f"  {'demo run: first / second':34s} {first * 1000:7.0f} ms / {second * 1000:.0f} ms"
        f"   first/second {first / second:5.2f} (target <= 1.2)"
    )
    return [_demo_run(context, base, 1) for _ in range(runs)]


def _row(label: str, samples: list[float], floor: float) -> str:
    med = statistics.median(samples)
    return f"  {label:34s} median {med * 1000:7.0f} ms   max {max(samples) * 1000:7.0f} ms   x floor {med / floor:5.2f}"


def _rerun_memory(base: str, pid: int, reruns: int, browser) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page()
    page.goto(f"{base}/faq")
    _ready(page, "FAQ")
    box = page.get_by_label("Search", exact=True).and_(page.locator("input"))
    rss = {}
    for i in range(1, reruns + 1):
        box.fill(f"gradient {i % 7}")
        box.press("Enter")
        page.wait_for_selector(READY)
        if i in (100, reruns):
            time.sleep(1)
            rss[i] = _rss_mb(pid)
    page.goto(f"{base}/demos?demo=softmax")
    _ready(page)
    for temp in ("0.5", "1", "2", "4"):
        page.goto(f"{base}/demos?demo=softmax&temperature={temp}")
        _ready(page)
        run = page.get_by_role("button", name="Run")
        if run.count():
            run.first.click()
            page.wait_for_selector(READY, timeout=120_000)
            _ready(page)
    time.sleep(1)
    after_demos = _rss_mb(pid)
    page.close()
    growth = (rss[reruns] - rss[100]) / rss[100]
    print(
        f"  RSS after 100 reruns {rss[100]:.0f} MB, after {reruns} {rss[reruns]:.0f} MB "
        f"(growth {growth:+.1%}; target within 10%), after 4 demo runs {after_demos:.0f} MB"
    )


def _teach(browser, base: str, teacher: str, runs: int, floor_load: float, floor_click: float) -> None:  # type: ignore[no-untyped-def]
    inst = browser.new_context(viewport={"width": 1280, "height": 900})
    _sign_in(inst, base, teacher)
    samples = _times(lambda: _load(inst, base + "/teach", "Completion"), runs)
    print(_row("Teach, 40 learners, load", samples, floor_load))
    print(_row("Teach: open Item analysis", _teach_switch(inst, base, runs), floor_click))
    inst.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--reruns", type=int, default=1000)
    ap.add_argument(
        "--modes",
        default="prod,dev,alltabs",
        help="app servers: prod, dev, alltabs; lazy: prod, Teach only; memory: prod, rerun memory only",
    )
    ap.add_argument(
        "--questions", default=str(ROOT / "questions"), help="question folder (default questions/)"
    )
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/pages.db"
        _prepare_db(url, args.questions)
        floor_file = Path(tmp) / "floor.py"
        floor_file.write_text(FLOOR_APP)
        env = {**os.environ, "QUIZAPP_DATABASE_URL": url}
        procs: dict[str, tuple[subprocess.Popen, str]] = {}
        procs["floor"] = _start([sys.executable, "-m", "streamlit", "run", str(floor_file)], env)
        modes = [m for m in args.modes.split(",") if m]
        for mode in modes:
            cmd = [str(BIN / "quizapp"), "serve", *(["--dev"] if mode == "dev" else [])]
            every = "1" if mode == "alltabs" else ""  # lazy, memory: prod servers
            procs[mode] = _start(cmd, {**env, "QUIZAPP_DEV": "", "QUIZAPP_TEACH_ALL_TABS": every})
        time.sleep(5)  # let the servers' start-up work (demo warm-up) finish
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(
                    executable_path="/usr/bin/chromium", headless=True, args=["--no-sandbox", "--disable-gpu"]
                )
                ctx = browser.new_context(viewport={"width": 1280, "height": 900})
                floor_base = procs["floor"][1]
                floor_load = statistics.median(_times(lambda: _load(ctx, floor_base, "Floor"), args.runs))
                floor_click = statistics.median(_floor_click(ctx, floor_base, args.runs))
                print(
                    f"floor: page load {floor_load * 1000:.0f} ms, in-app click {floor_click * 1000:.0f} ms"
                )
                ctx.close()
                teacher = os.environ["BENCH_TEACHER"]
                for mode in modes:
                    base = procs[mode][1]
                    print(f"app ({mode}):")
                    if mode == "memory":  # the prod server, for the rerun memory only
                        continue
                    if mode in ("alltabs", "lazy"):  # Teach only: every tab drawn, or only the open one
                        _teach(browser, base, teacher, args.runs, floor_load, floor_click)
                        continue
                    anon = browser.new_context(viewport={"width": 1280, "height": 900})
                    pages = [
                        ("Home", "/", "Prepare for deep-learning interviews"),
                        ("FAQ", "/faq", "FAQ & search"),
                        ("Practice setup", "/practice", "Pick what to practise"),
                        ("Demos gallery", "/demos", "Demos"),
                        ("A demo page", "/demos?demo=softmax", "Run"),
                    ]
                    for label, path, content in pages:
                        samples = _times(
                            lambda b=base, p=path, c=content, x=anon: _load(x, b + p, c), args.runs
                        )
                        print(_row(f"{label} load", samples, floor_load))
                    cached = _demo_runs(anon, base, args.runs)
                    print(_row("Demo run (cached result)", cached, floor_click))
                    submit, nxt = _practice_clicks(anon, base, args.runs)
                    print(_row("Submit -> feedback", submit, floor_click))
                    print(_row("Next question", nxt, floor_click))
                    samples = _times(
                        lambda b=base, x=anon: _load(x, b + "/progress", "My progress"), args.runs
                    )
                    print(_row("My progress load", samples, floor_load))
                    anon.close()
                    learner = browser.new_context(viewport={"width": 1280, "height": 900})
                    _sign_in(learner, base, "bench-learner")
                    samples = _times(
                        lambda b=base, x=learner: _load(x, b + "/assignments", "Assignments"), args.runs
                    )
                    print(_row("Assignments (learner) load", samples, floor_load))
                    learner.close()
                    _teach(browser, base, teacher, args.runs, floor_load, floor_click)
                mem = next((m for m in ("memory", "prod") if m in modes), None)
                if mem and args.reruns:
                    print(f"memory ({mem} server):")
                    _rerun_memory(procs[mem][1], procs[mem][0].pid, args.reruns, browser)
                browser.close()
        finally:
            for proc, _ in procs.values():
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()


if __name__ == "__main__":
    main()
