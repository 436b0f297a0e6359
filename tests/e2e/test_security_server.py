"""Issue 15, findings 3 and 4 against a real `quizapp serve`: framing headers on every response
(Streamlit's page, its static files, the /auth/ pages, the health route) and the websocket refused
from another origin, even another port of localhost."""

import re
import urllib.error
import urllib.request

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect


def _get(url, headers=None):
    req = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(req, timeout=20) as r:
        return r.status, r.headers, r.read().decode("utf-8", "replace")


def test_every_response_forbids_framing_by_other_origins(server):
    status, headers, html = _get(server + "/")
    asset = re.search(r'(?:src|href)="\.?/?(static/[^"]+\.(?:js|css))"', html)
    assert asset, html[:500]
    for path in ("/", "/auth/signin", "/" + asset.group(1), "/_quizapp/health", "/_stcore/health"):
        status, headers, _ = _get(server + path)
        assert status == 200, path
        policies = headers.get_all("content-security-policy") or []
        assert any(re.search(r"frame-ancestors '(self|none)'", p) for p in policies), (path, policies)
        assert headers["x-frame-options"] in ("SAMEORIGIN", "DENY"), path


def _ws(server, origin):
    url = server.replace("http://", "ws://") + "/_stcore/stream"
    return connect(url, origin=origin, subprotocols=["streamlit"], open_timeout=20)


def test_the_websocket_refuses_another_origin(server):
    with pytest.raises(InvalidStatus) as refused:
        _ws(server, "http://localhost:9999")
    assert refused.value.response.status_code == 403
    with pytest.raises(InvalidStatus):
        _ws(server, "https://evil.example")
    with _ws(server, server) as ws:  # the page's own origin: accepted
        assert ws.protocol is not None


def test_auth_posts_from_another_origin_are_refused(server):
    req = urllib.request.Request(
        server + "/auth/signin",
        data=b"username=a&password=b&csrf=x",
        headers={"Origin": "http://localhost:9999", "Content-Type": "application/x-www-form-urlencoded"},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(req, timeout=20)
    assert refused.value.code == 403
