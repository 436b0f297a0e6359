import re
from html import escape

import pytest
from sqlmodel import select
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import HTMLResponse, PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from quizapp import devices, sessions
from quizapp.auth import create_user
from quizapp.bank.loader import load_bank
from quizapp.bank.sync import sync_bank
from quizapp.db import make_engine, read_session, write_session
from quizapp.identity import Actor
from quizapp.migrate import upgrade
from quizapp.models import AnonDevice, Attempt
from quizapp.practice import start_attempt, submit_answer
from quizapp.web.device import DEVICE_COOKIE, DeviceCookieMiddleware, device_token, today
from quizapp.web.routes import CSRF_COOKIE, SESSION_COOKIE, auth_routes, safe_next
from tests.utils.bank import SAMPLE

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
    page = client.get("/auth/signup", params={"next": '/"><script>alert(1)</script>'})
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


# The anonymous device cookie and adoption on sign-in/up --------------------------------------------


def _page(request):
    return HTMLResponse("<!doctype html><title>app</title>")


def _asset(request):
    return PlainTextResponse("console.log(1)", media_type="application/javascript")


@pytest.fixture
def site(engine, write_bank):
    """The /auth/ pages plus stand-ins for Streamlit's page and assets, behind the device middleware."""
    with write_session(engine) as s:
        create_user(session=s, username="alice", role="learner", password=PW)
        sync_bank(session=s, loaded=load_bank(write_bank({"s.yaml": SAMPLE})).questions)
    routes = [
        *auth_routes(engine=engine),
        Route("/", _page),
        Route("/practice", _page),
        Route("/static/js/main.js", _asset),
        Route("/_stcore/health", _asset),
    ]
    app = Starlette(routes=routes, middleware=[Middleware(DeviceCookieMiddleware)])
    with TestClient(app, follow_redirects=False) as c:
        yield c


def test_a_page_load_sets_a_safe_device_cookie_and_assets_do_not(site):
    assert site.get("/static/js/main.js").headers.get_list("set-cookie") == []
    assert site.get("/_stcore/health").headers.get_list("set-cookie") == []
    page = site.get("/practice", headers={"Accept": "text/html"})
    flags = _cookie(page, DEVICE_COOKIE)
    assert "httponly" in flags and "samesite=lax" in flags and "path=/" in flags
    assert f"max-age={90 * 86400}" in flags and "secure" not in flags
    value = site.cookies[DEVICE_COOKIE]
    assert device_token(value) is not None and value.endswith(f".{today()}")
    # Sent back today: nothing to renew, so no header (and no database work on any request).
    assert site.get("/").headers.get_list("set-cookie") == []
    assert site.post("/", headers=ORIGIN).headers.get_list("set-cookie") == []


def test_the_device_cookie_is_renewed_once_a_day_and_replaced_when_bad(site, monkeypatch):
    token = devices.new_token()
    site.cookies.set(DEVICE_COOKIE, f"{token}.{today() - 3}")
    renewed = site.get("/")
    assert f"{DEVICE_COOKIE}={token}.{today()};" in renewed.headers["set-cookie"]  # same token, new day
    for bad in ("nonsense", f"{token}.{today() - 91}", f"{token}.{today() + 5}", f"{token[:-1]}!.{today()}"):
        site.cookies.clear()
        site.cookies.set(DEVICE_COOKIE, bad)
        fresh = device_token(site.get("/").headers["set-cookie"].split(";")[0].split("=", 1)[1])
        assert fresh is not None and fresh != token
    monkeypatch.setenv("QUIZAPP_ANON_DAYS", "7")
    site.cookies.clear()
    assert f"max-age={7 * 86400}" in _cookie(site.get("/"), DEVICE_COOKIE)


def test_the_device_cookie_is_secure_over_https(engine):
    app = Starlette(routes=[Route("/", _page)], middleware=[Middleware(DeviceCookieMiddleware)])
    with TestClient(app, base_url="https://testserver") as c:
        assert "; secure" in _cookie(c.get("/"), DEVICE_COOKIE)


def _anonymous_answer(engine, client):
    """Answer a question as the browser whose device cookie the client holds (what the app does)."""
    token = device_token(client.cookies[DEVICE_COOKIE])
    with write_session(engine) as s:
        anon = Actor.anonymous(devices.resolve_device(session=s, token=token))
        attempt_id = start_attempt(session=s, actor=anon)
        submit_answer(session=s, actor=anon, attempt_id=attempt_id, question_id="s-tf", answer=True)
    return token, attempt_id


def test_sign_in_adopts_the_browsers_answers_and_returns_with_a_marker(site, engine):
    site.get("/practice")
    token, attempt_id = _anonymous_answer(engine, site)
    form = site.get("/auth/signin", params={"next": "/practice?topic=cnn"})
    assert "The 1 answer you gave in this browser will move to your account." in form.text
    assert 'name="next" value="/practice?topic=cnn"' in form.text
    response = _sign_in(site, next="/practice?topic=cnn&adopted=99")
    assert response.status_code == 303
    assert response.headers["location"] == "/practice?topic=cnn&adopted=1"
    flags = _cookie(response, DEVICE_COOKIE)  # a new device token: the old one's answers are the account's
    assert "httponly" in flags and "samesite=lax" in flags
    assert device_token(site.cookies[DEVICE_COOKIE]) not in (None, token)
    with read_session(engine) as s:
        me = sessions.resolve(session=s, token=site.cookies[SESSION_COOKIE])
        attempt = s.get(Attempt, attempt_id)
        assert (attempt.user_id, attempt.anon_key) == (me.user_id, None)
        assert s.exec(select(AnonDevice)).one().adopted_by == me.user_id
    # Signed out and in again: the new device has nothing, so no marker.
    page = site.get("/auth/signout")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    site.post("/auth/signout", data={"csrf": csrf}, headers=ORIGIN)
    assert _sign_in(site, next="/practice").headers["location"] == "/practice"


def test_sign_up_through_the_form_keeps_the_browsers_answers(site, engine):
    site.get("/")
    _, attempt_id = _anonymous_answer(engine, site)
    page = site.get("/auth/signup")
    assert "will move to your account" in page.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    data = {"csrf": csrf, "username": "newbie", "password": PW, "password2": PW}
    response = site.post("/auth/signup", data=data, headers=ORIGIN)
    assert response.status_code == 303 and response.headers["location"] == "/?adopted=1"
    with read_session(engine) as s:
        me = sessions.resolve(session=s, token=site.cookies[SESSION_COOKIE])
        assert s.get(Attempt, attempt_id).user_id == me.user_id


def test_a_failed_sign_in_adopts_nothing(site, engine):
    site.get("/")
    _, attempt_id = _anonymous_answer(engine, site)
    assert _sign_in(site, password="wrong password!").status_code == 400
    with read_session(engine) as s:
        assert s.get(Attempt, attempt_id).user_id is None
        assert s.exec(select(AnonDevice)).one().adopted_by is None
