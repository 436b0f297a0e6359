"""The question-file format: one pydantic model per question, validated field by field."""

import math
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from quizapp.grading import normalise_text

TOPICS: dict[str, str] = {
    "fundamentals": "Deep learning fundamentals",
    "neural-networks": "Neurons, layers and the forward pass",
    "loss-functions": "Loss functions",
    "backpropagation": "Backpropagation and gradient descent",
    "optimization": "Optimizers, learning rates and batch size",
    "regularization": "Overfitting and regularization",
    "initialization-normalization": "Initialization and normalization",
    "activation-functions": "Activation functions",
    "cnn": "Convolutional networks and pooling",
    "rnn": "Recurrent networks",
    "transformers": "Attention and transformers",
    "nlp": "Embeddings and NLP",
    "generative-models": "Generative models",
    "transfer-learning": "Transfer learning and fine-tuning",
    "data": "Data, splits and metrics",
    "hardware-frameworks": "Hardware and frameworks",
    "career": "Practical and career questions",
    "quantization": "Quantization",
    "distributed-training": "Distributed training",
    "alignment": "Post-training and alignment",
    "decoding-serving": "Decoding and serving language models",
    "evaluation": "Evaluating language and generative models",
    "diffusion": "Diffusion models",
    "moe-scaling": "Mixture of experts and scaling laws",
    "peft": "Parameter-efficient fine-tuning",
    "self-supervised": "Contrastive and self-supervised learning",
    "vision-tasks": "Detection and segmentation",
    "compression": "Distillation and pruning",
    "calibration": "Calibration and uncertainty",
    "rag": "Retrieval-augmented generation",
    "long-context": "Efficient long-context attention and state-space models",
    "interpretability": "Interpretability",
    "hyperparameters": "Hyperparameter search",
}

KINDS = ("faq", "interview", "quiz")
TYPES = ("single", "multi", "truefalse", "numeric", "short", "open")
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,79}$")

Kind = Literal["faq", "interview", "quiz"]
QType = Literal["single", "multi", "truefalse", "numeric", "short", "open"]

# Which answer fields each type needs; any other answer field is refused.
_NEEDS: dict[str, set[str]] = {
    "single": {"choices", "answer"},
    "multi": {"choices", "answer"},
    "truefalse": {"answer"},
    "numeric": {"answer", "tolerance"},
    "short": {"answers"},
    "open": {"answer", "key_points"},
}
_ANSWER_FIELDS = {"choices", "answer", "answers", "tolerance", "key_points"}
# Optional fields brought by Moodle imports (quizapp/interop); absent, a question behaves as before.
_OPTIONAL_ONLY: dict[str, set[str]] = {
    "credits": {"single", "multi", "short"},
    "alternatives": {"numeric"},
    "case_sensitive": {"short"},
    "feedback": {"single", "multi", "truefalse", "numeric", "short"},
}
_NEW_OPTIONAL = ("title", "credits", "alternatives", "feedback", "case_sensitive")


class NumericAlternative(BaseModel):
    """A further accepted numeric answer with partial credit (Moodle numerical with several answers)."""

    model_config = ConfigDict(extra="forbid")

    answer: float
    tolerance: float = Field(ge=0)
    credit: float = Field(gt=0, le=1)

    @field_validator("answer", "tolerance")
    @classmethod
    def _finite(cls, v: float) -> float:
        if not math.isfinite(v):
            raise ValueError("must be a finite number")
        return v


class QuestionSpec(BaseModel):
    """One question exactly as written in a file under questions/."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: str
    kind: Kind
    type: QType
    topic: str
    difficulty: int = Field(ge=1, le=3)
    prompt: str = Field(min_length=1)
    explanation: str = Field(min_length=1)
    tags: list[str] = Field(default_factory=list)
    choices: list[str] | None = None
    answer: Any = None
    answers: list[str] | None = None
    display_answer: str | None = None  # short only: the key as a person writes it, shown after grading
    tolerance: float | None = None
    key_points: list[str] | None = None
    demo: str | None = None
    demo_params: dict[str, Any] | None = None
    # Optional, from Moodle imports: the question's name there; per-choice (single, multi) or per-pattern
    # (short) credit in [-1, 1]; further numeric answers with partial credit; feedback shown after
    # answering, keyed by choice, pattern, "true"/"false", numeric answer index ("0" the key) or "*"
    # (any other answer); short-answer matching that respects case.
    title: str | None = Field(default=None, min_length=1, max_length=255)
    credits: dict[str, float] | None = None
    alternatives: list[NumericAlternative] | None = None
    feedback: dict[str, str] | None = None
    case_sensitive: bool | None = None

    @field_validator("id")
    @classmethod
    def _slug(cls, v: str) -> str:
        if not SLUG.match(v):
            raise ValueError("must be a slug: lower-case letters, digits and '-', 2 to 80 characters")
        return v

    @field_validator("topic")
    @classmethod
    def _topic(cls, v: str) -> str:
        if v not in TOPICS:
            raise ValueError(f"unknown topic {v!r}; known topics: {', '.join(TOPICS)}")
        return v

    @model_validator(mode="after")
    def _answer_shape(self) -> "QuestionSpec":
        needs = _NEEDS[self.type]
        given = {f for f in _ANSWER_FIELDS if getattr(self, f) is not None}
        missing, extra = needs - given, given - needs
        if missing:
            raise ValueError(f"type {self.type!r} needs {', '.join(sorted(missing))}")
        if extra:
            raise ValueError(f"type {self.type!r} does not take {', '.join(sorted(extra))}")
        getattr(self, f"_check_{self.type}")()
        self._check_display_answer()
        self._check_optional()
        if self.demo_params is not None and self.demo is None:
            raise ValueError("demo_params given without a demo")
        return self

    def _check_choices(self) -> None:
        choices = self.choices or []
        if len(choices) < 2:
            raise ValueError("choices: give at least two")
        if any(not isinstance(c, str) or not c.strip() for c in choices):
            raise ValueError("choices: every choice must be non-empty text")
        if len(set(choices)) != len(choices):
            raise ValueError("choices: two choices have the same text")

    def _check_single(self) -> None:
        self._check_choices()
        if not isinstance(self.answer, str) or self.answer not in (self.choices or []):
            raise ValueError("answer: a single-choice answer must be the exact text of one choice")

    def _check_multi(self) -> None:
        self._check_choices()
        ans = self.answer
        if not isinstance(ans, list) or not ans or any(a not in (self.choices or []) for a in ans):
            raise ValueError("answer: a multi-choice answer must be a list of choice texts")
        if len(set(ans)) != len(ans):
            raise ValueError("answer: a choice is listed twice")

    def _check_truefalse(self) -> None:
        if not isinstance(self.answer, bool):
            raise ValueError("answer: a true/false answer must be true or false")

    def _check_numeric(self) -> None:
        if isinstance(self.answer, bool) or not isinstance(self.answer, int | float):
            raise ValueError("answer: a numeric answer must be a number")
        if not math.isfinite(float(self.answer)):
            raise ValueError("answer: must be a finite number")
        if self.tolerance is None or not math.isfinite(self.tolerance) or self.tolerance < 0:
            raise ValueError("tolerance: must be a finite number >= 0")
        self.answer = float(self.answer)

    def _check_short(self) -> None:
        if not self.answers:
            raise ValueError("answers: give at least one accepted pattern")
        for pattern in self.answers:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(
                    f"answers: pattern {pattern!r} is not a valid regular expression: {exc}"
                ) from exc

    def _check_display_answer(self) -> None:
        shown = self.display_answer
        if shown is None:
            return
        if self.type != "short":
            raise ValueError(f"display_answer: type {self.type!r} does not take display_answer (short only)")
        if not shown:
            raise ValueError("display_answer: must be non-empty text")
        text = normalise_text(shown)
        flags = 0 if self.case_sensitive else re.IGNORECASE
        if not any(re.fullmatch(p, text, flags=flags) for p in self.answers or []):
            raise ValueError(
                f"display_answer: {shown!r} is not accepted by any of the question's answers patterns"
            )

    def _check_optional(self) -> None:
        for name, types in _OPTIONAL_ONLY.items():
            if getattr(self, name) is not None and self.type not in types:
                raise ValueError(f"{name}: type {self.type!r} does not take {name}")
        if self.credits is not None:
            self._check_credits()
        if self.feedback is not None:
            self._check_feedback()
        if self.alternatives is not None and not self.alternatives:
            raise ValueError("alternatives: give at least one, or leave the field out")

    def _check_credits(self) -> None:
        credits = self.credits or {}
        if not credits:
            raise ValueError("credits: give at least one, or leave the field out")
        known = self.answers if self.type == "short" else self.choices
        what = "pattern in answers" if self.type == "short" else "choice"
        for key, value in credits.items():
            if key not in (known or []):
                raise ValueError(f"credits: {key!r} is not a {what}")
            if not math.isfinite(value) or not -1 <= value <= 1:
                raise ValueError(f"credits: {key!r} has {value}; a credit lies between -1 and 1")
        if self.type == "single" and credits.get(self.answer, 1.0) != 1.0:
            raise ValueError("credits: the answer of a single-choice question earns full credit (1)")
        if self.type == "short" and any(v <= 0 for v in credits.values()):
            raise ValueError("credits: a short-answer pattern earns more than 0")
        if self.type == "multi":
            right = {c for c, v in credits.items() if v > 0}
            if right != set(self.answer):
                raise ValueError("credits: the choices with positive credit must be exactly the answer list")
            if abs(sum(credits[c] for c in right) - 1) > 0.01:
                raise ValueError("credits: the positive credits of a multi-choice question must add up to 1")

    def _check_feedback(self) -> None:
        feedback = self.feedback or {}
        if self.type in ("single", "multi"):
            known = set(self.choices or [])
        elif self.type == "truefalse":
            known = {"true", "false"}
        elif self.type == "short":
            known = set(self.answers or [])
        else:  # numeric: "0" is the key, "1".. the alternatives
            known = {str(i) for i in range(1 + len(self.alternatives or []))}
        known.add("*")
        for key, text in feedback.items():
            if key not in known:
                raise ValueError(f"feedback: {key!r} is not one of {', '.join(sorted(known))}")
            if not text:
                raise ValueError(f"feedback: the text for {key!r} is empty")

    def _check_open(self) -> None:
        if not isinstance(self.answer, str) or not self.answer.strip():
            raise ValueError("answer: an open question needs a model answer (text)")
        if not self.key_points or any(not str(k).strip() for k in self.key_points):
            raise ValueError("key_points: an open question needs at least one key point")

    def content(self) -> dict[str, Any]:
        """The fields that define a version: a change in any of them makes a new version."""
        data = self.model_dump(mode="json")
        for name in ("display_answer", *_NEW_OPTIONAL):  # absent as before the field existed: no new version
            if data.get(name) is None:
                data.pop(name, None)
        return data
