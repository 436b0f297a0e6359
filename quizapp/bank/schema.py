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
        if not any(re.fullmatch(p, text, flags=re.IGNORECASE) for p in self.answers or []):
            raise ValueError(
                f"display_answer: {shown!r} is not accepted by any of the question's answers patterns"
            )

    def _check_open(self) -> None:
        if not isinstance(self.answer, str) or not self.answer.strip():
            raise ValueError("answer: an open question needs a model answer (text)")
        if not self.key_points or any(not str(k).strip() for k in self.key_points):
            raise ValueError("key_points: an open question needs at least one key point")

    def content(self) -> dict[str, Any]:
        """The fields that define a version: a change in any of them makes a new version."""
        data = self.model_dump(mode="json")
        if data.get("display_answer") is None:  # absent, as before the field existed: no new version
            data.pop("display_answer", None)
        return data
