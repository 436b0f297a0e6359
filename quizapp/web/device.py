"""The anonymous device cookie: set on page loads by a small ASGI middleware, read back by the app.

The cookie is `<token>.<day>`: a random token (the database keeps its SHA-256, quizapp/devices.py) and
the UTC day number it was last sent on. The day lets the middleware renew the cookie at most once a day
without asking the database; the database row is made and renewed by the app when it first meets the
token. Only page loads (GET answered with HTML) are touched: scripts, styles, images, the websocket and
the health checks pass through untouched.
"""

import time
from collections.abc import Iterable
from http.cookies import SimpleCookie

from starlette.datastructures import MutableHeaders
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from quizapp.devices import anon_lifetime, is_token, new_token
from quizapp.web.client import is_https

DEVICE_COOKIE = "quizapp_device"
# Streamlit's own endpoints and component frames are never a page load of the app.
_SKIP_PREFIXES = ("/_stcore/", "/component/", "/media/", "/app/static/", "/static/")


def today() -> int:
    return int(time.time() // 86400)


def parse_cookie(value: object) -> tuple[str, int] | None:
    """(token, day) from a well-formed, unexpired cookie value, else None."""
    if not isinstance(value, str) or value.count(".") != 1:
        return None
    token, _, day_text = value.partition(".")
    if not is_token(token) or not day_text.isdigit() or len(day_text) > 6:
        return None
    day, now = int(day_text), today()
    if day > now + 1 or (now - day) * 86400 >= anon_lifetime().total_seconds():
        return None
    return token, day


def device_token(value: object) -> str | None:
    """The device token in a cookie value, or None."""
    parsed = parse_cookie(value)
    return parsed[0] if parsed else None


def set_device_cookie(response: Response, token: str, *, secure: bool) -> None:
    response.set_cookie(
        DEVICE_COOKIE,
        f"{token}.{today()}",
        max_age=int(anon_lifetime().total_seconds()),
        path="/",
        httponly=True,
        samesite="lax",
        secure=secure,
    )


def _request_cookie(headers: Iterable[tuple[bytes, bytes]]) -> str | None:
    for name, value in headers:
        if name == b"cookie":
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # a malformed Cookie header: treat as absent
                continue
            if DEVICE_COOKIE in jar:
                return jar[DEVICE_COOKIE].value
    return None


class DeviceCookieMiddleware:
    """Give every browser that loads a page a device cookie, and renew it once a day it is used."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or scope["path"].startswith(_SKIP_PREFIXES):
            await self.app(scope, receive, send)
            return
        parsed = parse_cookie(_request_cookie(scope.get("headers", [])))
        if parsed is not None and parsed[1] >= today():
            await self.app(scope, receive, send)
            return
        token = parsed[0] if parsed else new_token()
        secure = is_https(scope)  # X-Forwarded-Proto from a trusted proxy, QUIZAPP_COOKIE_SECURE

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] in (200, 304):
                headers = MutableHeaders(scope=message)
                already = any(v.startswith(f"{DEVICE_COOKIE}=") for v in headers.getlist("set-cookie"))
                is_page = headers.get("content-type", "").startswith("text/html") or (
                    message["status"] == 304 and "text/html" in _accept(scope)
                )
                if is_page and not already:
                    carrier = Response()
                    set_device_cookie(carrier, token, secure=secure)
                    for value in carrier.headers.getlist("set-cookie"):
                        headers.append("set-cookie", value)
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def _accept(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"accept":
            return value.decode("latin-1")
    return ""
