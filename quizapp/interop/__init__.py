"""Moodle and Anki interop: read GIFT and Moodle XML into our questions, write them back, build .apkg.

Pure Python: no database, no UI. `parse` returns question dicts that QuestionSpec.model_validate takes
(the same keys as a YAML question entry, `title` included); the caller stores them. A file with any
refused question should import nothing; skipped questions (types we cannot represent) do not block
the rest.

Mapping (ours <-> Moodle):
- single <-> multichoice, single answer: the right choice is '=' (fraction 100); a wrong choice with
  partial credit keeps it in `credits` (Moodle rule: the chosen choice's fraction, never below 0).
- multi <-> multichoice, several answers: the choices with positive fractions are the answer list.
  Fractions of 1/k for the k right choices and -1/k for every wrong one are exactly our default rule and
  need no `credits`; any other split is kept in `credits` (Moodle rule: the sum of the chosen fractions,
  clamped to [0, 1]). A GIFT multichoice without '=' is multi, as in Moodle.
- truefalse <-> truefalse; feedback for each value in `feedback` ("true"/"false").
- numeric <-> numerical: the first 100% answer is the key (a range min..max becomes its midpoint with
  half the width as tolerance); further answers with partial credit go to `alternatives`; 0% answers are
  dropped with a notice; Moodle's '*' catch-all answer's feedback becomes feedback["*"].
- short <-> shortanswer: each answer with credit becomes a whole-string pattern (the text escaped, '*'
  any run of text, '\\*' a star), credit below 100% in `credits`; `usecase` -> `case_sensitive`
  (GIFT answers ignore case). On export a pattern that is more than literal text and '.*' is written as
  the plain answer it accepts (lossy for Moodle; our own re-import restores it from the comment).
- open <-> essay: XML graderinfo is the model answer (GIFT has none: the general feedback stands in, else
  a placeholder and a notice); key points are the model answer's sentences (at most six), since Moodle
  has none; exports put the model answer and the key points in graderinfo.
- name <-> `title` (exports name an untitled question by its id); general feedback <-> `explanation`
  (missing: a neutral sentence and a notice); per-answer feedback <-> `feedback`; category path <-> topic
  (last segment, a topic slug or title) and tags (the other segments); `[id:]`/<idnumber> <-> id;
  `[tag:]`/<tags> <-> tags. Fields Moodle has no place for (kind, difficulty, demo, demo_params,
  display_answer, key points, exact patterns) travel in a `quizapp: {json}` comment Moodle ignores.
- Texts: html and moodle-with-tags become markdown (paragraphs, lists, emphasis, code, http(s) links);
  scripts, styles, frames, event handlers and images are dropped; any tag left becomes &lt;; links to
  anything but http(s) lose their link syntax. Nothing imported can run.
- Skipped (one entry each): matching, cloze/multianswer, description, calculated*, drag-and-drop,
  gapselect, random, ordering and unknown types.
- Refused (file:line or name): weights that are not Moodle grades, no 100% answer where Moodle needs
  one, multi weights not adding up to 100%, unbalanced braces, unknown answer syntax, non-numbers, empty
  texts, duplicate choices, a category that names no topic without --topic.
"""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from quizapp.interop.common import MAX_BYTES, InteropError, Refused, build_question, validate

IMPORT_FORMATS = ("gift", "moodle-xml")
EXPORT_FORMATS = ("gift", "moodle-xml", "apkg")

__all__ = [
    "EXPORT_FORMATS",
    "IMPORT_FORMATS",
    "InteropError",
    "ParseResult",
    "export",
    "parse",
    "write_apkg",
]


@dataclass
class ParseResult:
    questions: list[dict] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)  # {question, reason}
    refused: list[dict] = field(default_factory=list)  # {question, line, reason}
    notices: list[str] = field(default_factory=list)


_BINARY = {
    b"PK\x03\x04": "a zip archive (an .apkg, .mbz or .docx?)",
    b"PK\x05\x06": "a zip archive",
    b"\x1f\x8b": "a gzip archive (a Moodle backup?)",
    b"SQLite format 3\x00": "an SQLite database",
    b"%PDF": "a PDF document",
    b"\xd0\xcf\x11\xe0": "an Office document",
}


def _check_bytes(data: bytes, source: str) -> None:
    if len(data) > MAX_BYTES:
        raise InteropError(
            f"{source}: the file is {len(data) / 1e6:.1f} MB; the limit is {MAX_BYTES // 2**20} MB"
        )
    for magic, what in _BINARY.items():
        if data.startswith(magic):
            raise InteropError(f"{source}: this is {what}, not a GIFT text file or a Moodle XML file")
    if not data.strip(b" \t\r\n\xef\xbb\xbf"):
        raise InteropError(f"{source}: the file is empty")


def decode(data: bytes, source: str, encoding: str | None, notices: list[str]) -> str:
    """UTF-8 (with or without BOM), UTF-16 with a BOM, else Windows-1252 with a notice; or `encoding`."""
    if encoding:
        try:
            text = data.decode(encoding)
        except LookupError:
            raise InteropError(f"{source}: unknown encoding {encoding!r}") from None
        except UnicodeDecodeError as exc:
            raise InteropError(f"{source}: not valid {encoding} at byte {exc.start}") from None
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = data.decode("utf-16")
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("cp1252", errors="replace")
            notices.append(f"{source}: not UTF-8; read as Windows-1252 (pass --encoding to choose)")
    text = text.lstrip("\ufeff")
    if "\x00" in text:
        raise InteropError(f"{source}: the file holds binary data (NUL bytes), not text")
    if not text.strip():
        raise InteropError(f"{source}: the file is empty")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def parse(
    data: bytes,
    fmt: str,
    *,
    source: str = "<upload>",
    encoding: str | None = None,
    topic: str | None = None,
    kind: str = "quiz",
) -> ParseResult:
    """Read a GIFT or Moodle XML file. Whole-file problems raise InteropError; per-question ones land in
    `refused` (GIFT: the line where the question starts; XML: the question's name and line)."""
    if fmt not in IMPORT_FORMATS:
        raise InteropError(f"unknown import format {fmt!r}; use one of {', '.join(IMPORT_FORMATS)}")
    if not isinstance(data, bytes | bytearray):
        raise InteropError(f"{source}: expected the file's bytes")
    data = bytes(data)
    _check_bytes(data, source)
    result = ParseResult()
    if fmt == "gift":
        from quizapp.interop import gift

        text = decode(data, source, encoding, result.notices)
        raws = gift.read(text, result.notices)
    else:
        from quizapp.interop import moodlexml

        raws = moodlexml.read(data, source, result.notices)
    taken: set[str] = set()
    for line, raw in raws:
        if isinstance(raw, Refused):
            result.refused.append(
                {
                    "question": raw.question or f"line {line}",
                    "line": line,
                    "reason": f"{source}:{line}: {raw}",
                }
            )
            continue
        label = raw.name or f"line {line}"
        try:
            q = build_question(raw, topic=topic, kind=kind, taken=taken, notices=raw.notices)
            validate(q)
        except KeyError as exc:
            result.skipped.append({"question": label, "reason": f"{source}:{line}: {exc.args[0]}"})
            continue
        except Refused as exc:
            result.refused.append({"question": label, "line": line, "reason": f"{source}:{line}: {exc}"})
            continue
        except (
            ValueError,
            TypeError,
            ArithmeticError,
        ) as exc:  # a case the mapping missed: refuse, never crash
            result.refused.append(
                {"question": label, "line": line, "reason": f"{source}:{line}: cannot be read ({exc})"}
            )
            continue
        result.notices.extend(f"{source}: {n}" for n in raw.notices)
        result.questions.append(q)
    if not (result.questions or result.skipped or result.refused):
        raise InteropError(f"{source}: no question found in this {fmt} file")
    return result


def export(questions: list[dict[str, Any]], fmt: str, *, notes: list[str] | None = None) -> bytes:
    """GIFT or Moodle XML (UTF-8) for QuestionSpec-shaped dicts; `notes` collects what Moodle cannot hold."""
    notes = notes if notes is not None else []
    if fmt == "gift":
        from quizapp.interop import gift

        return gift.write(questions, notes).encode("utf-8")
    if fmt == "moodle-xml":
        from quizapp.interop import moodlexml

        return moodlexml.write(questions, notes)
    raise InteropError(f"unknown export format {fmt!r}; use gift or moodle-xml (apkg: write_apkg)")


def write_apkg(
    questions: list[dict[str, Any]],
    path: str | Path,
    *,
    deck_name: str = "quizapp",
    timestamp: float | None = None,
) -> int:
    """An Anki package with one note per question; returns the number of notes."""
    from quizapp.interop import anki

    return anki.write_apkg(questions, Path(path), deck_name=deck_name, timestamp=timestamp)
