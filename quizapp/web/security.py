"""Two small ASGI middlewares on every request the server answers (st.App's middleware list):

- FrameHeadersMiddleware: `Content-Security-Policy: frame-ancestors ...` and `X-Frame-Options` on
  every HTTP response (Streamlit's pages and static files included), so no page on another origin can
  frame the app (clickjacking). QUIZAPP_FRAME_ANCESTORS sets the sources (default `'self'`;
  `'none'` forbids framing altogether and sends X-Frame-Options DENY, else SAMEORIGIN).
- OriginCheckMiddleware: the websocket (`/_stcore/stream`) and every POST under /auth/ are refused
  (403) when the browser's `Origin` is not one of the public origins: QUIZAPP_PUBLIC_ORIGIN
  (comma-separated, e.g. `https://quiz.example.org`), by default the origin the request was sent to
  (its Host header). A websocket without an Origin (not a browser) passes.
"""

import os
from collections.abc import Mapping
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from quizapp.web.client import served_hosts

_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def frame_ancestors() -> str:
    value = " ".join(os.environ.get("QUIZAPP_FRAME_ANCESTORS", "'self'").replace(";", " ").split())
    return value or "'self'"


def frame_headers() -> dict[str, str]:
    sources = frame_ancestors()
    return {
        "content-security-policy": f"frame-ancestors {sources}",
        "x-frame-options": "DENY" if sources == "'none'" else "SAMEORIGIN",
    }


class FrameHeadersMiddleware:
    """Adds the framing headers to every HTTP response that does not already carry its own."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = frame_headers()

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                csp = headers.get("content-security-policy", "")
                if "frame-ancestors" not in csp:
                    headers.append("content-security-policy", extra["content-security-policy"])
                if "x-frame-options" not in headers:
                    headers["x-frame-options"] = extra["x-frame-options"]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _origin(url: str) -> str | None:
    """scheme://host[:port] in lower case, the default port dropped; None for anything else."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    keep = port is not None and port != _DEFAULT_PORTS[parts.scheme]
    return f"{parts.scheme}://{host}{f':{port}' if keep else ''}"


@lru_cache(maxsize=8)
def _parse_public(text: str) -> frozenset[str]:
    found = set()
    for item in text.split(","):
        if not item.strip():
            continue
        origin = _origin(item)
        if origin is None:
            raise ValueError(
                f"QUIZAPP_PUBLIC_ORIGIN: {item.strip()!r} is not an origin like https://host[:port]"
            )
        found.add(origin)
    return frozenset(found)


def public_origins() -> frozenset[str]:
    return _parse_public(os.environ.get("QUIZAPP_PUBLIC_ORIGIN", ""))


def origin_allowed(origin: str, host: str | list[str]) -> bool:
    """Whether a browser's Origin (or Referer) is one of the public origins; with none configured,
    whether it names the host and port the request was sent to (`host`: the Host header, or every
    name the request was addressed by; the scheme may differ behind a TLS proxy)."""
    got = _origin(origin)
    if got is None:
        return False
    configured = public_origins()
    if configured:
        return got in configured
    hosts = [host] if isinstance(host, str) else host
    netloc = urlsplit(origin.strip()).netloc.lower()
    return any(h and netloc == h.strip().lower() for h in hosts)


def _headers(scope: Mapping[str, Any]) -> dict[bytes, str]:
    return {k.lower(): v.decode("latin-1") for k, v in scope.get("headers") or []}


class OriginCheckMiddleware:
    """Refuses the websocket and /auth/ posts coming from a page of another origin."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind, path = scope["type"], scope.get("path", "")
        checked = (kind == "websocket" and path.endswith("/_stcore/stream")) or (
            kind == "http" and scope.get("method") == "POST" and path.startswith("/auth/")
        )
        if checked:
            headers = _headers(scope)
            origin = headers.get(b"origin")
            if kind == "http" and (not origin or origin == "null"):
                origin = headers.get(b"referer")  # the /auth/ forms' own check needs one of the two
            if origin is not None and not origin_allowed(origin, served_hosts(scope)):
                if kind == "websocket":
                    await send({"type": "websocket.close", "code": 1008})  # before accept: HTTP 403
                    return
                await PlainTextResponse("Refused: this request came from another site.", 403)(
                    scope, receive, send
                )
                return
        await self.app(scope, receive, send)
