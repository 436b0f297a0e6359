"""Sign-in, sign-up and sign-out pages: small server-rendered forms that set the session cookie.

Streamlit cannot set an HttpOnly cookie from a script, so these routes run beside it (st.App) and the
app reads the cookie back through st.context.cookies. Every form is protected twice against
cross-site posts: a double-submit token (cookie + hidden field) and a same-origin Origin/Referer check.
Signing in or up adopts the anonymous progress of the browser's device cookie (quizapp/devices.py) in
the same transaction, gives the browser a new device token, and returns to `next` with `adopted=N`.
Sign-in and sign-up posts spend the client address's budget and sign-in tries are slowed per
(name, address) by quizapp/throttle.py: past either, a 429 with Retry-After, before any hashing.
"""

import base64
import hashlib
import hmac
import math
import secrets
from collections.abc import Callable
from html import escape
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from quizapp import devices, sessions
from quizapp.auth import AccountError
from quizapp.db import read_session, write_session
from quizapp.throttle import Throttle, get_throttle
from quizapp.web.client import client_address, is_https, served_hosts
from quizapp.web.device import DEVICE_COOKIE, device_token, set_device_cookie
from quizapp.web.security import origin_allowed

SESSION_COOKIE = "quizapp_session"
# The query parameter that tells the app how many answers a sign-in brought along (quizapp/ui/account.py).
ADOPTED_PARAM = "adopted"
CSRF_COOKIE = "quizapp_csrf"
CSRF_FIELD = "csrf"
APP_TITLE = "Deep-learning interview prep"

_CSS = """
*{box-sizing:border-box}
body{margin:0;min-height:100vh;display:flex;align-items:flex-start;justify-content:center;
 background:#fff;color:#31333f;font:16px/1.6 "Source Sans Pro","Source Sans 3",system-ui,sans-serif}
main{width:100%;max-width:26rem;margin:4rem 1rem;padding:2rem;border:1px solid #e6e6ea;border-radius:.75rem}
h1{font-size:1.6rem;font-weight:700;margin:0 0 1rem}
label{display:block;font-size:.875rem;margin:1rem 0 .25rem}
input[type=text],input[type=password]{width:100%;padding:.5rem .75rem;font:inherit;color:inherit;
 background:#f0f2f6;border:1px solid #f0f2f6;border-radius:.5rem}
input:focus{outline:none;border-color:#ff4b4b}
button{margin-top:1.5rem;padding:.4rem .9rem;font:inherit;color:#fff;background:#ff4b4b;
 border:1px solid #ff4b4b;border-radius:.5rem;cursor:pointer}
button:hover{background:#ff3333}
a{color:#0068c9}
.error{padding:.75rem 1rem;background:#ffecec;color:#7d353b;border-radius:.5rem}
.note{padding:.75rem 1rem;background:#e8f2fc;color:#004280;border-radius:.5rem}
.hint{font-size:.875rem;color:#808495}
.links{margin-top:1.5rem;font-size:.9rem}
"""
_CSS_HASH = base64.b64encode(hashlib.sha256(_CSS.encode()).digest()).decode()
_SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        f"default-src 'none'; style-src 'sha256-{_CSS_HASH}'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


# Safety checks -------------------------------------------------------------------------------------


def safe_next(value: str | None) -> str:
    """A same-site path to go to after the form, or "/" for anything that could leave the site."""
    if not value or len(value) > 512 or not value.startswith("/") or value.startswith("//"):
        return "/"
    if "\\" in value or any(ord(c) < 0x21 or ord(c) == 0x7F for c in value):
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return "/"
    return value


def same_origin(request: Request) -> bool:
    """True when the browser says the form was posted from a page of a public origin
    (QUIZAPP_PUBLIC_ORIGIN; by default this host and port, whatever the scheme: behind a
    TLS-terminating proxy the scheme seen here differs from the browser's)."""
    source = request.headers.get("origin")
    if not source or source == "null":
        source = request.headers.get("referer")
    if not source:
        return False
    return origin_allowed(source, served_hosts(request))


def _is_https(request: Request) -> bool:
    # X-Forwarded-Proto from a trusted proxy and QUIZAPP_COOKIE_SECURE count (quizapp/web/client.py).
    return is_https(request)


def _csrf_token(request: Request) -> str:
    current = request.cookies.get(CSRF_COOKIE, "")
    return current if 32 <= len(current) <= 64 else secrets.token_urlsafe(32)


def _csrf_ok(request: Request, form_token: str) -> bool:
    cookie = request.cookies.get(CSRF_COOKIE, "")
    return bool(cookie) and hmac.compare_digest(cookie.encode(), form_token.encode())


# Rendering ----------------------------------------------------------------------------------------


def _html(title: str, body: str, *, status: int = 200) -> HTMLResponse:
    page = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="robots" content="noindex">'
        f"<title>{escape(title)} · {escape(APP_TITLE)}</title><style>{_CSS}</style></head>"
        f"<body><main><h1>{escape(title)}</h1>{body}"
        '<p class="links"><a href="/">← Back to the app</a></p></main></body></html>'
    )
    return HTMLResponse(page, status_code=status, headers=_SECURITY_HEADERS)


def _form_page(request: Request, title: str, body: str, csrf: str, *, status: int = 200) -> HTMLResponse:
    """A page holding a form; (re)sets the CSRF cookie whose value the form's hidden field carries."""
    response = _html(title, body, status=status)
    response.set_cookie(
        CSRF_COOKIE,
        csrf,
        max_age=2 * 3600,
        path="/auth",
        httponly=True,
        samesite="strict",
        secure=_is_https(request),
    )
    return response


def _hidden(name: str, value: str) -> str:
    return f'<input type="hidden" name="{escape(name)}" value="{escape(value)}">'


def _error(message: str | None) -> str:
    return f'<p class="error" role="alert">{escape(message)}</p>' if message else ""


def _link(path: str, next_path: str) -> str:
    return f"{path}?{urlencode({'next': next_path})}" if next_path != "/" else path


def _keeps(pending: int) -> str:
    if pending <= 0:
        return ""
    answers = "1 answer" if pending == 1 else f"{pending} answers"
    return f'<p class="note">The {answers} you gave in this browser will move to your account.</p>'


def _signin_body(
    *, csrf: str, username: str = "", error: str | None = None, next_path: str = "/", pending: int = 0
) -> str:
    # The password field never gets a value: a submitted password is never sent back.
    return (
        f"{_error(error)}{_keeps(pending)}"
        '<form method="post" action="/auth/signin">'
        f"{_hidden(CSRF_FIELD, csrf)}{_hidden('next', next_path)}"
        '<label for="username">Username</label>'
        f'<input id="username" name="username" type="text" value="{escape(username)}" '
        f'autocomplete="username" autocapitalize="none" required{"" if username else " autofocus"}>'
        '<label for="password">Password</label>'
        '<input id="password" name="password" type="password" autocomplete="current-password" '
        f"required{' autofocus' if username else ''}>"
        '<button type="submit">Sign in</button></form>'
        f'<p class="links">No account yet? <a href="{escape(_link("/auth/signup", next_path))}">'
        "Sign up</a></p>"
    )


def _signup_body(
    *, csrf: str, username: str = "", error: str | None = None, next_path: str = "/", pending: int = 0
) -> str:
    return (
        f"{_error(error)}{_keeps(pending)}"
        '<form method="post" action="/auth/signup">'
        f"{_hidden(CSRF_FIELD, csrf)}{_hidden('next', next_path)}"
        '<label for="username">Username</label>'
        f'<input id="username" name="username" type="text" value="{escape(username)}" '
        'autocomplete="username" autocapitalize="none" required autofocus>'
        '<p class="hint">3 to 64 letters, digits, ".", "_" or "-".</p>'
        '<label for="password">Password</label>'
        '<input id="password" name="password" type="password" autocomplete="new-password" required>'
        '<label for="password2">Password again</label>'
        '<input id="password2" name="password2" type="password" autocomplete="new-password" required>'
        '<p class="hint">At least 10 characters; a short sentence is easy to remember.</p>'
        '<button type="submit">Sign up</button></form>'
        f'<p class="links">Have an account? <a href="{escape(_link("/auth/signin", next_path))}">'
        "Sign in</a></p>"
    )


def _signed_in_body(username: str, role: str, csrf: str) -> str:
    return (
        f"<p>Signed in as <strong>{escape(username)}</strong> ({escape(role)}).</p>"
        '<form method="post" action="/auth/signout">'
        f'{_hidden(CSRF_FIELD, csrf)}<button type="submit">Sign out</button></form>'
    )


def _too_many(request: Request, title: str, body: str, csrf: str, wait: float) -> HTMLResponse:
    """429 with Retry-After: the form again, with how long to wait; nothing was checked or hashed."""
    response = _form_page(request, title, body, csrf, status=429)
    response.headers["Retry-After"] = str(max(1, math.ceil(wait)))
    return response


def _wait_text(wait: float) -> str:
    seconds = max(1, math.ceil(wait))
    return f"{seconds} second{'s' if seconds != 1 else ''}"


def _forbidden() -> HTMLResponse:
    return _html(
        "Form refused",
        '<p class="error" role="alert">This form expired or was sent from another site, so nothing was '
        "done. Open the page again and resend it.</p>"
        '<p><a href="/auth/signin">Sign in</a></p>',
        status=403,
    )


def _with_adopted(next_path: str, answers: int) -> str:
    """The next path with `adopted=N` in its query (replacing any there), when answers moved."""
    if answers <= 0:
        return next_path
    parts = urlsplit(next_path)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != ADOPTED_PARAM]
    query.append((ADOPTED_PARAM, str(answers)))
    return urlunsplit(("", "", parts.path, urlencode(query), parts.fragment))


def _signed_in_redirect(request: Request, token: str, next_path: str, adopted: int) -> RedirectResponse:
    response = RedirectResponse(
        _with_adopted(next_path, adopted), status_code=303, headers={"Cache-Control": "no-store"}
    )
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(sessions.session_lifetime().total_seconds()),
        path="/",
        httponly=True,
        samesite="lax",
        secure=_is_https(request),
    )
    # A new device token: the old one's progress now belongs to the account, and after signing out
    # this browser starts a fresh anonymous identity.
    set_device_cookie(response, devices.new_token(), secure=_is_https(request))
    return response


# Handlers -----------------------------------------------------------------------------------------


def _device(request: Request) -> str | None:
    return device_token(request.cookies.get(DEVICE_COOKIE))


class _AuthPages:
    def __init__(self, engine: Engine | None, throttle: Throttle | None) -> None:
        self.engine = engine
        self._throttle = throttle

    @property
    def throttle(self) -> Throttle:
        return self._throttle if self._throttle is not None else get_throttle()

    async def _checked_form(self, request: Request) -> dict[str, str] | None:
        """The posted fields, or None when the post fails the origin or CSRF check."""
        form = await request.form(max_files=0, max_fields=20)
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        if not same_origin(request) or not _csrf_ok(request, fields.get(CSRF_FIELD, "")):
            return None
        return fields

    def _account(self, token: str | None) -> sessions.Account | None:
        with read_session(self.engine) as s:
            return sessions.resolve_account(session=s, token=token)

    def _visitor(self, token: str | None, device: str | None) -> tuple[sessions.Account | None, int]:
        """Who is signed in, and else how many answers this browser's device would bring along."""
        with read_session(self.engine) as s:
            account = sessions.resolve_account(session=s, token=token)
            pending = 0 if account else devices.pending_answers(session=s, token=device)
            return account, pending

    @staticmethod
    def _adopt(s: Session, token: str, device: str | None) -> int:
        """In the sign-in's own transaction: the browser's anonymous progress joins the account."""
        actor = sessions.resolve(session=s, token=token)
        assert actor is not None and actor.user_id is not None
        return devices.adopt_device(session=s, token=device, user_id=actor.user_id).answers

    def _sign_in(
        self, username: str, password: str, old_token: str | None, device: str | None
    ) -> tuple[str, int]:
        with write_session(self.engine) as s:
            token = sessions.sign_in(session=s, username=username, password=password)
            sessions.sign_out(session=s, token=old_token)
            return token, self._adopt(s, token, device)

    def _sign_up(
        self, username: str, password: str, old_token: str | None, device: str | None
    ) -> tuple[str, int]:
        with write_session(self.engine) as s:
            token = sessions.sign_up(session=s, username=username, password=password)
            sessions.sign_out(session=s, token=old_token)
            return token, self._adopt(s, token, device)

    def _sign_out(self, token: str | None) -> None:
        with write_session(self.engine) as s:
            sessions.sign_out(session=s, token=token)

    async def _blank_form(self, request: Request, title: str, body: Callable[..., str]) -> Response:
        """GET of the sign-in or sign-up page: the empty form, or who is signed in already."""
        csrf = _csrf_token(request)
        account, pending = await run_in_threadpool(
            self._visitor, request.cookies.get(SESSION_COOKIE), _device(request)
        )
        if account is not None:
            return _form_page(
                request, title, _signed_in_body(account.username, account.actor.role, csrf), csrf
            )
        next_path = safe_next(request.query_params.get("next"))
        return _form_page(request, title, body(csrf=csrf, next_path=next_path, pending=pending), csrf)

    @staticmethod
    def _credentials(fields: dict[str, str]) -> tuple[str, str, str]:
        """(next path, username, password) from a posted sign-in or sign-up form."""
        return safe_next(fields.get("next")), fields.get("username", "").strip(), fields.get("password", "")

    async def signin(self, request: Request) -> Response:
        if request.method == "GET":
            return await self._blank_form(request, "Sign in", _signin_body)
        current, csrf = request.cookies.get(SESSION_COOKIE), _csrf_token(request)
        address = client_address(request)
        # The budget is spent before the form is even read; nothing past it reaches Argon2.
        if wait := self.throttle.spend("signin", address):
            error = f"Too many sign-in attempts from your address. Wait {_wait_text(wait)} and try again."
            return _too_many(request, "Sign in", _signin_body(csrf=csrf, error=error), csrf, wait)
        fields = await self._checked_form(request)
        if fields is None:
            return _forbidden()
        next_path, username, password = self._credentials(fields)
        if wait := self.throttle.wait(username, address):
            # Unknown names are slowed the same way, so this tells nothing about who has an account.
            error = f"Too many failed sign-ins for this name. Wait {_wait_text(wait)} and try again."
            body = _signin_body(csrf=csrf, username=username, error=error, next_path=next_path)
            return _too_many(request, "Sign in", body, csrf, wait)
        # Counted as a miss before the check, so concurrent guesses see each other; a success takes it back.
        self.throttle.failed(username, address)
        try:
            token, adopted = await run_in_threadpool(
                self._sign_in, username, password, current, _device(request)
            )
        except sessions.SignInError as exc:
            body = _signin_body(csrf=csrf, username=username, error=str(exc), next_path=next_path)
            return _form_page(request, "Sign in", body, csrf, status=400)
        self.throttle.succeeded(username, address)
        return _signed_in_redirect(request, token, next_path, adopted)

    async def signup(self, request: Request) -> Response:
        if request.method == "GET":
            return await self._blank_form(request, "Sign up", _signup_body)
        current, csrf = request.cookies.get(SESSION_COOKIE), _csrf_token(request)
        if wait := self.throttle.spend("signup", client_address(request)):
            error = f"Too many sign-ups from your address. Wait {_wait_text(wait)} and try again."
            return _too_many(request, "Sign up", _signup_body(csrf=csrf, error=error), csrf, wait)
        fields = await self._checked_form(request)
        if fields is None:
            return _forbidden()
        next_path, username, password = self._credentials(fields)

        def again(error: str) -> HTMLResponse:
            body = _signup_body(csrf=csrf, username=username, error=error, next_path=next_path)
            return _form_page(request, "Sign up", body, csrf, status=400)

        if password != fields.get("password2", ""):
            return again("The two passwords differ; type the same password twice.")
        try:
            token, adopted = await run_in_threadpool(
                self._sign_up, username, password, current, _device(request)
            )
        except AccountError as exc:
            message = str(exc)
            return again(message[:1].upper() + message[1:] + ".")
        return _signed_in_redirect(request, token, next_path, adopted)

    async def signout(self, request: Request) -> Response:
        current, csrf = request.cookies.get(SESSION_COOKIE), _csrf_token(request)
        if request.method == "GET":
            account = await run_in_threadpool(self._account, current)
            if account is None:
                return _html(
                    "Sign out", '<p>You are not signed in.</p><p><a href="/auth/signin">Sign in</a></p>'
                )
            body = _signed_in_body(account.username, account.actor.role, csrf)
            return _form_page(request, "Sign out", body, csrf)
        if await self._checked_form(request) is None:
            return _forbidden()
        await run_in_threadpool(self._sign_out, current)
        response = RedirectResponse("/", status_code=303, headers={"Cache-Control": "no-store"})
        response.delete_cookie(
            SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=_is_https(request)
        )
        return response


def auth_routes(*, engine: Engine | None = None, throttle: Throttle | None = None) -> list[Route]:
    """The /auth/ pages; engine None means the configured database (QUIZAPP_DATABASE_URL), throttle
    None the process's (quizapp.throttle.get_throttle)."""
    pages = _AuthPages(engine, throttle)
    methods = ["GET", "POST"]
    return [
        Route("/auth/signin", pages.signin, methods=methods, name="signin"),
        Route("/auth/signup", pages.signup, methods=methods, name="signup"),
        Route("/auth/signout", pages.signout, methods=methods, name="signout"),
    ]
