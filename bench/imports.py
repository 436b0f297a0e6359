"""Which heavy modules each page pulls in, and how long a cold first draw takes.

Usage: python bench/imports.py
Runs each page of the app in a fresh interpreter (AppTest) against a temporary database and prints
whether torch was imported and the first-draw time. The quiz pages must not import torch.
"""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGES = ["views/home.py", "views/faq.py", "views/practice.py", "views/progress.py", "views/demos.py"]

CHILD = r"""
import json, sys, time
from streamlit.testing.v1 import AppTest
page = sys.argv[1]
t0 = time.perf_counter()
at = AppTest.from_file(sys.argv[2], default_timeout=60)
if page != "views/home.py":
    at.switch_page(page)
at.run()
print(json.dumps({"page": page, "torch": "torch" in sys.modules, "seconds": time.perf_counter() - t0,
                  "errors": [str(e.value) for e in at.exception]}))
"""


def page_imports(db_url: str) -> list[dict]:
    out = []
    app = str(ROOT / "quizapp" / "ui" / "app.py")
    for page in PAGES:
        env = {**os.environ, "QUIZAPP_DATABASE_URL": db_url}
        done = subprocess.run(
            [sys.executable, "-c", CHILD, page, app],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            check=True,
        )
        out.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return out


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        subprocess.run(
            [sys.executable, "-m", "quizapp.cli", "init"],
            check=True,
            env={**os.environ, "QUIZAPP_DATABASE_URL": url},
            cwd=ROOT,
            capture_output=True,
        )
        rows = page_imports(url)
    print(f"{'page':22} {'torch imported':>15} {'cold draw (s)':>14}")
    for r in rows:
        print(f"{r['page']:22} {str(r['torch']):>15} {r['seconds']:14.2f}")
    bad = [r["page"] for r in rows if r["torch"] and r["page"] != "views/demos.py"]
    print("quiz pages free of torch:", "yes" if not bad else f"NO: {bad}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
