"""An instructor imports a GIFT file carrying script payloads in titles, prompts, answers and feedback
through the My questions page in a real browser; nothing runs and no injected element reaches the DOM."""

import pytest
from sqlmodel import Session, select

from quizapp.auth import create_user
from quizapp.db import make_engine, write_session
from quizapp.models import Question, User
from tests.e2e.conftest import screenshot, wait_idle

pytestmark = pytest.mark.e2e

PW = "correct horse battery"
# Written for this test; `=`, `:` and `#` escaped as GIFT requires. Each payload would call alert().
PAYLOADS = r"""$CATEGORY: $course$/cnn

::Pool <img src\=x onerror\=alert(1)>::[html]<p>Which layer <script>alert(2)</script>keeps the <b>largest</b> value?<img src\="x" onerror\="alert(3)"></p> {
=Max pooling <script>alert(4)</script> # Right <svg onload\=alert(5)>
~<img src\=x onerror\=alert(6)>Average pooling # <iframe src\="javascript\:alert(7)"></iframe>Mean
####<a href\="javascript\:alert(8)">Max pooling</a> keeps the largest value.
}

::Mark <img src\=x onerror\=alert(12)>::[markdown]Does **this** <img src\=x onerror\=alert(13)> run <script>alert(14)</script>? {T
####Nothing here runs <svg onload\=alert(15)>.}

::Short <script>alert(16)</script>::[plain]Type <b onclick\=alert(17)>pool</b> {=pool <img src\=x onerror\=alert(18)> =pool
####Plain <img src\=x onerror\=alert(19)> text.}
"""

INJECTED = (
    "img[onerror], svg[onload], [onclick], [onmouseover], iframe, a[href^='javascript'], script:not([src])"
)


def _injected(page) -> list[str]:  # type: ignore[no-untyped-def]
    """Elements an imported payload would have made (inline scripts only if they mention alert)."""
    return page.evaluate(
        """(sel) => Array.from(document.querySelectorAll(sel))
              .filter(e => e.tagName !== 'SCRIPT' || e.textContent.includes('alert('))
              .map(e => e.outerHTML.slice(0, 120))""",
        INJECTED,
    )


def _show(page, view: str) -> None:  # type: ignore[no-untyped-def]
    """Pick one of the page's views (its radio, not the menu entry of the same name)."""
    page.locator("[data-testid='stRadio'] label").filter(has_text=view).click()
    wait_idle(page)


def test_imported_payloads_never_run(browser, server, e2e_db, tmp_path):
    engine = make_engine(e2e_db)
    with write_session(engine) as s:
        create_user(session=s, username="giftprof", role="instructor", password=PW)
    fired: list[str] = []
    ctx = browser.new_context(viewport={"width": 1280, "height": 1100})
    ctx.set_default_timeout(60_000)
    page = ctx.new_page()
    page.on("dialog", lambda d: (fired.append(d.message), d.dismiss()))

    page.goto(f"{server}/auth/signin")
    page.get_by_label("Username").fill("giftprof")
    page.get_by_label("Password").fill(PW)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{server}/")
    page.goto(f"{server}/my-questions")
    wait_idle(page)
    _show(page, "Import a file")
    src = tmp_path / "payloads.gift"
    src.write_text(PAYLOADS, encoding="utf-8")
    page.locator("input[type=file]").set_input_files(str(src))
    wait_idle(page)
    page.get_by_text("3 question(s) will be imported").wait_for()
    page.get_by_role("button", name="Import 3 question(s)").click()
    wait_idle(page)
    page.get_by_text("Imported.").wait_for()

    with Session(engine) as s:
        owner = s.exec(select(User).where(User.username == "giftprof")).one()
        rows = s.exec(select(Question).where(Question.owner_id == owner.id)).all()
    assert len(rows) == 3 and not any(r.published for r in rows)

    # The list: every question opened, its prompt drawn as markdown.
    _show(page, "My questions")
    labels = ["Mark · Private", "Pool · Private", "Short · Private"]
    for label in labels:
        page.get_by_text(label, exact=True).click()
    wait_idle(page)
    page.get_by_text("Which layer keeps the").first.wait_for()
    assert _injected(page) == []
    screenshot(page, "interop-my-questions")

    # The form and its learner's-eye preview: choices, feedback-bearing answers and the explanation.
    for label in labels:
        _show(page, "My questions")
        edit = (
            page.locator("[data-testid='stExpander']")
            .filter(has_text=label)
            .get_by_role("button", name="Edit")
        )
        if not edit.is_visible():
            page.get_by_text(label, exact=True).click()
        edit.click()
        wait_idle(page)
        page.get_by_text("Preview", exact=True).wait_for()
        page.get_by_text("After answering", exact=True).click()
        wait_idle(page)
        assert _injected(page) == []
    screenshot(page, "interop-preview")
    page.wait_for_timeout(300)  # let any stray handler fire before checking for dialogs
    assert fired == []
    ctx.close()
    engine.dispose()
