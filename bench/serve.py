"""Time from `quizapp serve` to /_stcore/health answering 200, and to the home page drawn in chromium.

Usage: python bench/serve.py [--runs 3]
Uses a temporary SQLite database initialised from questions/, a free port, and Debian's chromium
through Playwright (headless). Prints each run and the median.
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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def one_run(env: dict, browser) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    port = _port()
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [str(BIN / "quizapp"), "serve", "--server.port", str(port), "--server.address", "127.0.0.1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
    )
    try:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.05)
            if time.perf_counter() - t0 > 60:
                raise RuntimeError("no health answer in 60 s")
        health = time.perf_counter() - t0
        page = browser.new_page()
        page.goto(f"http://127.0.0.1:{port}/")
        page.get_by_text("Prepare for deep-learning interviews").wait_for(timeout=60_000)
        page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=60_000)
        drawn = time.perf_counter() - t0
        page.close()
        return health, drawn
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "QUIZAPP_DATABASE_URL": f"sqlite:///{tmp}/serve.db"}
        subprocess.run([str(BIN / "quizapp"), "init"], env=env, cwd=ROOT, check=True, capture_output=True)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path="/usr/bin/chromium",
                headless=True,
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            )
            results = [one_run(env, browser) for _ in range(args.runs)]
            browser.close()
    for i, (h, d) in enumerate(results, 1):
        print(f"run {i}: health ok after {h:.2f} s, home page drawn after {d:.2f} s")
    print(
        f"median: health {statistics.median(r[0] for r in results):.2f} s, "
        f"first page drawn {statistics.median(r[1] for r in results):.2f} s"
    )


if __name__ == "__main__":
    main()
