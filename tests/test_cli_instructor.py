import argparse
import csv
import io
import json

import pytest

from quizapp.cli import main as quizapp_main
from quizapp.cli_instructor import add_commands
from tests.utils.bank import SAMPLE


def run(argv: list[str]) -> int:
    """Parse as `quizapp` will once cli.py registers these commands."""
    parser = argparse.ArgumentParser(prog="quizapp")
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


@pytest.fixture
def sampled(db_url, write_bank, monkeypatch, capsys):
    monkeypatch.setenv("QUIZAPP_DATABASE_URL", db_url)
    assert quizapp_main(["init", "--questions", str(write_bank({"s.yaml": SAMPLE}))]) == 0
    capsys.readouterr()
    assert run(["sample-data", "--learners", "12", "--cohort", "Night class"]) == 0
    return capsys.readouterr().out


def test_sample_data_reports_what_it_made(sampled):
    assert "cohort 'Night class' (join code " in sampled
    assert "12 learners" in sampled
    assert "password (shown only now): " in sampled


def test_export_gradebook_to_stdout_and_file(sampled, tmp_path, capsys):
    assert run(["export", "gradebook", "--cohort", "Night class"]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows[0] == ["username", "Sample assignment 1", "Sample assignment 2"] and len(rows) == 13
    out = tmp_path / "grades.csv"
    assert run(["export", "gradebook", "--cohort", "Night class", "--out", str(out)]) == 0
    assert list(csv.reader(out.open(newline=""))) == rows


def test_export_responses(sampled, tmp_path):
    out = tmp_path / "responses.csv"
    assert run(["export", "responses", "--cohort", "Night class", "--out", str(out)]) == 0
    rows = list(csv.reader(out.open(newline="")))
    assert rows[0] == [
        "attempt_id",
        "username",
        "assignment",
        "question_id",
        "answer",
        "score",
        "answered_at",
    ]
    assert len(rows) > 12 and all(0.0 <= float(r[5]) <= 1.0 for r in rows[1:])
    assert all(r[4] and r[6].endswith("Z") for r in rows[1:])  # sample learners answer everything


def test_stats_items_json_and_table(sampled, capsys):
    assert run(["stats", "items", "--cohort", "Night class", "--json"]) == 0
    items = json.loads(capsys.readouterr().out)
    assert items and all(
        list(i)[:5] == ["question_id", "n", "facility", "discrimination_index", "flag"] for i in items
    )
    assert run(["stats", "items", "--cohort", "Night class"]) == 0
    assert "flagged for review" in capsys.readouterr().out


def test_unknown_cohort_is_a_clear_error(sampled, capsys):
    for argv in (
        ["export", "gradebook", "--cohort", "Nope"],
        ["export", "responses", "--cohort", "Nope"],
        ["stats", "items", "--cohort", "Nope", "--json"],
    ):
        assert run(argv) == 1
        captured = capsys.readouterr()
        assert captured.out == "" and "no cohort named 'Nope'; cohorts: Night class" in captured.err


def test_sample_data_twice_with_one_name_fails_cleanly(sampled, capsys):
    assert run(["sample-data", "--learners", "3", "--cohort", "Night class"]) == 1
    assert "already have a cohort called 'Night class'" in capsys.readouterr().err


def test_without_a_database(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("QUIZAPP_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    assert run(["stats", "items", "--cohort", "Any"]) == 1
    assert "quizapp init" in capsys.readouterr().err


def test_a_name_two_owners_share_is_refused_naming_the_owners(sampled, db_url, capsys):
    from quizapp.auth import create_user
    from quizapp.cohorts import create_cohort
    from quizapp.db import make_engine, write_session
    from quizapp.identity import Actor

    engine = make_engine(db_url)
    with write_session(engine) as s:
        other = create_user(
            session=s, username="second", role="instructor", password="a long enough password"
        )
        create_cohort(session=s, actor=Actor(user_id=other.id, role="instructor"), name="Night class")
    engine.dispose()
    assert run(["export", "gradebook", "--cohort", "Night class"]) == 1
    err = capsys.readouterr().err
    assert "several cohorts are named 'Night class' (owners: instructor, second)" in err
