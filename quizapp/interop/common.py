"""What the GIFT and Moodle XML readers share: the raw Moodle question both produce, Moodle's grade
fractions, text formats made safe markdown, categories to topics and tags, and the mapping to our types."""

import functools
import hashlib
import json
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from quizapp.bank.schema import SLUG, TOPICS, QuestionSpec
from quizapp.grading import normalise_text

MAX_BYTES = 10 * 1024 * 1024
NO_EXPLANATION = "No explanation was given with this question."
NO_MODEL_ANSWER = "No model answer was given with this question."
META_PREFIX = "quizapp:"  # a comment our exports write: the fields Moodle has no place for

# Moodle's grade options (question_bank::fraction_options_full), as its exports write them.
ALLOWED_PERCENTS = (
    "100", "90", "83.33333", "80", "75", "70", "66.66667", "60", "50", "40", "33.33333", "30", "25",
    "20", "16.66667", "14.28571", "12.5", "11.11111", "10", "5", "0",
)  # fmt: skip
ALLOWED_FRACTIONS = tuple(round(float(p) / 100, 7) for p in ALLOWED_PERCENTS)

SKIPPED_TYPES = {
    "match": "matching questions (pairs to match) have no equivalent type here",
    "randomsamatch": "random short-answer matching has no equivalent type here",
    "multianswer": "embedded answers (cloze) have no equivalent type here",
    "cloze": "embedded answers (cloze) have no equivalent type here",
    "description": "a description holds no question to answer",
    "calculated": "calculated questions (formulas with wildcards) have no equivalent type here",
    "calculatedsimple": "calculated questions (formulas with wildcards) have no equivalent type here",
    "calculatedmulti": "calculated questions (formulas with wildcards) have no equivalent type here",
    "ddwtos": "drag and drop into text has no equivalent type here",
    "ddimageortext": "drag and drop onto an image has no equivalent type here",
    "ddmarker": "drag and drop markers have no equivalent type here",
    "gapselect": "select missing words has no equivalent type here",
    "random": "a random question is drawn by Moodle from a category; there is nothing to import",
    "ordering": "ordering questions have no equivalent type here",
}


class InteropError(ValueError):
    """The whole file cannot be read (empty, not XML, too large, binary); nothing was imported."""


class Refused(ValueError):
    """One question cannot be imported as Moodle would refuse it; the message says why."""

    question: str | None = None  # its name, where the reader knows it


@dataclass
class RawAnswer:
    text: str  # already safe markdown
    fraction: float
    feedback: str = ""
    tolerance: float | None = None  # numerical only
    raw: str = ""  # the answer text as written (shortanswer patterns need it before conversion)


@dataclass
class RawQuestion:
    """One Moodle question as either reader found it, texts already made safe markdown."""

    qtype: str
    line: int
    name: str | None = None
    text: str = ""
    general_feedback: str = ""
    answers: list[RawAnswer] = field(default_factory=list)
    single: bool = True
    usecase: bool = False
    graderinfo: str = ""
    idnumber: str | None = None
    tags: list[str] = field(default_factory=list)
    category: str | None = None
    tf_answer: bool | None = None
    tf_feedback: dict[str, str] = field(default_factory=dict)
    wrong_feedback: str = ""  # numerical: GIFT ~#... or XML answer '*'
    meta: dict[str, Any] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)

    def label(self) -> str:
        return f"question {self.name!r}" if self.name else f"the question at line {self.line}"


# ---- fractions -------------------------------------------------------------------------------------


def fraction_from_percent(text: str) -> float:
    """'33.333' -> 0.3333333; a weight that is not one of Moodle's grades is refused."""
    try:
        value = float(text)
    except ValueError:
        raise Refused(f"weight %{text}% is not a number") from None
    for option in ALLOWED_PERCENTS:
        if abs(abs(value) - float(option)) <= 0.005:
            frac = round(float(option) / 100, 7)
            return -frac if value < 0 else frac
    raise Refused(
        f"weight {text}% is not one of Moodle's grades (100, 90, 83.33333, 80, 75, 70, 66.66667, 60, 50, "
        "40, 33.33333, 30, 25, 20, 16.66667, 14.28571, 12.5, 11.11111, 10, 5, 0 or their negatives)"
    )


def percent_text(fraction: float) -> str:
    """0.3333333 -> '33.33333': the nearest Moodle grade, written as Moodle writes it."""
    best = min(ALLOWED_PERCENTS, key=lambda p: abs(float(p) / 100 - abs(fraction)))
    return f"-{best}" if fraction < 0 and best != "0" else best


def is_allowed_fraction(fraction: float) -> bool:
    return any(abs(abs(fraction) - f) < 5e-6 for f in ALLOWED_FRACTIONS)


# ---- safe text ---------------------------------------------------------------------------------------

_DROP_CONTENT = {"script", "style", "iframe", "object", "embed", "svg", "math", "template", "noscript",
                 "head", "title", "textarea", "select", "button", "form", "canvas", "audio", "video"}  # fmt: skip
_BLOCK = {"p", "div", "section", "article", "header", "footer", "table", "tr", "h1", "h2", "h3", "h4",
          "h5", "h6", "blockquote", "ul", "ol", "dl", "dt", "dd", "figure", "figcaption", "hr"}  # fmt: skip
_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")
_LINK_TARGET = re.compile(r"\]\(\s*<?\s*([^)\s>]*)")
_REF_LINK = re.compile(r"^(\s*)\[([^\]]+)\]:", re.MULTILINE)
_SAFE_URL = re.compile(r"^https?://", re.IGNORECASE)


class _HtmlToMarkdown(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skip = 0
        self.pre = 0
        self.lists: list[list[int]] = []  # [counter] per open list; counter -1 means bulleted
        self.links: list[str | None] = []
        self.images = 0

    def _nl(self, n: int = 1) -> None:
        self.out.append("\n" * n)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _DROP_CONTENT:
            self.skip += 1
            return
        if self.skip:
            return
        a = {k: (v or "") for k, v in attrs}
        if tag in ("br",):
            self._nl()
        elif tag in _BLOCK:
            self._nl(2)
            if tag in ("ul", "ol"):
                self.lists.append([0 if tag == "ol" else -1])
            elif tag.startswith("h") and len(tag) == 2:
                self.out.append("**")
        elif tag == "li":
            self._nl()
            counter = self.lists[-1] if self.lists else [-1]
            if counter[0] >= 0:
                counter[0] += 1
                self.out.append(f"{counter[0]}. ")
            else:
                self.out.append("- ")
        elif tag in ("strong", "b"):
            self.out.append("**")
        elif tag in ("em", "i"):
            self.out.append("*")
        elif tag == "code" and not self.pre:
            self.out.append("`")
        elif tag == "pre":
            self.pre += 1
            self.out.append("\n\n```\n")
        elif tag == "sub":
            self.out.append("_")
        elif tag == "sup":
            self.out.append("^")
        elif tag == "a":
            href = a.get("href", "").strip()
            if _SAFE_URL.match(href) and not re.search(r"[\s()<>]", href):
                self.links.append(href)
                self.out.append("[")
            else:
                self.links.append(None)
        elif tag == "img":
            self.images += 1
            alt = a.get("alt", "").strip()
            if alt:
                self.out.append(f"({alt})")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag in _DROP_CONTENT:
            self.skip -= 1

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROP_CONTENT:
            self.skip = max(0, self.skip - 1)
            return
        if self.skip:
            return
        if tag in _BLOCK:
            if tag in ("ul", "ol") and self.lists:
                self.lists.pop()
            elif tag.startswith("h") and len(tag) == 2:
                self.out.append("**")
            self._nl(2)
        elif tag in ("strong", "b"):
            self.out.append("**")
        elif tag in ("em", "i"):
            self.out.append("*")
        elif tag == "code" and not self.pre:
            self.out.append("`")
        elif tag == "pre":
            self.pre = max(0, self.pre - 1)
            self.out.append("\n```\n\n")
        elif tag == "a" and self.links:
            href = self.links.pop()
            if href:
                self.out.append(f"]({href})")

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        self.out.append(data if self.pre else re.sub(r"\s+", " ", data))

    def text(self) -> str:
        joined = "".join(self.out)
        lines = [line.strip() if not self.pre else line.rstrip() for line in joined.split("\n")]
        text = "\n".join(lines)
        return re.sub(r"\n{3,}", "\n\n", text).strip()


def html_to_markdown(html: str, notices: list[str] | None = None, where: str = "") -> str:
    parser = _HtmlToMarkdown()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # html.parser is lenient; anything it still cannot take is kept as plain text
        return defang(re.sub(r"<[^>]*>", " ", html))
    if parser.images and notices is not None:
        notices.append(f"{where}: {parser.images} image(s) dropped (images are not imported)")
    return defang(parser.text())


def defang(text: str) -> str:
    """Nothing in imported text may run: tag starts become &lt; (markdown shows '<'), and links whose
    target is not http(s) lose their link syntax."""
    text = _TAG_START.sub("&lt;", text)

    def _link(m: re.Match) -> str:
        target = m.group(1)  # empty: "[x]()" or a stray "](", which link nowhere
        return m.group(0) if not target or _SAFE_URL.match(target) else "] (" + m.group(0)[2:]

    text = _LINK_TARGET.sub(_link, text)
    return _REF_LINK.sub(lambda m: f"{m.group(1)}\\[{m.group(2)}]:", text)


def to_markdown(text: str, fmt: str, notices: list[str] | None = None, where: str = "") -> str:
    """A text in one of Moodle's formats as our safe markdown."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if fmt == "html" or (fmt == "moodle" and _TAG_START.search(text)):
        return html_to_markdown(text, notices, where)
    return defang(text.strip())


def plain_name(name: str) -> str | None:
    text = re.sub(r"\s+", " ", to_markdown(name, "moodle")).strip()
    return text[:255] or None


# ---- ids, tags and topics ----------------------------------------------------------------------------


_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def slugify(text: str, limit: int = 80) -> str:
    slug = _NOT_SLUG.sub("-", text.lower()).strip("-")
    return slug[:limit].rstrip("-")


def category_segments(path: str) -> list[str]:
    """Moodle writes '/' inside a category name as '//'."""
    parts = [p.replace("\0", "/").strip() for p in path.replace("//", "\0").split("/")]
    return [p for p in parts if p]


@functools.lru_cache(maxsize=256)
def _topic_and_tags(category: str | None) -> tuple[str | None, tuple[str, ...]]:
    topic, tags = _read_category(category)
    return topic, tuple(tags)


def topic_and_tags(category: str | None) -> tuple[str | None, list[str]]:
    topic, tags = _topic_and_tags(category)
    return topic, list(tags)


def _read_category(category: str | None) -> tuple[str | None, list[str]]:
    """$course$/top/Deep learning/CNN -> topic 'cnn' when the last segment names a topic; every other
    segment (less the context, 'top', 'Default for ...' and our own 'quizapp') becomes a tag."""
    if not category:
        return None, []
    segments = [s for s in category_segments(category) if not (s.startswith("$") and s.endswith("$"))]
    slugs = [slugify(s) for s in segments]
    slugs = [s for s in slugs if s and s not in ("top", "quizapp") and not s.startswith("default-for-")]
    topic = None
    if slugs:
        last = slugs[-1]
        titles = {slugify(title): key for key, title in TOPICS.items()}
        topic = last if last in TOPICS else titles.get(last)
        if topic is not None:
            slugs = slugs[:-1]
    return topic, [s for s in slugs if len(s) >= 1]


def unique_id(base: str, seed: str, taken: set[str]) -> str:
    qid = base if SLUG.match(base) else ""
    if not qid:
        qid = ("q-" + base)[:80].rstrip("-") if base else "q-" + hashlib.sha1(seed.encode()).hexdigest()[:8]
    if qid in taken:
        suffix = hashlib.sha1(seed.encode()).hexdigest()[:6]
        qid = f"{qid[:73]}-{suffix}"
        n = 2
        while qid in taken:
            qid = f"{qid[:70]}-{suffix[:3]}{n}"
            n += 1
    taken.add(qid)
    return qid


# ---- short-answer patterns ---------------------------------------------------------------------------


def moodle_to_pattern(text: str) -> str:
    """A Moodle short answer ('*' any run of text, '\\*' a star) as one of our whole-string patterns."""
    bits = re.split(r"(?<!\\)\*+", normalise_text(text))
    return ".*".join(re.escape(bit.replace("\\*", "*")) for bit in bits)


def pattern_to_moodle(pattern: str) -> str | None:
    """The inverse of moodle_to_pattern, or None when the pattern is a regular expression beyond it."""
    out = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if pattern.startswith(".*", i):
            out.append("*")
            i += 2
        elif ch == "\\" and i + 1 < len(pattern) and not pattern[i + 1].isalnum():
            nxt = pattern[i + 1]
            out.append("\\*" if nxt == "*" else nxt)
            i += 2
        elif ch in ".^$*+?{}[]|()\\":
            return None
        else:
            out.append(ch)
            i += 1
    return "".join(out)


# ---- the mapping to our types ------------------------------------------------------------------------


def _key_points_from(text: str) -> list[str]:
    sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+|\n+", text) if len(s.strip()) > 3]
    return sentences[:6]


def _meta_patterns(raw: RawQuestion, kept: list[RawAnswer], patterns: list[str]) -> list[str]:
    """Our own exports carry the exact patterns in a comment; use them where the visible answer is still
    what we wrote for it."""
    meta = raw.meta.get("answers")
    if not isinstance(meta, list) or len(meta) != len(patterns):
        return patterns
    out = []
    for shown, exact, answer in zip(patterns, meta, kept, strict=True):
        ok = isinstance(exact, str) and moodle_to_pattern(export_short_text(exact)) == moodle_to_pattern(
            answer.raw
        )
        out.append(exact if ok else shown)
    return out


def export_short_text(pattern: str) -> str:
    from quizapp.grading import readable_pattern

    literal = pattern_to_moodle(pattern)
    if literal is not None:
        return literal
    return readable_pattern(pattern) or pattern


def build_question(
    raw: RawQuestion, *, topic: str | None, kind: str, taken: set[str], notices: list[str]
) -> dict[str, Any]:
    """Our question dict (QuestionSpec-shaped) for one raw Moodle question, or Refused."""
    if raw.qtype in SKIPPED_TYPES:
        raise KeyError(SKIPPED_TYPES[raw.qtype])
    if raw.qtype not in ("multichoice", "truefalse", "shortanswer", "numerical", "essay"):
        raise KeyError(f"Moodle type {raw.qtype!r} has no equivalent type here")
    meta = raw.meta
    where = raw.label()
    cat_topic, cat_tags = topic_and_tags(raw.category)
    q_topic = cat_topic or topic
    if q_topic is None:
        raise Refused(
            f"category {raw.category!r} is not a known topic; pass --topic"
            if raw.category
            else "no category names a known topic; pass --topic"
        )
    if q_topic not in TOPICS:
        raise Refused(f"topic {q_topic!r} is not a known topic; known: {', '.join(TOPICS)}")
    prompt = raw.text.strip()
    if not prompt:
        raise Refused("the question text is empty")
    explanation = raw.general_feedback.strip()
    if not explanation:
        explanation = NO_EXPLANATION
        notices.append(f"{where}: no general feedback; the explanation says so")
    tags: list[str] = []
    own = [t.strip() if re.fullmatch(r"[\w.+-]+", t.strip()) else slugify(t) for t in raw.tags]
    for t in [*cat_tags, *own]:
        if t and t not in tags:
            tags.append(t)
    title = raw.name
    idn = (raw.idnumber or "").strip()
    if idn and not SLUG.match(idn):
        notices.append(f"{where}: id {idn!r} is not a slug; using {slugify(idn)!r}")
        idn = slugify(idn)
    base = idn or slugify(title or "") or slugify(" ".join(prompt.split()[:8]))
    qid = unique_id(base, f"{title}\n{prompt}", taken)
    if idn and title == idn:
        title = None  # our exports name a question by its id when it has no title
    difficulty = meta.get("difficulty", 2)
    out: dict[str, Any] = {
        "id": qid,
        "kind": meta.get("kind", kind),
        "topic": q_topic,
        "difficulty": difficulty if isinstance(difficulty, int) and 1 <= difficulty <= 3 else 2,
        "prompt": prompt,
        "explanation": explanation,
        "tags": tags,
        "title": title,
    }
    for key in ("demo", "demo_params"):
        if meta.get(key) is not None:
            out[key] = meta[key]
    getattr(_Mapper, raw.qtype)(raw, out, notices)
    return out


class _Mapper:
    @staticmethod
    def multichoice(raw: RawQuestion, out: dict, notices: list[str]) -> None:
        answers = raw.answers
        if len(answers) < 2:
            raise Refused("a multiple-choice question needs at least two answers")
        choices = [a.text for a in answers]
        for n, text in enumerate(choices, 1):
            if not text:
                raise Refused(f"answer {n} is empty")
        if len(set(choices)) != len(choices):
            raise Refused("two answers have the same text")
        fractions = {a.text: a.fraction for a in answers}
        feedback = {a.text: a.feedback for a in answers if a.feedback}
        if raw.single:
            top = max(fractions.values())
            if abs(top - 1) > 1e-6:
                raise Refused("no answer earns 100% (Moodle needs one in a single-answer question)")
            key = next(c for c in choices if abs(fractions[c] - 1) <= 1e-6)
            credits = {c: f for c, f in fractions.items() if c != key and f != 0}
            out.update(type="single", choices=choices, answer=key)
            if credits:
                out["credits"] = credits
        else:
            right = [c for c in choices if fractions[c] > 0]
            total = round(sum(fractions[c] for c in right), 2)
            if total != 1:
                raise Refused(f"the positive weights add up to {total * 100:g}%; Moodle needs 100%")
            out.update(type="multi", choices=choices, answer=right)
            k = len(right)
            plain = all(abs(fractions[c] - 1 / k) < 1e-4 for c in right) and all(
                abs(fractions[c] + 1 / k) < 1e-4 for c in choices if c not in right
            )
            if not plain:
                out["credits"] = {c: f for c, f in fractions.items() if f != 0}
        if raw.wrong_feedback:
            feedback["*"] = raw.wrong_feedback
        if feedback:
            out["feedback"] = feedback

    @staticmethod
    def truefalse(raw: RawQuestion, out: dict, notices: list[str]) -> None:
        if raw.tf_answer is None:
            raise Refused("a true/false question needs its answer (true or false)")
        out.update(type="truefalse", answer=raw.tf_answer)
        feedback = {k: v for k, v in raw.tf_feedback.items() if v}
        if feedback:
            out["feedback"] = feedback

    @staticmethod
    def shortanswer(raw: RawQuestion, out: dict, notices: list[str]) -> None:
        where = raw.label()
        kept = []
        for a in raw.answers:
            if a.fraction > 0:
                kept.append(a)
            elif normalise_text(a.raw) == "*" and a.feedback:
                raw.wrong_feedback = raw.wrong_feedback or a.feedback
            else:
                notices.append(
                    f"{where}: answer {a.raw!r} earns {a.fraction * 100:g}%; only answers that earn credit are kept"
                )
        if not kept:
            raise Refused("no answer earns credit")
        if not any(abs(a.fraction - 1) <= 1e-6 for a in kept):
            raise Refused("no answer earns 100% (Moodle needs one)")
        patterns = [moodle_to_pattern(a.raw) for a in kept]
        patterns = _meta_patterns(raw, kept, patterns)
        seen: dict[str, RawAnswer] = {}
        for p, a in zip(patterns, kept, strict=True):
            if p in seen:
                notices.append(f"{where}: answer {a.raw!r} repeats an earlier one; kept once")
                continue
            seen[p] = a
        out.update(type="short", answers=list(seen))
        credits = {p: a.fraction for p, a in seen.items() if a.fraction < 1}
        if credits:
            out["credits"] = credits
        feedback = {p: a.feedback for p, a in seen.items() if a.feedback}
        if raw.wrong_feedback:
            feedback["*"] = raw.wrong_feedback
        if feedback:
            out["feedback"] = feedback
        case = raw.meta.get("case_sensitive", raw.usecase)
        if case:
            out["case_sensitive"] = True
        shown = raw.meta.get("display_answer")
        if isinstance(shown, str):
            out["display_answer"] = shown

    @staticmethod
    def numerical(raw: RawQuestion, out: dict, notices: list[str]) -> None:
        where = raw.label()
        key = None
        alternatives = []
        feedback: dict[str, str] = {}
        for a in raw.answers:
            if a.fraction <= 0:
                notices.append(f"{where}: answer {a.raw!r} earns no credit; not kept")
                continue
            if key is None and abs(a.fraction - 1) <= 1e-6:
                key = a
                if a.feedback:
                    feedback["0"] = a.feedback
                continue
            alternatives.append(a)
        if key is None:
            raise Refused("no answer earns 100% (Moodle needs one)")
        out.update(type="numeric", answer=float(key.text), tolerance=float(key.tolerance or 0.0))
        if alternatives:
            out["alternatives"] = [
                {"answer": float(a.text), "tolerance": float(a.tolerance or 0.0), "credit": a.fraction}
                for a in alternatives
            ]
            for n, a in enumerate(alternatives, 1):
                if a.feedback:
                    feedback[str(n)] = a.feedback
        if raw.wrong_feedback:
            feedback["*"] = raw.wrong_feedback
        if feedback:
            out["feedback"] = feedback

    @staticmethod
    def essay(raw: RawQuestion, out: dict, notices: list[str]) -> None:
        where = raw.label()
        meta = raw.meta
        answer = meta.get("answer") if isinstance(meta.get("answer"), str) else None
        if answer is None:
            answer = raw.graderinfo.strip() or (
                raw.general_feedback.strip() if raw.general_feedback.strip() else ""
            )
        if not answer:
            answer = NO_MODEL_ANSWER
            notices.append(f"{where}: no grader information; the model answer says none was given")
        key_points = meta.get("key_points")
        if not (isinstance(key_points, list) and key_points and all(isinstance(k, str) for k in key_points)):
            key_points = _key_points_from(answer) or [answer[:200]]
            notices.append(f"{where}: key points taken from the sentences of the model answer")
        out.update(type="open", answer=answer, key_points=key_points)


# ---- our meta comment ----------------------------------------------------------------------------------

_META_FIELDS = ("kind", "difficulty", "demo", "demo_params", "display_answer", "key_points")


def meta_of(q: dict[str, Any], extra: tuple[str, ...] = ()) -> dict[str, Any]:
    meta = {k: q[k] for k in (*_META_FIELDS, *extra) if q.get(k) is not None}
    if q.get("type") == "short":
        meta["answers"] = q["answers"]
    return meta


def meta_json(meta: dict[str, Any]) -> str:
    return json.dumps(meta, ensure_ascii=True, sort_keys=True, separators=(",", ":"))


def read_meta(text: str) -> dict[str, Any]:
    text = text.strip()
    if not text.startswith(META_PREFIX):
        return {}
    try:
        meta = json.loads(text[len(META_PREFIX) :])
    except ValueError:
        return {}
    return meta if isinstance(meta, dict) else {}


def validate(q: dict[str, Any]) -> None:
    """Refused with the schema's own message when our question model does not take the result."""
    from pydantic import ValidationError

    try:
        QuestionSpec.model_validate(q)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        msg = first["msg"].removeprefix("Value error, ")
        raise Refused(f"{loc}: {msg}" if loc else msg) from None
