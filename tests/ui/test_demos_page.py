import re

import pytest
from streamlit.testing.v1 import AppTest

from demos import runtime
from demos.catalogue import CATALOGUE
from tests.ui.conftest import APP

FAST = {"demo": "vanishing-gradients", "depth": "5", "steps": "20", "n_samples": "128", "width": "8"}


def _plain(markdown: str) -> str:
    """What a markdown body with backslash escapes reads as."""
    return re.sub(r"\\(.)", r"\1", markdown)


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


def test_gallery_lists_every_demo_and_the_questions_linking_to_it(app_db):
    at = _demos({})
    assert not at.exception
    titles = {s.value for s in at.subheader}
    assert set(d.title for d in CATALOGUE.values()) <= titles
    assert any(e.label == "1 question(s) link here" for e in at.expander)  # s-short links vanishing-gradients


def test_unknown_demo_shows_the_gallery_with_a_note(app_db):
    at = _demos({"demo": "no-such-demo"})
    assert at.warning[0].value == r"There is no demo called 'no\-such\-demo'; here are all of them."
    assert len(at.subheader) >= len(CATALOGUE)


def test_bad_knob_in_the_link_is_refused_by_name_and_nothing_runs(app_db):
    runtime.clear_cache()
    at = _demos({"demo": "vanishing-gradients", "depth": "500"})
    assert "depth: must be between 3 and 60 (got 500)" in _plain(at.error[0].value)
    assert not at.get("plotly_chart")


def test_run_draws_charts_metrics_and_claims_and_shares_the_knobs_in_the_url(app_db):
    runtime.clear_cache()
    at = _demos(FAST)
    assert [n.value for n in at.number_input if n.label == "Depth (layers)"] == [
        5
    ]  # the link's preset fills the form
    next(b for b in at.button if b.label == "Run").click().run()
    assert not at.exception, at.exception
    assert len(at.get("plotly_chart")) >= 3
    assert any(s.value == "Claims checked by this run" for s in at.subheader)
    assert at.success or at.error  # one box per claim, green or red by what the run computed
    assert at.query_params["depth"] in ("5", ["5"]) and at.query_params["demo"] in (
        "vanishing-gradients",
        ["vanishing-gradients"],
    )
    assert any(c.value.startswith("Ran on cpu, seed 0") for c in at.caption)


def test_a_link_in_the_demo_name_is_shown_as_text_not_drawn_as_a_link(app_db):
    """/demos?demo=[Sign in again](https://evil.example) must not put a live link in the app's warning."""
    at = _demos({"demo": "[Sign in again](https://evil.example)"})
    note = at.warning[0].value
    assert "](" not in note.replace("\\]\\(", "")  # every bracket escaped: markdown shows it as text
    assert r"\[Sign in again\]\(https\:" in note


def test_a_link_in_a_knob_value_is_shown_as_text(app_db):
    at = _demos({"demo": "dropout", "width": "[Sign in](https://evil.example)"})
    problem = next(e.value for e in at.error if "refused" in e.value)
    assert "width" in problem and "[Sign in](" not in problem and r"\[Sign in\]\(" in problem
    at = _demos({"demo": "dropout", "seed": "[x](https://evil.example)"})
    problem = next(e.value for e in at.error if "seed" in e.value)
    assert "[x](" not in problem and r"\[x\]\(" in problem


def test_knobs_are_labelled_in_words_with_the_code_name_in_the_help(app_db):
    at = _demos({"demo": "dropout"})
    width = next(n for n in at.number_input if n.label == "Hidden width (units)")
    assert "`width` in links and the CLI" in width.help
    labels = {n.label for n in at.number_input}
    assert {"Training examples", "Steps", "Seed"} <= labels and "n_train" not in labels


def test_the_claims_a_run_checks_are_listed_before_run(app_db):
    at = _demos({"demo": "dropout"})
    listed = next(m.value for m in at.markdown if m.value.startswith("**This run checks:**"))
    assert _plain(listed).count("\n- ") == 3
    assert "raises validation accuracy above no dropout" in listed
    assert not at.get("plotly_chart")  # nothing has run
    at.number_input(key="knob-dropout-label_noise").set_value(0.0).run()
    listed = next(m.value for m in at.markdown if m.value.startswith("**This run checks:**"))
    assert _plain(listed).count("\n- ") == 2  # no wrong labels: nothing to memorise


def test_the_link_follows_the_knobs_before_run_and_can_be_copied(app_db):
    at = _demos({"demo": "dropout"})
    assert at.query_params["demo"] in ("dropout", ["dropout"])
    at.number_input(key="knob-dropout-width").set_value(64).run()
    at.number_input(key="seed-dropout").set_value(5).run()
    assert not at.exception, at.exception
    assert at.query_params["width"] in ("64", ["64"]) and at.query_params["seed"] in ("5", ["5"])
    link = at.code[0].value
    assert "?demo=dropout&width=64&seed=5" in link
    assert not at.get("plotly_chart")  # still nothing has run
    at.number_input(key="knob-dropout-steps").set_value(5000).run()
    assert at.query_params["steps"] in ("5000", ["5000"])


def test_a_setting_predicted_past_the_budget_is_warned_about_before_run(app_db, monkeypatch):
    monkeypatch.setenv("QUIZAPP_DEMO_BUDGET_S", "60")
    at = _demos({"demo": "dropout", "width": "1024", "steps": "5000", "n_train": "1200"})
    warning = next(w.value for w in at.warning if "predicted to take about" in w.value)
    assert "more than the 60 s budget: it will stop early; lower steps or hidden width." in warning
    at = _demos({"demo": "dropout"})
    assert not any("predicted to take" in w.value for w in at.warning)
