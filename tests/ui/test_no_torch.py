import subprocess
import sys

import pytest

from tests.ui.conftest import APP

CHILD = """
import sys
from streamlit.testing.v1 import AppTest
at = AppTest.from_file(sys.argv[2], default_timeout=60)
if sys.argv[1] != "views/home.py":
    at.switch_page(sys.argv[1])
at.run()
assert not at.exception, [e.value for e in at.exception]
print("TORCH" if "torch" in sys.modules else "NO-TORCH")
print("ST" if "sentence_transformers" in sys.modules else "NO-ST")
"""


@pytest.mark.parametrize(
    "page", ["views/home.py", "views/faq.py", "views/practice.py", "views/review.py", "views/progress.py"]
)
def test_quiz_pages_do_not_import_torch(app_db, page):
    done = subprocess.run(
        [sys.executable, "-c", CHILD, page, APP], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-2:] == ["NO-TORCH", "NO-ST"]


def test_the_demos_page_does_load_torch(app_db):
    """The check above can fail: the same harness sees torch when the demos page runs."""
    done = subprocess.run(
        [sys.executable, "-c", CHILD, "views/demos.py", APP], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-2] == "TORCH"
