"""GIFT, Moodle's text format: a reader and a writer.

Grammar, as Moodle's own reader takes it (question/format/gift):
    file      := block (blank-line block)*
    block     := comment-line* ( '$CATEGORY:' path | question )
    comment   := '//' text               ('// [id:x]' and '// [tag:y]' set the id and tags;
                                          '// quizapp: {json}' carries our fields Moodle has no place for)
    question  := ['::' name '::'] [format] text '{' answers ['####' general-feedback] '}' [text]
    format    := '[html]' | '[moodle]' | '[plain]' | '[markdown]'
    answers   := ''                                   essay
               | T | TRUE | F | FALSE ['#' fb ['#' fb]]   true/false (wrong feedback, then right)
               | '#' num-answer+ ['~' '#' fb]          numerical: [=[%w%]] n[:tol] | min..max, each [#fb]
               | ( ('=' | '~' ['%' w '%']) text ['#' fb] )+   multichoice (single when any '=')
               | ( '=' ['%' w '%'] text ['#' fb] )+    short answer
               | ( '=' text '->' text )+               matching (skipped)
Escapes: \\~ \\= \\# \\{ \\} \\: \\\\ and \\n (a newline). Text after the closing brace makes a
"missing word" question: the answer block becomes _____ in the prompt.
"""

import re
from collections.abc import Iterator
from typing import Any

from quizapp.interop.common import (
    META_PREFIX,
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

_ESCAPES = {":": "\ue000", "#": "\ue001", "=": "\ue002", "{": "\ue003", "}": "\ue004", "~": "\ue005"}
_UNESCAPE = {v: k for k, v in _ESCAPES.items()}
_BACKSLASH = "\ue006"
_NEWLINE = "\ue007"
_FORMATS = ("html", "moodle", "plain", "markdown")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_WEIGHT = re.compile(r"^%([^%]*)%")
_ID = re.compile(r"\[id:((?:\\]|[^\]])+)\]")
_TAG = re.compile(r"\[tag:((?:\\]|[^\]])+)\]")


def _escape_pre(text: str) -> str:
    text = text.replace("\\\\", _BACKSLASH)
    for ch, ph in _ESCAPES.items():
        text = text.replace("\\" + ch, ph)
    return text.replace("\\n", _NEWLINE)


def _post(text: str) -> str:
    for ph, ch in _UNESCAPE.items():
        text = text.replace(ph, ch)
    return text.replace(_BACKSLASH, "\\").replace(_NEWLINE, "\n")


def _with_format(text: str, default: str) -> tuple[str, str]:
    text = text.strip()
    if text.startswith("["):
        end = text.find("]")
        if end > 0 and text[1:end] in _FORMATS:
            return text[end + 1 :].strip(), text[1:end]
    return text, default


def blocks(text: str) -> Iterator[tuple[int, list[str]]]:
    """Blank-line separated blocks with the 1-based line of their first line."""
    start, lines = 0, []
    for n, line in enumerate(text.split("\n"), 1):
        if line.strip():
            if not lines:
                start = n
            lines.append(line)
        elif lines:
            yield start, lines
            lines = []
    if lines:
        yield start, lines


class _Block:
    """One question block being read; texts become safe markdown as they are taken."""

    def __init__(self, line: int, notices: list[str]):
        self.line = line
        self.notices = notices

    def md(self, text: str, fmt: str) -> str:
        body, fmt = _with_format(text, fmt)
        return to_markdown(_post(body), fmt, self.notices, f"line {self.line}")

    def answer_and_feedback(self, text: str, fmt: str) -> tuple[str, str, str]:
        bits = text.split("#", 1)
        raw = _post(_with_format(bits[0], fmt)[0])
        return self.md(bits[0], fmt), (self.md(bits[1], fmt) if len(bits) > 1 else ""), raw


def read_block(
    line: int, lines: list[str], category: str | None, notices: list[str]
) -> RawQuestion | str | None:
    """A RawQuestion, a new category path (str), or None for a block of comments only."""
    comments, body = [], []
    for text in lines:
        stripped = text.strip()
        (comments if stripped.startswith("//") else body).append(
            stripped[2:].strip() if stripped.startswith("//") else text
        )
    text = "\n".join(body).strip()
    if not text:
        return None
    first = line + next(i for i, t in enumerate(lines) if not t.strip().startswith("//"))
    text = _escape_pre(text)
    if text.startswith("$CATEGORY:"):
        return _post(text[len("$CATEGORY:") :]).strip()
    raw = RawQuestion(qtype="", line=first, category=category)
    for c in comments:
        if c.startswith(META_PREFIX):
            raw.meta = read_meta(c)
        for m in _ID.finditer(c):
            raw.idnumber = m.group(1).replace("\\]", "]").strip()
        raw.tags.extend(m.group(1).replace("\\]", "]").strip() for m in _TAG.finditer(c))
    b = _Block(first, raw.notices)
    if text.startswith("::"):
        end = text.find("::", 2)
        if end >= 0:
            raw.name = plain_name(_post(text[2:end]))
            text = text[end + 2 :].strip()
        else:
            text = text[2:]
    start, finish = text.find("{"), text.find("}")
    if start < 0 and finish < 0:
        raw.qtype = "description"
        raw.text = b.md(text, "moodle")
        return raw
    if start < 0 or finish < 0 or finish < start:
        raise Refused(
            "unbalanced braces: the answer block needs one { and one } after it (write \\{ or \\} for a brace in text)"
        )
    rest = text[finish + 1 :]
    if "{" in rest or "}" in rest or "{" in text[start + 1 : finish]:
        raise Refused("more than one answer block; write \\{ and \\} for braces in text")
    answer = text[start + 1 : finish].strip()
    prompt = text[:start] + ("" if not rest.strip() else "_____" + rest)
    general = ""
    gf = answer.rfind("####")
    if gf >= 0:
        general, answer = answer[gf + 4 :], answer[:gf].strip()
    prompt_body, fmt = _with_format(prompt, "moodle")
    raw.text = to_markdown(_post(prompt_body), fmt, raw.notices, f"line {first}")
    raw.general_feedback = b.md(general, fmt) if general.strip() else ""
    _answers(raw, b, answer, fmt)
    return raw


def _weight(text: str, default: float) -> tuple[float, str]:
    text = text.strip()
    m = _WEIGHT.match(text)
    if not m:
        return default, text
    return fraction_from_percent(m.group(1).strip()), text[m.end() :]


def _answers(raw: RawQuestion, b: _Block, answer: str, fmt: str) -> None:
    if answer == "":
        raw.qtype = "essay"
    elif answer.startswith("#"):
        raw.qtype = "numerical"
        _numerical(raw, b, answer[1:], fmt)
    elif "~" in answer:
        raw.qtype = "multichoice"
        raw.single = "=" in answer
        parts = answer.replace("=", "~=").split("~")
        if parts[0].strip():
            raise Refused(f"unknown answer syntax: {_post(parts[0].strip())!r} has no = or ~ in front")
        for part in parts[1:]:
            part = part.strip()
            if part.startswith("="):
                frac, part = 1.0, part[1:]
            else:
                frac, part = _weight(part, 0.0)
            text, fb, plain = b.answer_and_feedback(part, fmt)
            raw.answers.append(RawAnswer(text, frac, fb, raw=plain))
    elif "=" in answer and "->" in answer:
        raw.qtype = "match"
    else:
        check = answer.split("#", 1)[0].strip()
        if check in ("T", "TRUE", "F", "FALSE"):
            raw.qtype = "truefalse"
            bits = answer.split("#", 2)
            value = check in ("T", "TRUE")
            wrong = b.md(bits[1], fmt) if len(bits) > 1 else ""
            right = b.md(bits[2], fmt) if len(bits) > 2 else ""
            raw.tf_answer = value
            raw.tf_feedback = {str(value).lower(): right, str(not value).lower(): wrong}
            return
        raw.qtype = "shortanswer"
        parts = answer.split("=")
        if not parts[0].strip():
            parts = parts[1:]
        if not parts:
            raise Refused("a short-answer question needs at least one answer")
        for part in parts:
            frac, part = _weight(part, 1.0)
            text, fb, plain = b.answer_and_feedback(part, fmt)
            if not plain.strip():
                raise Refused("an answer is empty")
            raw.answers.append(RawAnswer(text, frac, fb, raw=plain))


def _number(text: str) -> float:
    text = _post(text).strip()
    if not _NUMBER.match(text):
        raise Refused(f"numerical answer {text!r} is not a number")
    return float(text)


def _numerical(raw: RawQuestion, b: _Block, answer: str, fmt: str) -> None:
    wrong = ""
    pos = answer.find("~")
    if pos >= 0:
        wrong, answer = answer[pos + 1 :], answer[:pos]
        wrong = wrong.strip()
        if wrong.startswith("#"):
            wrong = wrong[1:]
        raw.wrong_feedback = b.md(wrong, fmt) if wrong.strip() else ""
    parts = answer.split("=")
    if not parts[0].strip():
        parts = parts[1:]
    if not parts:
        raise Refused("a numerical question needs at least one answer")
    for part in parts:
        frac, part = _weight(part, 1.0)
        bits = part.split("#", 1)
        value = bits[0].strip()
        fb = b.md(bits[1], fmt) if len(bits) > 1 else ""
        if ".." in value[1:]:
            lo_text, hi_text = value.split("..", 1) if not value.startswith("..") else ("", value)
            lo, hi = _number(lo_text), _number(hi_text)
            if lo > hi:
                raise Refused(f"range {value!r}: the minimum is above the maximum")
            mid, tol = (lo + hi) / 2, (hi - lo) / 2
        elif ":" in value[1:]:
            ans_text, tol_text = value.rsplit(":", 1)
            mid, tol = _number(ans_text), _number(tol_text)
            if tol < 0:
                raise Refused(f"{value!r}: the error margin is negative")
        else:
            mid, tol = _number(value), 0.0
        raw.answers.append(RawAnswer(repr(mid), frac, fb, tolerance=tol, raw=value))


def read(text: str, notices: list[str]) -> Iterator[tuple[int, RawQuestion | Refused | None]]:
    """(line, RawQuestion) for each question, (line, Refused) for one that cannot be read."""
    category = None
    for line, lines in blocks(text):
        try:
            got = read_block(line, lines, category, notices)
        except Refused as exc:
            yield line, exc
            continue
        if isinstance(got, str):
            category = got
            continue
        if got is not None:
            yield got.line, got


# ---- writing -------------------------------------------------------------------------------------------


def esc(text: str) -> str:
    """Moodle's repchar: backslash and the GIFT specials escaped, newlines as \\n."""
    text = text.replace("\\", "\\\\")
    for ch in "#=~{}:":
        text = text.replace(ch, "\\" + ch)
    return text.replace("\r", "").replace("\n", "\\n")


def _num(x: float) -> str:
    return repr(float(x))


def write_question(q: dict[str, Any], notes: list[str]) -> str:
    lines = []
    meta = meta_of(q, ("answer",) if q["type"] == "open" else ("case_sensitive",))
    lines.append(f"// [id:{q['id']}]")
    if q.get("tags"):
        lines.append("// " + " ".join(f"[tag:{t}]" for t in q["tags"]))
    lines.append(f"// {META_PREFIX} {meta_json(meta)}")
    head = f"::{esc(q.get('title') or q['id'])}::[markdown]{esc(q['prompt'])}"
    t = q["type"]
    fb = q.get("feedback") or {}
    body: list[str] = []
    if t == "single":
        credits = q.get("credits") or {}
        for c in q["choices"]:
            mark = "=" if c == q["answer"] else (f"~%{percent_text(credits[c])}%" if credits.get(c) else "~")
            body.append(mark + esc(c) + (f"#{esc(fb[c])}" if c in fb else ""))
        if "*" in fb:
            notes.append(f"{q['id']}: GIFT has no place for feedback on any wrong choice; dropped")
    elif t == "multi":
        credits = q.get("credits")
        k = len(q["answer"])
        for c in q["choices"]:
            frac = credits.get(c, 0.0) if credits else (1 / k if c in q["answer"] else -1 / k)
            body.append(f"~%{percent_text(frac)}%" + esc(c) + (f"#{esc(fb[c])}" if c in fb else ""))
        if "*" in fb:
            notes.append(f"{q['id']}: GIFT has no place for feedback on any wrong choice; dropped")
    elif t == "truefalse":
        value = bool(q["answer"])
        wrong, right = fb.get(str(not value).lower(), ""), fb.get(str(value).lower(), "")
        text = "TRUE" if value else "FALSE"
        if wrong or right:
            text += "#" + esc(wrong)
        if right:
            text += "#" + esc(right)
        body.append(text)
    elif t == "numeric":
        body.append("#")
        answers = [(q["answer"], q["tolerance"], 1.0)] + [
            (a["answer"], a["tolerance"], a["credit"]) for a in q.get("alternatives") or []
        ]
        for n, (value, tol, credit) in enumerate(answers):
            body.append(
                f"=%{percent_text(credit)}%{_num(value)}:{_num(tol)}"
                + (f"#{esc(fb[str(n)])}" if str(n) in fb else "")
            )
        if "*" in fb:
            body.append(f"~#{esc(fb['*'])}")
    elif t == "short":
        credits = q.get("credits") or {}
        for p in q["answers"]:
            body.append(
                f"=%{percent_text(credits.get(p, 1.0))}%{esc(export_short_text(p))}"
                + (f"#{esc(fb[p])}" if p in fb else "")
            )
        if "*" in fb:
            body.append(f"=%0%*#{esc(fb['*'])}")
    elif t == "open":
        pass
    general = f"####{esc(q['explanation'])}"
    if t == "numeric":
        return "\n".join(lines) + "\n" + head + "{#\n\t" + "\n\t".join(body[1:]) + "\n\t" + general + "\n}\n"
    if not body:
        return "\n".join(lines) + "\n" + head + "{" + general + "}\n"
    return "\n".join(lines) + "\n" + head + "{\n\t" + "\n\t".join(body) + "\n\t" + general + "\n}\n"


def write(questions: list[dict[str, Any]], notes: list[str]) -> str:
    out = [f"// Exported by quizapp: {len(questions)} question(s)\n"]
    topic = None
    for q in sorted(questions, key=lambda q: q["topic"]):
        if q["topic"] != topic:
            topic = q["topic"]
            out.append(f"$CATEGORY: $course$/quizapp/{topic}\n")
        out.append(write_question(q, notes))
    return "\n".join(out)
