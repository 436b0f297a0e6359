"""quizapp/web/security.py: framing headers and the Origin check, with their settings
(QUIZAPP_FRAME_ANCESTORS, QUIZAPP_PUBLIC_ORIGIN); tests/e2e/test_security_server.py checks them on a
real server."""

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import PlainTextResponse
from starlette.routing import Route, WebSocketRoute
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from quizapp.web.security import FrameHeadersMiddleware, OriginCheckMiddleware, origin_allowed


async def _stream(ws):
    await ws.accept()
    await ws.send_text("hello")
    await ws.close()


def _page(request):
    return PlainTextResponse("ok")


def _own(request):
    return PlainTextResponse(
        "own", headers={"Content-Security-Policy": "frame-ancestors 'none'", "X-Frame-Options": "DENY"}
    )


@pytest.fixture
def client():
    app = Starlette(
        routes=[
            Route("/", _page),
            Route("/own", _own),
            Route("/auth/signin", _page, methods=["GET", "POST"]),
            WebSocketRoute("/_stcore/stream", _stream),
        ],
        middleware=[Middleware(FrameHeadersMiddleware), Middleware(OriginCheckMiddleware)],
    )
    with TestClient(app, base_url="http://quiz.test:8501") as c:
        yield c


def test_frame_headers_default_configured_and_kept(client, monkeypatch):
    monkeypatch.delenv("QUIZAPP_FRAME_ANCESTORS", raising=False)
    r = client.get("/")
    assert r.headers["content-security-policy"] == "frame-ancestors 'self'"
    assert r.headers["x-frame-options"] == "SAMEORIGIN"
    monkeypatch.setenv("QUIZAPP_FRAME_ANCESTORS", "'none'")
    assert client.get("/").headers["x-frame-options"] == "DENY"
    monkeypatch.setenv("QUIZAPP_FRAME_ANCESTORS", "'self' https://lms.example")
    r = client.get("/")
    assert r.headers["content-security-policy"] == "frame-ancestors 'self' https://lms.example"
    own = client.get("/own")  # a response with its own stricter policy keeps it, once
    assert own.headers.get_list("content-security-policy") == ["frame-ancestors 'none'"]
    assert own.headers.get_list("x-frame-options") == ["DENY"]


def _hello(client, origin):
    headers = {"Host": "quiz.test:8501", **({"Origin": origin} if origin else {})}
    with client.websocket_connect("/_stcore/stream", headers=headers) as ws:
        return ws.receive_text()


def test_websocket_origin_default_is_the_served_host(client, monkeypatch):
    monkeypatch.delenv("QUIZAPP_PUBLIC_ORIGIN", raising=False)
    assert _hello(client, "http://quiz.test:8501") == "hello"
    assert _hello(client, "https://quiz.test:8501") == "hello"  # behind a TLS proxy
    assert _hello(client, None) == "hello"  # not a browser
    for bad in ("http://localhost:9999", "http://quiz.test:8502", "https://evil.example", "null"):
        with pytest.raises(WebSocketDisconnect) as refused:
            _hello(client, bad)
        assert refused.value.code == 1008


def test_public_origin_setting(client, monkeypatch):
    monkeypatch.setenv("QUIZAPP_PUBLIC_ORIGIN", "https://Quiz.Example.org:443, http://10.0.0.5:8501")
    assert _hello(client, "https://quiz.example.org") == "hello"
    assert _hello(client, "http://10.0.0.5:8501") == "hello"
    with pytest.raises(WebSocketDisconnect):
        _hello(client, "http://quiz.test:8501")  # the Host no longer counts once origins are set
    ok = client.post("/auth/signin", headers={"Origin": "https://quiz.example.org"})
    assert ok.status_code == 200
    bad = client.post("/auth/signin", headers={"Origin": "http://quiz.test:8501"})
    assert bad.status_code == 403
    referer = client.post("/auth/signin", headers={"Referer": "https://evil.example/x"})
    assert referer.status_code == 403
    monkeypatch.setenv("QUIZAPP_PUBLIC_ORIGIN", "quiz.example.org")
    with pytest.raises(ValueError, match="QUIZAPP_PUBLIC_ORIGIN"):
        origin_allowed("https://quiz.example.org", "x")


def test_auth_posts_from_another_origin_are_refused(client, monkeypatch):
    monkeypatch.delenv("QUIZAPP_PUBLIC_ORIGIN", raising=False)
    assert client.post("/auth/signin", headers={"Origin": "http://quiz.test:8501"}).status_code == 200
    assert client.post("/auth/signin", headers={"Origin": "http://localhost:9999"}).status_code == 403
    assert client.get("/auth/signin", headers={"Origin": "http://localhost:9999"}).status_code == 200


def test_a_trusted_proxy_may_name_the_host_the_browser_used(client, monkeypatch):
    """A proxy that passes requests on under its own Host sends X-Forwarded-Host; it counts only from
    a proxy listed in QUIZAPP_TRUSTED_PROXIES (the test client's peer is 'testclient')."""
    monkeypatch.delenv("QUIZAPP_PUBLIC_ORIGIN", raising=False)
    headers = {"Origin": "https://quiz.example.org", "X-Forwarded-Host": "quiz.example.org"}
    assert client.post("/auth/signin", headers=headers).status_code == 403
    monkeypatch.setattr("quizapp.web.client._is_trusted", lambda address, proxies: address == "testclient")
    assert client.post("/auth/signin", headers=headers).status_code == 200
