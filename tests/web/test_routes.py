import re
from html import escape

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from quizapp import sessions
from quizapp.auth import create_user
from quizapp.db import make_engine, read_session, write_session
from quizapp.identity import Actor
from quizapp.migrate import upgrade
from quizapp.models import Attempt
from quizapp.practice import start_attempt
from quizapp.web.routes import CSRF_COOKIE, SESSION_COOKIE, auth_routes, safe_next

PW = "correct horse battery"
ORIGIN = {"Origin": "http://testserver"}
XSS = "<img src=x onerror=alert(1)>"


@pytest.fixture
def engine(tmp_path):
    """SQLite only: the HTTP layer does not depend on the engine; tests/db/test_sessions.py covers both."""
    url = f"sqlite:///{tmp_path / 'web.db'}"
    upgrade(url)
    eng = make_engine(url)
    yield eng
    eng.dispose()


@pytest.fixture
def app(engine):
    with write_session(engine) as s:
        create_user(session=s, username="alice", role="learner", password=PW)
    return Starlette(routes=auth_routes(engine=engine))


@pytest.fixture
def client(app):
    with TestClient(app, follow_redirects=False) as c:
        yield c


def _csrf(client, path="/auth/signin"):
    page = client.get(path)
    assert page.status_code == 200
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)


def _cookie(response, name):
    """The Set-Cookie header for one cookie, lower-cased, so flags can be checked."""
    found = [h for h in response.headers.get_list("set-cookie") if h.startswith(f"{name}=")]
    assert len(found) == 1, response.headers.get_list("set-cookie")
    return found[0].lower()


def _sign_in(client, username="alice", password=PW, headers=ORIGIN, **extra):
    data = {"csrf": _csrf(client), "username": username, "password": password, **extra}
    return client.post("/auth/signin", data=data, headers=headers)


def test_the_form_carries_the_csrf_cookie_value(client):
    page = client.get("/auth/signin")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    flags = _cookie(page, CSRF_COOKIE)
    assert token == client.cookies[CSRF_COOKIE]
    assert "httponly" in flags and "samesite=strict" in flags and "path=/auth" in flags
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"


def test_sign_in_sets_a_safe_session_cookie(client, engine):
    response = _sign_in(client)
    assert response.status_code == 303 and response.headers["location"] == "/"
    flags = _cookie(response, SESSION_COOKIE)
    assert "httponly" in flags and "samesite=lax" in flags and "path=/" in flags
    assert "max-age=1209600" in flags and "secure" not in flags
    with read_session(engine) as s:
        assert sessions.resolve(session=s, token=client.cookies[SESSION_COOKIE]) is not None


def test_the_session_cookie_is_secure_over_https(app):
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as c:
        response = _sign_in(c, headers={"Origin": "https://testserver"})
    assert response.status_code == 303
    assert "; secure" in _cookie(response, SESSION_COOKIE)


@pytest.mark.parametrize(
    "tamper",
    ["no token", "wrong token", "no cookie", "foreign origin", "foreign referer", "no origin", "null origin"],
)
def test_cross_site_posts_are_refused(client, tamper):
    token = _csrf(client)
    data = {"csrf": token, "username": "alice", "password": PW}
    headers = dict(ORIGIN)
    if tamper == "no token":
        del data["csrf"]
    elif tamper == "wrong token":
        data["csrf"] = "x" * len(token)
    elif tamper == "no cookie":
        client.cookies.clear()
    elif tamper == "foreign origin":
        headers = {"Origin": "https://evil.example"}
    elif tamper == "foreign referer":
        headers = {"Referer": "https://evil.example/page"}
    elif tamper == "no origin":
        headers = {}
    elif tamper == "null origin":
        headers = {"Origin": "null"}
    response = client.post("/auth/signin", data=data, headers=headers)
    assert response.status_code == 403
    assert SESSION_COOKIE not in client.cookies


def test_a_same_origin_referer_is_enough_without_origin(client):
    response = _sign_in(client, headers={"Referer": "http://testserver/auth/signin"})
    assert response.status_code == 303


def test_a_failed_sign_in_says_nothing_specific_and_echoes_no_password(client):
    wrong = "my-Secret guess 42"
    for username in ("alice", "nobody"):
        response = _sign_in(client, username=username, password=wrong)
        assert response.status_code == 400
        assert sessions.GENERIC_FAILURE in response.text
        assert wrong not in response.text and escape(wrong) not in response.text
        assert f'value="{username}"' in response.text  # the username is kept, the password is not
    assert SESSION_COOKIE not in client.cookies


def test_html_in_a_username_renders_as_text(client):
    for path, extra in (("/auth/signin", {}), ("/auth/signup", {"password2": PW})):
        data = {"csrf": _csrf(client, path), "username": XSS, "password": PW, **extra}
        response = client.post(path, data=data, headers=ORIGIN)
        assert response.status_code == 400
        assert XSS not in response.text
        assert escape(XSS) in response.text


def test_html_in_query_values_renders_as_text(client):
    page = client.get("/auth/signup", params={"claim": '"><script>alert(1)</script>', "next": "/x<y"})
    assert "<script>alert" not in page.text
    assert "&quot;&gt;&lt;script&gt;" in page.text


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "\\\\evil.example",
        "/\t/evil.example",
        "javascript:alert(1)",
        "evil.example",
        "",
    ],
)
def test_no_redirect_leaves_the_site(client, target):
    response = _sign_in(client, next=target)
    assert response.status_code == 303 and response.headers["location"] == "/"


def test_a_same_site_next_path_is_followed(client):
    assert _sign_in(client, next="/practice?topic=cnn").headers["location"] == "/practice?topic=cnn"
    assert safe_next("/progress") == "/progress"


def test_sign_up_signs_in_and_checks_the_password_twice(client, engine):
    data = {
        "csrf": _csrf(client, "/auth/signup"),
        "username": "newbie",
        "password": PW,
        "password2": PW + "!",
    }
    response = client.post("/auth/signup", data=data, headers=ORIGIN)
    assert response.status_code == 400 and "differ" in response.text and PW not in response.text
    data["password2"] = PW
    response = client.post("/auth/signup", data=data, headers=ORIGIN)
    assert response.status_code == 303
    with read_session(engine) as s:
        account = sessions.resolve_account(session=s, token=client.cookies[SESSION_COOKIE])
    assert account.username == "newbie" and account.actor.role == "learner"
    again = client.post("/auth/signup", data={**data, "username": "alice"}, headers=ORIGIN)
    assert again.status_code == 400 and "taken" in again.text and PW not in again.text


def test_sign_out_revokes_the_session_and_deletes_the_cookie(client, engine):
    _sign_in(client)
    token = client.cookies[SESSION_COOKIE]
    page = client.get("/auth/signout")
    assert "Signed in as <strong>alice</strong>" in page.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    assert (
        client.post(
            "/auth/signout", data={"csrf": csrf}, headers={"Origin": "https://evil.example"}
        ).status_code
        == 403
    )
    response = client.post("/auth/signout", data={"csrf": csrf}, headers=ORIGIN)
    assert response.status_code == 303 and response.headers["location"] == "/"
    assert "max-age=0" in _cookie(response, SESSION_COOKIE)
    assert SESSION_COOKIE not in client.cookies
    with read_session(engine) as s:
        assert sessions.resolve(session=s, token=token) is None
    assert "You are not signed in" in client.get("/auth/signout").text


def test_signing_in_again_revokes_the_previous_session(client, engine):
    _sign_in(client)
    first = client.cookies[SESSION_COOKIE]
    _sign_in(client)
    with read_session(engine) as s:
        assert sessions.resolve(session=s, token=first) is None
        assert sessions.resolve(session=s, token=client.cookies[SESSION_COOKIE]) is not None


def test_sign_up_through_the_form_keeps_the_anonymous_attempts(client, engine):
    anon = Actor.anonymous()
    with write_session(engine) as s:
        attempt_id = start_attempt(session=s, actor=anon)
        ticket = sessions.make_claim_ticket(session=s, anon_key=anon.anon_key)
    signin = client.get("/auth/signin", params={"claim": ticket})
    assert escape(f"/auth/signup?claim={ticket}") in signin.text  # the sign-up link keeps the ticket
    page = client.get("/auth/signup", params={"claim": ticket})
    assert f'name="claim" value="{ticket}"' in page.text and "moves to your new account" in page.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    data = {"csrf": csrf, "claim": ticket, "username": "newbie", "password": PW, "password2": PW}
    assert client.post("/auth/signup", data=data, headers=ORIGIN).status_code == 303
    with read_session(engine) as s:
        me = sessions.resolve(session=s, token=client.cookies[SESSION_COOKIE])
        assert s.get(Attempt, attempt_id).user_id == me.user_id
