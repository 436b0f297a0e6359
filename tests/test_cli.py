import json
import subprocess
import sys

import pytest

from quizapp.cli import main
from tests.utils.bank import SAMPLE


def test_validate_ok_and_broken(write_bank, capsys):
    folder = write_bank({"s.yaml": SAMPLE})
    assert main(["bank", "validate", str(folder)]) == 0
    assert "ok: 7 questions in 1 file(s)" in capsys.readouterr().out
    (folder / "t.yaml").write_text("- id: t-1\n  kind: quiz\n  type: single\n  topic: cnn\n")
    assert main(["bank", "validate", str(folder)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out and all(line.startswith(f"{folder / 't.yaml'}:1: ") for line in out)
    assert any("missing field 'prompt'" in line for line in out)


def test_init_syncs_and_bank_list_json_has_the_contract_fields(db_url, write_bank, monkeypatch, capsys):
    monkeypatch.setenv("QUIZAPP_DATABASE_URL", db_url)
    folder = write_bank({"s.yaml": SAMPLE})
    assert main(["init", "--questions", str(folder)]) == 0
    assert "7 added" in capsys.readouterr().out
    assert main(["bank", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 7
    contract = {
        "id",
        "kind",
        "type",
        "topic",
        "difficulty",
        "prompt",
        "answer",
        "explanation",
        "demo",
        "demo_params",
    }
    assert all(contract <= set(r) for r in rows)
    short = next(r for r in rows if r["id"] == "s-short")
    assert short["demo"] == "vanishing-gradients" and short["demo_params"] == {
        "activations": ["sigmoid", "relu"]
    }


def test_init_with_broken_bank_imports_nothing(db_url, write_bank, monkeypatch, capsys):
    monkeypatch.setenv("QUIZAPP_DATABASE_URL", db_url)
    folder = write_bank({"s.yaml": SAMPLE, "z.yaml": "- id: z\n  kind: quiz\n"})
    assert main(["init", "--questions", str(folder)]) == 1
    assert "nothing was imported" in capsys.readouterr().err
    assert main(["bank", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_user_add_hashes_with_argon2id(db_url, monkeypatch, capsys):
    import io

    from sqlmodel import Session, select

    from quizapp.db import make_engine
    from quizapp.models import User

    monkeypatch.setenv("QUIZAPP_DATABASE_URL", db_url)
    monkeypatch.setattr(sys, "stdin", io.StringIO("a long enough secret\n"))
    assert main(["user", "add", "teacher", "--role", "instructor", "--password-stdin"]) == 0
    assert "a long enough secret" not in capsys.readouterr().out
    with Session(make_engine(db_url)) as s:
        user = s.exec(select(User).where(User.username == "teacher")).one()
    assert user.role == "instructor" and user.password_hash.startswith("$argon2id$")
    monkeypatch.setattr(sys, "stdin", io.StringIO("short\n"))
    assert main(["user", "add", "other", "--role", "learner", "--password-stdin"]) == 1
    assert "at least 10 characters" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["--help"], ["bank", "--help"], ["demo", "run", "--help"]])
def test_console_script_is_installed(argv):
    done = subprocess.run([sys.executable, "-m", "quizapp.cli", *argv], capture_output=True, text=True)
    assert done.returncode == 0 and "usage:" in done.stdout
