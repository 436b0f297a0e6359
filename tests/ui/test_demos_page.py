from streamlit.testing.v1 import AppTest

from demos import runtime
from demos.catalogue import CATALOGUE
from tests.ui.conftest import APP

FAST = {"demo": "vanishing-gradients", "depth": "5", "steps": "20", "n_samples": "128", "width": "8"}


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
    assert at.warning[0].value == "There is no demo called 'no-such-demo'; here are all of them."
    assert len(at.subheader) >= len(CATALOGUE)


def test_bad_knob_in_the_link_is_refused_by_name_and_nothing_runs(app_db):
    runtime.clear_cache()
    at = _demos({"demo": "vanishing-gradients", "depth": "500"})
    assert "depth: must be between 3 and 60 (got 500)" in at.error[0].value
    assert not at.get("plotly_chart")


def test_run_draws_charts_metrics_and_claims_and_shares_the_knobs_in_the_url(app_db):
    runtime.clear_cache()
    at = _demos(FAST)
    assert [n.value for n in at.number_input if n.label == "depth"] == [5]  # the link's preset fills the form
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
