"""Moodle XML: a reader (defusedxml: no entity expansion, no external entities) and a writer."""

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any

import defusedxml
import defusedxml.ElementTree as DET

from quizapp.interop.common import (
    META_PREFIX,
    InteropError,
    RawAnswer,
    RawQuestion,
    Refused,
    export_short_text,
    fraction_from_percent,
    meta_json,
    meta_of,
    percent_text,
    plain_name,
    read_meta,
    to_markdown,
)
from quizapp.interop.gift import _NUMBER

_FORMATS = {
    "html": "html",
    "moodle_auto_format": "moodle",
    "plain_text": "plain",
    "markdown": "markdown",
    "wiki_like": "plain",
}


class _Builder(ET.TreeBuilder):
    """Keeps comments (our meta) and the line each element starts on."""

    def __init__(self) -> None:
        super().__init__(insert_comments=True)
        self.parser: Any = None
        self.lines: dict[int, int] = {}

    def start(self, tag: str, attrs: dict[str, str]) -> ET.Element:
        el = super().start(tag, attrs)
        if self.parser is not None:
            self.lines[id(el)] = self.parser.parser.CurrentLineNumber
        return el


def _root(data: bytes, source: str) -> tuple[ET.Element, dict[int, int]]:
    builder = _Builder()
    parser = DET.DefusedXMLParser(
        target=builder, forbid_dtd=False, forbid_entities=True, forbid_external=True
    )
    builder.parser = parser
    try:
        parser.feed(data)
        root = parser.close()
    except defusedxml.DefusedXmlException as exc:
        raise InteropError(
            f"{source}: the XML declares entities or external references ({exc}); refused"
        ) from None
    except ET.ParseError as exc:
        line = exc.position[0] if getattr(exc, "position", None) else "?"
        raise InteropError(f"{source}:{line}: not valid XML: {exc}") from None
    if root.tag != "quiz":
        raise InteropError(
            f"{source}: the root element is <{root.tag}>; a Moodle XML file starts with <quiz>"
        )
    return root, builder.lines


def _text(el: ET.Element | None, path: str = "text") -> str:
    if el is None:
        return ""
    node = el.find(path) if path else el
    return (node.text or "") if node is not None else ""


def _md(el: ET.Element | None, raw: RawQuestion, what: str, default: str = "html") -> str:
    if el is None:
        return ""
    fmt = _FORMATS.get(el.get("format", default), "html")
    files = el.findall("file")
    if files:
        raw.notices.append(f"{raw.label()}: {len(files)} embedded file(s) in the {what} dropped")
    return to_markdown(_text(el), fmt, raw.notices, f"{raw.label()} ({what})")


def _number(text: str, what: str) -> float:
    text = text.strip()
    if not _NUMBER.match(text):
        raise Refused(f"{what} {text!r} is not a number")
    return float(text)


def _question(el: ET.Element, line: int, category: str | None) -> RawQuestion:
    raw = RawQuestion(qtype=el.get("type", ""), line=line, category=category)
    raw.name = plain_name(_text(el.find("name")))
    for node in el:
        if node.tag is ET.Comment and (node.text or "").strip().startswith(META_PREFIX):
            raw.meta = read_meta(node.text or "")
    raw.idnumber = (el.findtext("idnumber") or "").strip() or None
    raw.tags = [t.findtext("text") or "" for t in el.findall("tags/tag")]
    if raw.qtype not in ("multichoice", "truefalse", "shortanswer", "numerical", "essay"):
        return raw
    qt = el.find("questiontext")
    raw.text = _md(qt, raw, "question text")
    raw.general_feedback = _md(el.find("generalfeedback"), raw, "general feedback")
    answer_fmt = qt.get("format", "html") if qt is not None else "html"
    single = (el.findtext("single") or "true").strip().lower()
    raw.single = single not in ("false", "0")
    raw.usecase = (el.findtext("usecase") or "0").strip() not in ("0", "", "false")
    raw.graderinfo = _md(el.find("graderinfo"), raw, "grader information")
    for n, a in enumerate(el.findall("answer"), 1):
        frac_text = a.get("fraction", "0").strip()
        fraction = fraction_from_percent(frac_text)
        text_raw = _text(a)
        if raw.qtype in ("shortanswer", "numerical", "truefalse"):
            text = text_raw.strip()
        else:
            fmt = _FORMATS.get(a.get("format", answer_fmt), "html")
            if a.findall("file"):
                raw.notices.append(f"{raw.label()}: embedded file(s) in answer {n} dropped")
            text = to_markdown(text_raw, fmt, raw.notices, f"{raw.label()} (answer {n})")
        feedback = _md(a.find("feedback"), raw, f"feedback of answer {n}")
        tol = None
        if raw.qtype == "numerical":
            if text == "*":
                raw.wrong_feedback = feedback
                continue
            text = repr(_number(text, f"answer {n}"))
            tol_text = (a.findtext("tolerance") or "0").strip() or "0"
            tol = _number(tol_text, f"tolerance of answer {n}")
            if tol < 0:
                raise Refused(f"answer {n}: the tolerance is negative")
        raw.answers.append(RawAnswer(text, fraction, feedback, tolerance=tol, raw=text_raw.strip()))
    if raw.qtype == "truefalse":
        for a in raw.answers:
            value = a.text.strip().lower()
            if value not in ("true", "false"):
                raise Refused(f"a true/false answer reads {a.text!r}; expected true or false")
            if a.fraction == 1:
                raw.tf_answer = value == "true"
            if a.feedback:
                raw.tf_feedback[value] = a.feedback
    if raw.qtype == "numerical" and el.find("units/unit") is not None:
        raw.notices.append(f"{raw.label()}: units are not imported; the number alone is graded")
    return raw


def read(data: bytes, source: str, notices: list[str]) -> Iterator[tuple[int, RawQuestion | Refused]]:
    root, lines = _root(data, source)
    category = None
    for el in root:
        if el.tag is ET.Comment or el.tag != "question":
            continue
        line = lines.get(id(el), 0)
        if el.get("type") == "category":
            category = (el.findtext("category/text") or "").strip() or None
            continue
        try:
            yield line, _question(el, line, category)
        except Refused as exc:
            name = (el.findtext("name/text") or "").strip()
            refused = Refused(f"question {name!r}: {exc}" if name else str(exc))
            refused.question = name or None
            yield line, refused


# ---- writing -------------------------------------------------------------------------------------------


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, tag, attrs)
    if text is not None:
        el.text = text
    return el


def _texted(parent: ET.Element, tag: str, text: str, fmt: str = "markdown", **attrs: str) -> ET.Element:
    el = _sub(parent, tag, format=fmt, **attrs)
    _sub(el, "text", text)
    return el


def _answer(
    q_el: ET.Element, text: str, fraction: float, feedback: str = "", fmt: str = "markdown"
) -> ET.Element:
    a = _texted(q_el, "answer", text, fmt, fraction=percent_text(fraction))
    _texted(a, "feedback", feedback)
    return a


def _question_el(root: ET.Element, q: dict[str, Any], notes: list[str]) -> None:
    t = q["type"]
    mtype = {"single": "multichoice", "multi": "multichoice", "truefalse": "truefalse", "numeric": "numerical",
             "short": "shortanswer", "open": "essay"}[t]  # fmt: skip
    el = _sub(root, "question", type=mtype)
    el.append(ET.Comment(" " + META_PREFIX + " " + meta_json(meta_of(q, ("answer",) if t == "open" else ()))
                         .replace("--", "-\\u002d") + " "))  # fmt: skip
    name = _sub(el, "name")
    _sub(name, "text", q.get("title") or q["id"])
    _texted(el, "questiontext", q["prompt"])
    _texted(el, "generalfeedback", q["explanation"])
    _sub(el, "defaultgrade", "1")
    _sub(el, "penalty", "0.3333333" if t != "truefalse" else "1")
    _sub(el, "hidden", "0")
    _sub(el, "idnumber", q["id"])
    fb = q.get("feedback") or {}
    if t in ("single", "multi"):
        _sub(el, "single", "true" if t == "single" else "false")
        _sub(el, "shuffleanswers", "true")
        _sub(el, "answernumbering", "abc")
        for tag in ("correctfeedback", "partiallycorrectfeedback", "incorrectfeedback"):
            _texted(el, tag, "")
        credits = q.get("credits")
        k = len(q["answer"]) if t == "multi" else 1
        for c in q["choices"]:
            if t == "single":
                frac = 1.0 if c == q["answer"] else (credits or {}).get(c, 0.0)
            else:
                frac = credits.get(c, 0.0) if credits else (1 / k if c in q["answer"] else -1 / k)
            _answer(el, c, frac, fb.get(c, ""))
        if "*" in fb:
            notes.append(f"{q['id']}: Moodle multichoice has no feedback for any wrong choice; dropped")
    elif t == "truefalse":
        for value in (True, False):
            key = str(value).lower()
            _answer(el, key, 1.0 if value is q["answer"] else 0.0, fb.get(key, ""), "moodle_auto_format")
    elif t == "numeric":
        answers = [(q["answer"], q["tolerance"], 1.0)] + [
            (a["answer"], a["tolerance"], a["credit"]) for a in q.get("alternatives") or []
        ]
        for n, (value, tol, credit) in enumerate(answers):
            a = _answer(el, repr(float(value)), credit, fb.get(str(n), ""), "moodle_auto_format")
            _sub(a, "tolerance", repr(float(tol)))
        if "*" in fb:
            a = _answer(el, "*", 0.0, fb["*"], "moodle_auto_format")
            _sub(a, "tolerance", "0")
        _sub(el, "unitgradingtype", "0")
        _sub(el, "unitpenalty", "0.1000000")
        _sub(el, "showunits", "3")
        _sub(el, "unitsleft", "0")
    elif t == "short":
        _sub(el, "usecase", "1" if q.get("case_sensitive") else "0")
        credits = q.get("credits") or {}
        for p in q["answers"]:
            _answer(el, export_short_text(p), credits.get(p, 1.0), fb.get(p, ""), "moodle_auto_format")
        if "*" in fb:
            _answer(el, "*", 0.0, fb["*"], "moodle_auto_format")
    elif t == "open":
        _sub(el, "responseformat", "editor")
        _sub(el, "responserequired", "1")
        _sub(el, "responsefieldlines", "15")
        _sub(el, "attachments", "0")
        _sub(el, "attachmentsrequired", "0")
        points = "\n".join(f"- {k}" for k in q["key_points"])
        _texted(el, "graderinfo", f"{q['answer']}\n\nKey points:\n\n{points}")
        _texted(el, "responsetemplate", "")
    if q.get("tags"):
        tags = _sub(el, "tags")
        for tag in q["tags"]:
            _sub(_sub(tags, "tag"), "text", tag)


def write(questions: list[dict[str, Any]], notes: list[str]) -> bytes:
    root = ET.Element("quiz")
    topic = None
    for q in sorted(questions, key=lambda q: q["topic"]):
        if q["topic"] != topic:
            topic = q["topic"]
            cat = _sub(root, "question", type="category")
            _sub(_sub(cat, "category"), "text", f"$course$/quizapp/{topic}")
        _question_el(root, q, notes)
    ET.indent(root)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
    ).encode()
