"""Read questions/*.yaml into validated QuestionSpecs, with a file:line message for every problem."""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from quizapp.bank.schema import QuestionSpec


@dataclass(frozen=True)
class BankError:
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


@dataclass(frozen=True)
class LoadedQuestion:
    spec: QuestionSpec
    file: str
    line: int
    field_lines: dict[str, int] = field(default_factory=dict, compare=False)

    def line_of(self, name: str) -> int:
        return self.field_lines.get(name, self.line)


@dataclass
class LoadReport:
    questions: list[LoadedQuestion] = field(default_factory=list)
    errors: list[BankError] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _key_lines(node: yaml.MappingNode) -> dict[str, int]:
    return {k.value: k.start_mark.line + 1 for k, _ in node.value if isinstance(k, yaml.ScalarNode)}


def _duplicate_keys(node: yaml.MappingNode) -> list[tuple[str, int]]:
    seen: set[str] = set()
    dups = []
    for k, _ in node.value:
        if isinstance(k, yaml.ScalarNode):
            if k.value in seen:
                dups.append((k.value, k.start_mark.line + 1))
            seen.add(k.value)
    return dups


def _field_of_message(msg: str) -> str | None:
    head = msg.split(":", 1)[0].strip()
    return head if head.isidentifier() else None


def _validation_errors(exc: ValidationError, item_line: int, keys: dict[str, int]) -> list[tuple[int, str]]:
    out = []
    for err in exc.errors():
        loc = [str(p) for p in err["loc"]]
        msg = err["msg"].removeprefix("Value error, ")
        field_name = loc[0] if loc else _field_of_message(msg)
        line = keys.get(field_name, item_line) if field_name else item_line
        if err["type"] == "extra_forbidden":
            msg = f"unknown field {loc[0]!r}"
        elif err["type"] == "missing":
            msg = f"missing field {loc[0]!r}"
            line = item_line
        elif loc:
            where = ".".join(loc)
            msg = f"{where}: {msg}"
        out.append((line, msg))
    return out


def load_file(path: Path, display: str | None = None) -> tuple[list[LoadedQuestion], list[BankError]]:
    """Parse and validate one file. Any error means the file contributes no question."""
    name = display or str(path)
    errors: list[BankError] = []
    try:
        text = path.read_text(encoding="utf-8")
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        return [], [BankError(name, line, f"not valid YAML: {exc.problem or exc}")]
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        return [], [BankError(name, 1, f"cannot read the file: {exc}")]
    if root is None:
        return [], [BankError(name, 1, "the file is empty; it should hold a list of questions")]
    if not isinstance(root, yaml.SequenceNode):
        return [], [
            BankError(name, root.start_mark.line + 1, "the file must be a list of questions (- id: ...)")
        ]

    loader = yaml.SafeLoader("")
    questions: list[LoadedQuestion] = []
    for item in root.value:
        line = item.start_mark.line + 1
        if not isinstance(item, yaml.MappingNode):
            errors.append(BankError(name, line, "each question must be a mapping of fields"))
            continue
        keys = _key_lines(item)
        try:
            data: Any = loader.construct_document(item)
        except yaml.YAMLError as exc:  # a tag SafeLoader refuses, an unhashable key, ...
            problem = getattr(exc, "problem", None) or str(exc)
            errors.append(BankError(name, line, f"not valid YAML: {problem}"))
            continue
        if not isinstance(data, dict):  # a tagged mapping such as !!set
            errors.append(BankError(name, line, "each question must be a mapping of fields"))
            continue
        label = f"question {data.get('id')!r}: " if isinstance(data.get("id"), str) else ""
        for key, key_line in _duplicate_keys(item):
            errors.append(BankError(name, key_line, f"{label}field {key!r} is given twice"))
        try:
            spec = QuestionSpec.model_validate(data)
        except ValidationError as exc:
            for err_line, msg in _validation_errors(exc, line, keys):
                errors.append(BankError(name, err_line, label + msg))
            continue
        loaded = LoadedQuestion(spec, name, line, keys)
        errors.extend(_demo_errors(loaded))
        questions.append(loaded)
    return ([] if errors else questions), errors


def _demo_errors(q: LoadedQuestion) -> list[BankError]:
    from demos import catalogue

    spec = q.spec
    if spec.demo is None:
        return []
    if not catalogue.is_registered(spec.demo):
        known = ", ".join(catalogue.CATALOGUE)
        return [
            BankError(
                q.file,
                q.line_of("demo"),
                f"question {spec.id!r}: demo {spec.demo!r} is not a registered demo; known: {known}",
            )
        ]
    if spec.demo_params is None:
        return []
    try:
        from demos import registry
    except ImportError:  # the demo engine is not installed: the slug check above is all we can do
        return []
    if not registry.available(spec.demo):
        return []
    try:
        registry.parse_params(spec.demo, spec.demo_params)
    except registry.KnobError as exc:
        return [
            BankError(
                q.file,
                q.line_of("demo_params"),
                f"question {spec.id!r}: demo_params for {spec.demo!r}: {exc}",
            )
        ]
    return []


def load_bank(root: Path) -> LoadReport:
    """Load every *.yaml under root (or one file), check ids across files and demo slugs."""
    report = LoadReport()
    paths = [root] if root.is_file() else sorted(root.glob("*.yaml")) + sorted(root.glob("*.yml"))
    if not paths:
        report.errors.append(BankError(str(root), 1, "no question files (*.yaml) found"))
        return report
    first_seen: dict[str, LoadedQuestion] = {}
    for path in paths:
        display = str(path)
        report.files.append(display)
        loaded, errors = load_file(path, display)
        report.errors.extend(errors)
        for q in loaded:
            prior = first_seen.get(q.spec.id)
            if prior is not None:
                report.errors.append(
                    BankError(
                        q.file,
                        q.line,
                        f"duplicate id {q.spec.id!r}: first defined at {prior.file}:{prior.line}",
                    )
                )
                continue
            first_seen[q.spec.id] = q
            report.questions.append(q)
    if report.errors:
        report.questions = []
    return report
