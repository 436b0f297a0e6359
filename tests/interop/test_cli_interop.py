"""`quizapp bank import|export` on SQLite and PostgreSQL: the JSON contract, ownership, all-or-nothing
imports, dry runs, whole-file errors and exports of the public bank and of one owner's questions."""

import json
import sqlite3
import zipfile

import pytest
from sqlmodel import select

from quizapp.auth import create_user
from quizapp.cli import main
from quizapp.db import make_engine, read_session, write_session
from quizapp.models import Question

GIFT = """\
// A small file for these tests, written for this project.
$CATEGORY: $course$/Deep learning/cnn

::Pooling window::Which layer keeps the largest value in each window? {
=Max pooling # It keeps the maximum.
~Average pooling # It keeps the mean.
~Dropout
####Max pooling keeps the largest activation per window.
}

::Good regularisers::Which of these reduce overfitting? {
~%50%Dropout
~%50%Weight decay
~%-100%A larger model
####Dropout and weight decay both limit how closely the model fits noise.
}

::Stride one::A 3x3 convolution without padding, stride 1, on a 32-pixel input gives what width? {#30:0
####(32 - 3) / 1 + 1 = 30.}

::Relu slope::ReLU has slope zero for negative inputs. {T
####For x below zero ReLU is flat.}

::Pooling name::Name the pooling that keeps the maximum. {=max pooling =max*
####It is called max pooling.}

::Why pool::Explain why a CNN pools its feature maps. {
####Pooling shrinks the map. It makes the features tolerate small shifts.}

::Pairs::Match each layer to its job. {
=Pooling -> shrinks the map
=Dropout -> drops units
=Softmax -> makes probabilities
}
"""

BAD_FRACTION = """\
$CATEGORY: $course$/cnn

::Fine::Is max pooling a pooling? {T}

::Odd weight::Which are layers? {
~%42%Convolution
~%58%Pooling
~Banana
}
"""


@pytest.fixture
def cli_db(db_url, write_bank, monkeypatch):
    """A synced sample bank, an instructor, another instructor and a learner; returns their ids."""
    from tests.utils.bank import SAMPLE

    monkeypatch.setenv("QUIZAPP_DATABASE_URL", db_url)
    assert main(["init", "--questions", str(write_bank({"s.yaml": SAMPLE}))]) == 0
    engine = make_engine(db_url)
    with write_session(engine) as s:
        ids = {
            n: create_user(session=s, username=n, role=r, password="a long enough password").id
            for n, r in [("teach", "instructor"), ("other", "instructor"), ("ann", "learner")]
        }
    yield engine, ids
    engine.dispose()


def _owned(engine) -> list[Question]:
    with read_session(engine) as s:
        return list(s.exec(select(Question).where(Question.owner_id.is_not(None))).all())


def _run(capsys, *argv: str) -> tuple[int, dict | str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    try:
        return code, json.loads(out.out), out.err
    except json.JSONDecodeError:
        return code, out.out, out.err


def test_import_contract_ownership_and_visibility(cli_db, tmp_path, capsys):
    engine, ids = cli_db
    capsys.readouterr()
    src = tmp_path / "cnn.gift"
    src.write_text(GIFT, encoding="utf-8")

    code, _, err = _run(capsys, "bank", "import", str(src), "--format", "gift", "--json")
    assert code == 2 and "--owner USER is required" in err
    code, _, err = _run(capsys, "bank", "import", str(src), "--format", "gift", "--owner", "ann", "--json")
    assert code == 2 and "only instructors and admins own questions" in err
    code, _, err = _run(capsys, "bank", "import", str(src), "--format", "gift", "--owner", "nobody")
    assert code == 2 and "no user 'nobody'" in err
    assert _owned(engine) == []

    code, dry, _ = _run(
        capsys, "bank", "import", str(src), "--format", "gift", "--owner", "teach", "--dry-run", "--json"
    )
    assert code == 0 and dry["imported"] == 6 and dry["dry_run"] is True
    assert _owned(engine) == []

    code, report, _ = _run(
        capsys, "bank", "import", str(src), "--format", "gift", "--owner", "teach", "--json"
    )
    assert code == 0
    assert {"imported", "skipped", "refused", "questions"} <= set(report)
    assert report["imported"] == 6 and report["refused"] == []
    assert [s["question"] for s in report["skipped"]] == ["Pairs"] and "match" in report["skipped"][0][
        "reason"
    ]
    prefix = f"u{ids['teach']}-"
    assert {(q["id"], q["type"], q["title"]) for q in report["questions"]} == {
        (prefix + "pooling-window", "single", "Pooling window"),
        (prefix + "good-regularisers", "multi", "Good regularisers"),
        (prefix + "stride-one", "numeric", "Stride one"),
        (prefix + "relu-slope", "truefalse", "Relu slope"),
        (prefix + "pooling-name", "short", "Pooling name"),
        (prefix + "why-pool", "open", "Why pool"),
    }
    rows = _owned(engine)
    assert {r.owner_id for r in rows} == {ids["teach"]} and not any(r.published for r in rows)
    assert {r.topic for r in rows} == {"cnn"}

    # Unpublished: not in the public list.
    code, listed, _ = _run(capsys, "bank", "list", "--json")
    assert code == 0 and not any(r["id"].startswith(prefix) for r in listed) and len(listed) == 7

    # The same file again: every question unchanged, no new versions.
    code, again, _ = _run(
        capsys, "bank", "import", str(src), "--format", "gift", "--owner", "teach", "--json"
    )
    assert code == 0 and {q["status"] for q in again["questions"]} == {"unchanged"}
    assert {r.current_version for r in _owned(engine)} == {1}


def test_a_refused_question_imports_nothing(cli_db, tmp_path, capsys):
    engine, _ = cli_db
    capsys.readouterr()
    src = tmp_path / "bad.gift"
    src.write_text(BAD_FRACTION, encoding="utf-8")
    code, report, _ = _run(
        capsys, "bank", "import", str(src), "--format", "gift", "--owner", "teach", "--json"
    )
    assert code == 1 and report["imported"] == 0 and report["questions"] == []
    [refused] = report["refused"]
    assert refused["line"] == 5 and "42" in refused["reason"]
    assert _owned(engine) == []
    code, text_out, err = _run(capsys, "bank", "import", str(src), "--format", "gift", "--owner", "teach")
    assert code == 1 and "42" in err and "nothing was imported" in err


@pytest.mark.parametrize(
    ("name", "data", "fmt", "says"),
    [
        ("empty.gift", b"  \n\n", "gift", "empty"),
        ("deck.apkg", b"PK\x03\x04" + b"\0" * 64, "gift", "zip"),
        ("broken.xml", b"<quiz><question type='truefalse'>", "moodle-xml", ""),
        ("big.gift", b"x" * (20 * 2**20), "gift", "MB"),
    ],
)
def test_unreadable_files_are_refused_whole(cli_db, tmp_path, capsys, name, data, fmt, says):
    engine, _ = cli_db
    capsys.readouterr()
    src = tmp_path / name
    src.write_bytes(data)
    code, report, _ = _run(capsys, "bank", "import", str(src), "--format", fmt, "--owner", "teach", "--json")
    assert code == 1 and report["imported"] == 0
    [refused] = report["refused"]
    assert refused["question"] == name and says in refused["reason"]
    assert _owned(engine) == []


def test_export_public_bank_and_one_owner(cli_db, tmp_path, capsys):
    engine, ids = cli_db
    src = tmp_path / "cnn.gift"
    src.write_text(GIFT, encoding="utf-8")
    assert main(["bank", "import", str(src), "--format", "gift", "--owner", "teach"]) == 0
    capsys.readouterr()

    public = tmp_path / "bank.gift"
    assert main(["bank", "export", "--format", "gift", "--out", str(public)]) == 0
    text = public.read_text(encoding="utf-8")
    assert "[id:s-single]" in text and "Pooling window" not in text

    capsys.readouterr()
    xml = tmp_path / "mine.xml"
    code, info, _ = _run(
        capsys, "bank", "export", "--format", "moodle-xml", "--owner", "teach", "--out", str(xml), "--json"
    )
    assert code == 0 and info["questions"] == 6
    body = xml.read_text(encoding="utf-8")
    assert "Pooling window" in body and "s-single" not in body

    cnn_only = tmp_path / "cnn.gift"
    assert main(["bank", "export", "--format", "gift", "--topic", "cnn", "--out", str(cnn_only)]) == 0
    assert "[id:s-num]" in cnn_only.read_text() and "[id:s-tf]" not in cnn_only.read_text()
    assert main(["bank", "export", "--format", "gift", "--topic", "nope", "--out", str(cnn_only)]) == 2
    assert main(["bank", "export", "--format", "gift", "--owner", "other", "--out", str(cnn_only)]) == 1

    deck = tmp_path / "mine.apkg"
    assert main(["bank", "export", "--format", "apkg", "--owner", "teach", "--out", str(deck)]) == 0
    with zipfile.ZipFile(deck) as z:
        name = next(n for n in z.namelist() if n.startswith("collection.anki2"))
        (tmp_path / "c.db").write_bytes(z.read(name))
    with sqlite3.connect(tmp_path / "c.db") as con:
        assert con.execute("SELECT count(*) FROM notes").fetchone()[0] == 6

    # Our own GIFT export of the owner's questions comes back unchanged.
    mine = tmp_path / "mine.gift"
    assert main(["bank", "export", "--format", "gift", "--owner", "teach", "--out", str(mine)]) == 0
    capsys.readouterr()
    code, report, _ = _run(
        capsys, "bank", "import", str(mine), "--format", "gift", "--owner", "teach", "--json"
    )
    assert code == 0 and report["imported"] == 6
    assert {q["status"] for q in report["questions"]} == {"unchanged"}
    assert {r.current_version for r in _owned(engine)} == {1}
