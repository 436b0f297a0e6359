"""The demo page: runs stop at the budget with their charts so far, Stop draws the run so far, the seed
is part of the link, and a run stored by any process is answered from the database."""

import pytest
from streamlit.testing.v1 import AppTest

from demos import runtime
from tests.ui.conftest import APP

FAST = {"demo": "vanishing-gradients", "depth": "5", "steps": "20", "n_samples": "128", "width": "8"}


@pytest.fixture(autouse=True)
def _roomy_budget(monkeypatch):
    """A run here finishes even on a loaded machine (a test that wants a budget sets its own)."""
    monkeypatch.setenv("QUIZAPP_DEMO_BUDGET_S", "600")


def _demos(query: dict[str, str]) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page("views/demos.py")
    for k, v in query.items():
        at.query_params[k] = v
    return at.run()


def _run(at: AppTest) -> AppTest:
    return next(b for b in at.button if b.label == "Run").click().run()


def test_a_run_past_the_budget_shows_its_charts_so_far_and_claims_not_checked(app_db, monkeypatch):
    runtime.clear_cache()
    monkeypatch.setenv("QUIZAPP_DEMO_BUDGET_S", "0.5")
    at = _run(_demos({**FAST, "steps": "5000", "n_samples": "4000", "depth": "40", "width": "128"}))
    assert not at.exception, at.exception
    warning = next(w.value for w in at.warning if w.value.startswith("Stopped at step"))
    assert "of 5000 after the budget of 0.5 s" in warning
    assert all(not s.value.startswith("Holds") for s in at.success)
    assert any(i.value.startswith("Not checked: the run stopped") for i in at.info)


def test_stop_draws_the_run_so_far(app_db):
    at = _demos(FAST)
    at.session_state["demo_going"] = {
        "slug": "vanishing-gradients",
        "partial": None,
        "where": {"step": 12, "steps_total": 20, "elapsed_s": 1.25},
    }
    next(b for b in at.button if b.label == "Stop").click().run()
    assert not at.exception, at.exception
    assert any(w.value == "Stopped at step 12 of 20 after 1.2 s, as you asked." for w in at.warning)
    assert "demo_going" not in at.session_state


def test_the_seed_is_part_of_the_link(app_db):
    runtime.clear_cache()
    at = _demos({**FAST, "seed": "7"})
    assert not at.error
    assert [n.value for n in at.number_input if n.label == "Seed"] == [7]
    _run(at)
    assert at.query_params["seed"] in ("7", ["7"])
    assert any(c.value.startswith("Ran on cpu, seed 7") for c in at.caption)


def test_a_bad_seed_in_the_link_is_refused(app_db):
    at = _demos({**FAST, "seed": "-3"})
    assert any("seed -3 was refused" in e.value for e in at.error)


def test_a_stored_run_is_answered_from_the_database(app_db):
    runtime.clear_cache()
    _run(_demos(FAST))
    runtime.clear_cache()  # as if another server process: nothing in memory
    at = _run(_demos(FAST))
    assert not at.exception, at.exception
    assert any("from stored results" in c.value for c in at.caption)
    assert len(at.get("plotly_chart")) >= 3
