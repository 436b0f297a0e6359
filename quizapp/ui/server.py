"""What `quizapp serve` runs: the Streamlit app plus the /auth/ pages, on one server (Streamlit's st.App).

`streamlit run quizapp/ui/server.py` finds `app` below and serves it with uvicorn.
"""

from pathlib import Path

import streamlit as st
from starlette.middleware import Middleware

from quizapp.web.device import DeviceCookieMiddleware
from quizapp.web.routes import auth_routes

# The middleware gives each browser that loads a page its anonymous device cookie (quizapp/web/device.py).
app = st.App(
    Path(__file__).resolve().parent / "app.py",
    routes=auth_routes(),
    middleware=[Middleware(DeviceCookieMiddleware)],
)
