"""Anki packages with genanki: one note per question, a subdeck per topic, GUIDs from question ids.

The note GUID is genanki.guid_for(question id) and the note type and deck ids are fixed, so importing a
newer export of the same questions updates the notes in place instead of adding copies. Every field is
HTML-escaped: Anki renders fields as HTML, and nothing from a question may run there.
"""

import hashlib
from html import escape
from pathlib import Path
from typing import Any

import genanki

from quizapp.grading import _expected

MODEL_ID = 1_607_392_319  # fixed: re-imports must match the note type
_CSS = ".card { font-family: sans-serif; font-size: 18px; text-align: left; }\nul { margin-top: 0.5em; }"

MODEL = genanki.Model(
    MODEL_ID,
    "quizapp question",
    fields=[{"name": "Front"}, {"name": "Back"}, {"name": "QuestionId"}],
    templates=[
        {
            "name": "Card 1",
            "qfmt": "{{Front}}",
            "afmt": '{{FrontSide}}<hr id="answer">{{Back}}',
        }
    ],
    css=_CSS,
)


def _html(text: str) -> str:
    return escape(text.strip()).replace("\n", "<br>")


def deck_id(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:6], "big")


def front(q: dict[str, Any]) -> str:
    out = _html(q["prompt"])
    if q["type"] in ("single", "multi"):
        how = "Choose one:" if q["type"] == "single" else "Choose all that apply:"
        items = "".join(f"<li>{_html(c)}</li>" for c in q["choices"])
        out += f"<br><br>{how}<ul>{items}</ul>"
    elif q["type"] == "truefalse":
        out += "<br><br>True or false?"
    return out


def back(q: dict[str, Any]) -> str:
    answer = _expected(q)
    if q["type"] == "open":
        points = "".join(f"<li>{_html(k)}</li>" for k in q["key_points"])
        answer_html = f"{_html(answer)}<br><br><b>Key points</b><ul>{points}</ul>"
    else:
        answer_html = _html(answer)
    return f"<b>Answer</b><br>{answer_html}<br><br><b>Why</b><br>{_html(q['explanation'])}"


def write_apkg(
    questions: list[dict[str, Any]], path: Path, *, deck_name: str = "quizapp", timestamp: float | None = None
) -> int:
    decks: dict[str, genanki.Deck] = {}
    for q in questions:
        name = f"{deck_name}::{q['topic']}"
        deck = decks.get(name)
        if deck is None:
            deck = decks[name] = genanki.Deck(deck_id(name), name)
        tags = [t.replace(" ", "-") for t in q.get("tags") or []]
        deck.add_note(
            genanki.Note(
                model=MODEL,
                fields=[front(q), back(q), escape(q["id"])],
                tags=tags,
                guid=genanki.guid_for(q["id"]),
            )
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    # The notes' modification time (default: now). Anki updates a note on re-import only when the
    # incoming one is newer, so two exports within one second may not update each other.
    genanki.Package(list(decks.values())).write_to_file(str(path), timestamp=timestamp)
    return len(questions)
