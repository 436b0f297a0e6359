"""Anonymous progress in a real browser: it survives a reload and a restart, and signing in adopts it."""

import pytest

from quizapp.auth import create_user
from quizapp.db import make_engine, write_session
from tests.e2e.conftest import screenshot, wait_idle

pytestmark = pytest.mark.e2e

PW = "correct horse battery"
PROMPT = "ReLU's derivative is 0 for negative inputs."


def _cookie(context, name):
    return next((c for c in context.cookies() if c["name"] == name), None)


def _new_context(browser, **kw):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, **kw)
    ctx.set_default_timeout(30_000)
    return ctx


def _progress_shows_the_answer(page, base):
    page.goto(f"{base}/progress")
    wait_idle(page)
    page.get_by_test_id("stMetric").filter(has_text="Answered").get_by_text("1", exact=True).wait_for()
    page.get_by_text("Kept for this browser", exact=False).wait_for()


def test_anonymous_progress_survives_and_is_adopted_on_sign_in(browser, server, e2e_db):
    base = server
    engine = make_engine(e2e_db)
    with write_session(engine) as s:
        create_user(session=s, username="e2e-adopter", role="learner", password=PW)
    engine.dispose()

    first = _new_context(browser)
    page = first.new_page()
    page.goto(f"{base}/practice?topic=activation-functions")
    wait_idle(page)
    device = _cookie(first, "quizapp_device")
    assert device is not None and device["httpOnly"] and device["sameSite"] == "Lax"
    assert device["expires"] > 0  # a lasting cookie, not one that ends with the browser session
    assert "quizapp_device" not in page.evaluate("document.cookie")
    page.get_by_role("button", name="Start").click()
    wait_idle(page)
    page.get_by_text(PROMPT).wait_for()
    page.get_by_test_id("stRadio").get_by_text("True", exact=True).click()
    page.get_by_role("button", name="Submit").click()
    wait_idle(page)
    page.get_by_text("Correct.", exact=True).wait_for()

    page.reload()  # a reload starts a new Streamlit session; the cookie names the same identity
    wait_idle(page)
    _progress_shows_the_answer(page, base)
    screenshot(page, "device-progress-after-reload")

    # A browser restart: a new context holding only the cookies the browser kept on disk.
    state = first.storage_state()
    first.close()
    second = _new_context(browser, storage_state=state)
    page = second.new_page()
    _progress_shows_the_answer(page, base)
    assert _cookie(second, "quizapp_device")["value"] == device["value"]

    # Sign in from the sidebar: back on My progress, with the answer and the message.
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_role("link", name="Sign in").click()
    page.wait_for_url(f"{base}/auth/signin?next=%2Fprogress")
    page.get_by_text("The 1 answer you gave in this browser will move to your account.").wait_for()
    screenshot(page, "device-sign-in-form")
    page.get_by_label("Username").fill("e2e-adopter")
    page.get_by_label("Password").fill(PW)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/progress**")
    page.get_by_text("1 answer from this browser was added to your account.").wait_for()
    wait_idle(page)
    sidebar.get_by_text("Signed in as e2e-adopter (learner)").wait_for()
    page.get_by_test_id("stMetric").filter(has_text="Answered").get_by_text("1", exact=True).wait_for()
    page.wait_for_url(f"{base}/progress")  # the one-time marker is gone from the address
    screenshot(page, "device-adopted-after-sign-in")
    assert _cookie(second, "quizapp_device")["value"] != device["value"]  # a fresh device token

    # The message shows once: a reload does not repeat it.
    page.reload()
    wait_idle(page)
    sidebar.get_by_text("Signed in as e2e-adopter (learner)").wait_for()
    assert page.get_by_text("added to your account").count() == 0

    # Signed out, this browser starts afresh: the answer is the account's now.
    page.goto(f"{base}/auth/signout")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{base}/")
    wait_idle(page)
    page.goto(f"{base}/progress")
    wait_idle(page)
    page.get_by_text("No answers yet").wait_for()
    second.close()
