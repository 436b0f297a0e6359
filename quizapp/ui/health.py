"""GET /_quizapp/health: the server is up, and the per-run settings it runs with (no secrets)."""

import sys

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


async def _health(request: Request) -> JSONResponse:
    from streamlit import config

    runtime = sys.modules.get("demos.runtime")  # never imported here: only read if the server warmed it

    return JSONResponse(
        {
            "ok": True,
            "post_script_gc": config.get_option("runner.postScriptGC"),
            "file_watcher": config.get_option("server.fileWatcherType"),
            "run_on_save": config.get_option("server.runOnSave"),
            "demos_warm": bool(getattr(runtime, "_warm_done", False)),
            "embeddings_imported": "sentence_transformers" in sys.modules,
        },
        headers={"Cache-Control": "no-store"},
    )


def health_routes() -> list[Route]:
    return [Route("/_quizapp/health", _health, methods=["GET"], name="health")]
