"""What `quizapp serve` runs: the Streamlit app plus the /auth/ pages, on one server (Streamlit's st.App).

`streamlit run quizapp/ui/server.py` finds `app` below and serves it with uvicorn.
"""

import contextlib
import os
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import streamlit as st
from starlette.middleware import Middleware

from quizapp.housekeeping import start_purging
from quizapp.ui.health import health_routes
from quizapp.web.device import DeviceCookieMiddleware
from quizapp.web.routes import auth_routes
from quizapp.web.security import FrameHeadersMiddleware, OriginCheckMiddleware


@asynccontextmanager
async def _lifespan(_app: Any) -> AsyncIterator[None]:
    """At start-up, torch's one-off costs (imports, threads, the first optimizer) are paid in a
    background thread of the server process, so the first demo run is as fast as the second. Pages
    still import torch only on the demos page; QUIZAPP_WARM_DEMOS=0 turns this off."""
    if os.environ.get("QUIZAPP_WARM_DEMOS", "1") != "0":
        from demos.runtime import warm_up

        warm_up(background=True)
        # The key-point model's library takes seconds to import; its weights (0.2 s) still load on
        # first use, on the pages that score answers.
        threading.Thread(target=_import_embeddings, name="quizapp-embeddings-import", daemon=True).start()
    # Expired anonymous browsers are purged every QUIZAPP_PURGE_EVERY seconds (quizapp/housekeeping.py).
    stop_purging = start_purging()
    try:
        yield
    finally:
        if stop_purging is not None:
            stop_purging.set()


def _import_embeddings() -> None:
    # Without the interview extra there is nothing to import: the pages fall back to self-rating.
    with contextlib.suppress(ImportError):
        import sentence_transformers  # noqa: F401


# The middleware: framing headers on every response and the Origin check on the websocket and /auth/
# posts (quizapp/web/security.py); each browser that loads a page gets its anonymous device cookie
# (quizapp/web/device.py).
app = st.App(
    Path(__file__).resolve().parent / "app.py",
    routes=[*auth_routes(), *health_routes()],
    middleware=[
        Middleware(FrameHeadersMiddleware),
        Middleware(OriginCheckMiddleware),
        Middleware(DeviceCookieMiddleware),
    ],
    lifespan=_lifespan,
)
