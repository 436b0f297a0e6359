"""Accounts in a real browser: the st.App server (quizapp/ui/server.py) with its /auth/ pages."""

from pathlib import Path

import pytest

from tests.e2e.conftest import wait_idle

pytestmark = pytest.mark.e2e

SERVER = Path(__file__).resolve().parents[2] / "quizapp" / "ui" / "server.py"
PW = "correct horse battery"


@pytest.fixture
def context(browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(30_000)
    yield ctx
    ctx.close()


def _session_cookie(context):
    return next((c for c in context.cookies() if c["name"] == "quizapp_session"), None)


def test_sign_up_survives_a_reload_and_sign_out_ends_it(context, server):
    """A visitor signs up, reloads and is still signed in, signs out, and is signed out."""
    base = server
    page = context.new_page()
    page.goto(f"{base}/auth/signup")
    page.get_by_label("Username").fill("e2e-learner")
    page.get_by_label("Password", exact=True).fill(PW)
    page.get_by_label("Password again").fill(PW)
    page.get_by_role("button", name="Sign up").click()
    page.wait_for_url(f"{base}/")
    wait_idle(page)

    cookie = _session_cookie(context)
    assert cookie is not None and cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    assert page.evaluate("document.cookie").find("quizapp_session") == -1  # out of reach of scripts

    page.reload()
    wait_idle(page)
    page.get_by_test_id("stSidebar").get_by_text("Signed in as e2e-learner (learner)").wait_for()
    page.goto(f"{base}/auth/signout")
    page.get_by_text("Signed in as e2e-learner (learner).").wait_for()

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{base}/")
    wait_idle(page)
    assert _session_cookie(context) is None
    page.goto(f"{base}/auth/signout")
    page.get_by_text("You are not signed in.").wait_for()


def test_wrong_password_then_right_one(context, server):
    """A wrong password shows the one generic message and keeps nothing typed in the password box."""
    base = server
    page = context.new_page()
    page.goto(f"{base}/auth/signup")
    page.get_by_label("Username").fill("e2e-returning")
    page.get_by_label("Password", exact=True).fill(PW)
    page.get_by_label("Password again").fill(PW)
    page.get_by_role("button", name="Sign up").click()
    page.wait_for_url(f"{base}/")
    context.clear_cookies()

    page.goto(f"{base}/auth/signin?next=/practice")
    page.get_by_label("Username").fill("e2e-returning")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text("Wrong username or password").wait_for()
    assert page.get_by_label("Password").input_value() == ""
    assert "not the password" not in page.content()
    page.get_by_label("Password").fill(PW)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/practice")
    wait_idle(page)
    assert _session_cookie(context) is not None
