"""The Anki package, imported by Anki itself: one note per question; a re-import after an edit updates
the note and adds none."""

import sqlite3
import zipfile

import pytest

from quizapp.interop import write_apkg
from quizapp.interop.anki import MODEL_ID

anki_collection = pytest.importorskip("anki.collection")

QS = [
    {"id": "tf-one", "kind": "quiz", "type": "truefalse", "topic": "cnn", "difficulty": 1,
     "prompt": "Pooling has weights.", "explanation": "It has none.", "tags": ["pooling"], "answer": False},
    {"id": "pick-one", "kind": "quiz", "type": "single", "topic": "rnn", "difficulty": 2,
     "prompt": "Which gate <b>forgets</b>?", "explanation": "The forget gate.", "tags": [],
     "choices": ["forget", "input"], "answer": "forget"},
    {"id": "open-one", "kind": "interview", "type": "open", "topic": "rnn", "difficulty": 3,
     "prompt": "Explain BPTT.", "explanation": "Unroll and backprop.", "tags": ["bptt"],
     "answer": "Unroll the network in time.", "key_points": ["unrolling", "shared weights"]},
]  # fmt: skip


def _import(col, path):
    from anki.import_export_pb2 import (
        ImportAnkiPackageOptions,
        ImportAnkiPackageRequest,
        ImportAnkiPackageUpdateCondition,
    )

    options = ImportAnkiPackageOptions(
        update_notes=ImportAnkiPackageUpdateCondition.IMPORT_ANKI_PACKAGE_UPDATE_CONDITION_ALWAYS,
        update_notetypes=ImportAnkiPackageUpdateCondition.IMPORT_ANKI_PACKAGE_UPDATE_CONDITION_ALWAYS,
        with_scheduling=False,
    )
    return col.import_anki_package(ImportAnkiPackageRequest(package_path=str(path), options=options))


def test_anki_imports_then_updates_in_place(tmp_path):
    apkg = tmp_path / "first.apkg"
    assert write_apkg(QS, apkg, timestamp=1_800_000_000) == 3
    col = anki_collection.Collection(str(tmp_path / "collection.anki2"))
    try:
        _import(col, apkg)
        ids = col.find_notes("")
        assert len(ids) == 3
        notes = {col.get_note(n)["QuestionId"]: col.get_note(n) for n in ids}
        assert set(notes) == {"tf-one", "pick-one", "open-one"}
        assert "Which gate &lt;b&gt;forgets&lt;/b&gt;?" in notes["pick-one"]["Front"]
        assert "<li>forget</li>" in notes["pick-one"]["Front"]
        assert "The forget gate." in notes["pick-one"]["Back"]
        assert "shared weights" in notes["open-one"]["Back"]
        assert notes["tf-one"].tags == ["pooling"]
        decks = {col.decks.name(col.get_note(n).cards()[0].did) for n in ids}
        assert decks == {"quizapp::cnn", "quizapp::rnn"}

        edited = [dict(q) for q in QS]
        edited[1]["explanation"] = "Only the forget gate scales the old cell state."
        second = tmp_path / "second.apkg"
        write_apkg(edited, second, timestamp=1_800_000_060)  # exported a minute later
        _import(col, second)
        after = col.find_notes("")
        assert sorted(after) == sorted(ids)  # zero new notes
        updated = next(col.get_note(n) for n in after if col.get_note(n)["QuestionId"] == "pick-one")
        assert "Only the forget gate scales the old cell state." in updated["Back"]
        assert "The forget gate." not in updated["Back"]
    finally:
        col.close()


def test_package_guids_come_from_question_ids(tmp_path):
    import genanki

    apkg = tmp_path / "d.apkg"
    write_apkg(QS, apkg)
    with zipfile.ZipFile(apkg) as z:
        z.extract("collection.anki2", tmp_path)
    con = sqlite3.connect(tmp_path / "collection.anki2")
    guids = {row[0] for row in con.execute("select guid from notes")}
    mids = {row[0] for row in con.execute("select mid from notes")}
    con.close()
    assert guids == {genanki.guid_for(q["id"]) for q in QS}
    assert mids == {MODEL_ID}
