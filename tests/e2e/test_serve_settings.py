"""`quizapp serve` runs with the production settings: no garbage collection forced after every script
run, no file watching; `--dev` keeps Streamlit's development defaults."""

import json
import time
import urllib.request

from quizapp.cli import PRODUCTION_FLAGS, serve_command


def _health(server):
    with urllib.request.urlopen(f"{server}/_quizapp/health", timeout=10) as r:
        return json.load(r)


def test_the_running_server_has_the_production_settings(server):
    got = _health(server)
    assert {k: got[k] for k in ("ok", "post_script_gc", "file_watcher", "run_on_save")} == {
        "ok": True,
        "post_script_gc": False,
        "file_watcher": "none",
        "run_on_save": False,
    }


def test_the_server_warms_the_demo_runtime_at_start(server):
    """torch's one-off costs are paid in the background after start-up, not by the first demo run."""
    deadline = time.monotonic() + 90
    while not (got := _health(server))["demos_warm"] or not got["embeddings_imported"]:
        assert time.monotonic() < deadline, "the demo runtime was not warmed within 90 s of start-up"
        time.sleep(0.5)


def test_dev_keeps_streamlits_defaults(monkeypatch):
    monkeypatch.delenv("QUIZAPP_DEV", raising=False)
    prod = serve_command(["--server.port", "8600"])
    assert all(flag in prod for flag in PRODUCTION_FLAGS) and prod[-2:] == ["--server.port", "8600"]
    dev = serve_command(["--dev", "--server.port", "8600"])
    assert not set(PRODUCTION_FLAGS) & set(dev) and "--dev" not in dev
    monkeypatch.setenv("QUIZAPP_DEV", "1")
    assert not set(PRODUCTION_FLAGS) & set(serve_command([]))
