"""Grade an answer against a question version's data. Pure functions: no database, no UI."""

import math
import re
from dataclasses import dataclass
from typing import Any


class AnswerError(ValueError):
    """The answer cannot be graded as given (empty, wrong shape, not a number)."""


@dataclass(frozen=True)
class Grade:
    score: float  # 0..1
    correct: bool
    expected: str  # the correct answer, as a person would read it


_FULL = 1 - 1e-6  # a score this high is full credit (Moodle fractions such as 3 x 0.3333333)
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def normalise_text(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip()).removesuffix(".").strip()


def parse_number(raw: Any) -> float:
    if isinstance(raw, bool):
        raise AnswerError("enter a number")
    if isinstance(raw, int | float):
        try:
            value = float(raw)
        except OverflowError:  # an int past float's range
            raise AnswerError("enter a finite number") from None
    else:
        text = str(raw).strip().replace(",", "").replace("_", "").replace(" ", "")
        if not text:
            raise AnswerError("enter a number")
        if not _NUMBER.match(text):
            raise AnswerError(f"{str(raw).strip()!r} is not a number; write digits, e.g. 0.25 or 1e-3")
        value = float(text)
    if not math.isfinite(value):
        raise AnswerError("enter a finite number")
    return value


def readable_pattern(pattern: str) -> str | None:
    """A plain answer that a short-answer pattern accepts, e.g. '(the )?vanishing gradients?' ->
    'vanishing gradients'; None when no simple reading of the pattern is accepted by it."""
    text = pattern.strip("^$")
    text = re.sub(r"\\b", "", text)
    for _ in range(5):  # innermost groups first: optional ones go, others keep their first alternative
        text = re.sub(r"\((?:\?:)?[^()]*\)\?", "", text)
        text = re.sub(r"\((?:\?:)?([^()|]*)(?:\|[^()]*)?\)", r"\1", text)
    if "|" in text:
        text = text.split("|")[0]
    text = re.sub(r"\[([^\]])[^\]]*\]", r"\1", text)  # a class: its first character
    text = re.sub(r"\\s[*+?]?", " ", text)
    text = re.sub(r"(.)[?*]", r"\1", text)
    text = re.sub(r"(.)\+", r"\1", text)
    text = re.sub(r"\\(.)", r"\1", text)
    text = re.sub(r"\s+", " ", text).strip()
    try:
        ok = bool(text) and re.fullmatch(pattern, text, flags=re.IGNORECASE) is not None
    except re.error:
        return None
    return text if ok else None


def _expected(data: dict) -> str:
    t = data["type"]
    if t == "multi":
        return "; ".join(data["answer"])
    if t == "truefalse":
        return "True" if data["answer"] else "False"
    if t == "numeric":
        return f"{data['answer']:g} (± {data['tolerance']:g})"
    if t == "short":
        if data.get("display_answer"):
            return data["display_answer"]
        for pattern in data["answers"]:
            plain = readable_pattern(pattern)
            if plain:
                return plain
        return data["answers"][0]
    return str(data["answer"])


def grade(data: dict, answer: Any) -> Grade:
    """`answer` by type: single str; multi list[str]; truefalse bool; numeric number or text;
    short text; open {"text": str, "points": list[int]} (indices of key points the learner covered)."""
    t = data["type"]
    expected = _expected(data)
    if t == "single":
        if not isinstance(answer, str) or not answer:
            raise AnswerError("choose one option")
        if answer not in data["choices"]:
            raise AnswerError("that option is not one of the choices")
        ok = answer == data["answer"]
        credits = data.get("credits")
        if credits:  # Moodle: the chosen option's fraction, never below 0
            score = 1.0 if ok else max(0.0, min(1.0, float(credits.get(answer, 0.0))))
            return Grade(score, score >= _FULL, expected)
        return Grade(1.0 if ok else 0.0, ok, expected)
    if t == "multi":
        if not isinstance(answer, list | tuple) or not answer:
            raise AnswerError("choose at least one option")
        if not all(isinstance(c, str) for c in answer):
            raise AnswerError("an option is not one of the choices")
        picked = set(answer)
        if not picked <= set(data["choices"]):
            raise AnswerError("an option is not one of the choices")
        right = set(data["answer"])
        credits = data.get("credits")
        if credits:  # Moodle: the sum of the chosen options' fractions, clamped to [0, 1]
            score = max(0.0, min(1.0, sum(float(credits.get(c, 0.0)) for c in picked)))
            return Grade(score, score >= _FULL, expected)
        # Moodle-style partial credit: each right pick earns 1/|right|, each wrong pick costs as much.
        score = max(0.0, (len(picked & right) - len(picked - right)) / len(right))
        return Grade(score, picked == right, expected)
    if t == "truefalse":
        if not isinstance(answer, bool):
            raise AnswerError("choose True or False")
        ok = answer is data["answer"]
        return Grade(1.0 if ok else 0.0, ok, expected)
    if t == "numeric":
        value = parse_number(answer)
        ok = abs(value - float(data["answer"])) <= float(data["tolerance"]) + 1e-12
        if not ok and data.get("alternatives"):  # further answers with partial credit: the best one counts
            score = max(
                (
                    float(alt["credit"])
                    for alt in data["alternatives"]
                    if abs(value - float(alt["answer"])) <= float(alt["tolerance"]) + 1e-12
                ),
                default=0.0,
            )
            return Grade(score, score >= _FULL, expected)
        return Grade(1.0 if ok else 0.0, ok, expected)
    if t == "short":
        if not isinstance(answer, str) or not answer.strip():
            raise AnswerError("write an answer")
        text = normalise_text(answer)
        flags = 0 if data.get("case_sensitive") else re.IGNORECASE
        credits = data.get("credits")
        if credits:  # the best matching pattern's credit (patterns without one earn full credit)
            score = max(
                (float(credits.get(p, 1.0)) for p in data["answers"] if re.fullmatch(p, text, flags=flags)),
                default=0.0,
            )
            return Grade(score, score >= _FULL, expected)
        ok = any(re.fullmatch(p, text, flags=flags) for p in data["answers"])
        return Grade(1.0 if ok else 0.0, ok, expected)
    if t == "open":
        if not isinstance(answer, dict) or not str(answer.get("text", "")).strip():
            raise AnswerError("write your answer before comparing it with the model answer")
        n = len(data["key_points"])
        ticked = answer.get("points", [])
        if not isinstance(ticked, list | tuple) or not all(isinstance(i, int) for i in ticked):
            raise AnswerError("key points are ticked by their numbers")
        points = {int(i) for i in ticked}
        if not points <= set(range(n)):
            raise AnswerError("a ticked key point does not exist")
        score = len(points) / n
        return Grade(score, score >= 0.999, expected)
    raise AnswerError(f"unknown question type {t!r}")


def answer_feedback(data: dict, answer: Any) -> list[str]:
    """The per-answer feedback a question carries for this answer (imported from Moodle's `#` / <feedback>):
    the picked options' own texts, the matched pattern's or numeric answer's, else the "*" text for any
    other answer. Empty when the question has none or the answer cannot be read."""
    feedback = data.get("feedback") or {}
    if not feedback:
        return []
    t = data["type"]
    try:
        grade_ = grade(data, answer)
    except AnswerError:
        return []
    key: str | None = None
    if t == "single":
        key = answer if answer in feedback else None
    elif t == "multi":
        texts = [feedback[c] for c in data["choices"] if c in set(answer) and c in feedback]
        if texts:
            return texts
    elif t == "truefalse":
        key = "true" if answer else "false"
    elif t == "numeric":
        value = parse_number(answer)
        options = [
            (data["answer"], data["tolerance"]),
            *((a["answer"], a["tolerance"]) for a in data.get("alternatives") or []),
        ]
        for i, (target, tol) in enumerate(options):
            if abs(value - float(target)) <= float(tol) + 1e-12:
                key = str(i)
                break
    elif t == "short":
        text = normalise_text(answer)
        flags = 0 if data.get("case_sensitive") else re.IGNORECASE
        credits = data.get("credits") or {}
        matched = [p for p in data["answers"] if re.fullmatch(p, text, flags=flags)]
        if matched:
            key = max(matched, key=lambda p: float(credits.get(p, 1.0)))
    if key is not None and key in feedback:
        return [feedback[key]]
    if "*" in feedback and not grade_.correct:
        return [feedback["*"]]
    return []
