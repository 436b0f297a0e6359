"""Questions that instructors own: written in the browser or imported from GIFT / Moodle XML.

Rules (README, "Moodle and Anki interop"):
- An owned question has `Question.owner_id` set; the public bank (synced from questions/) has none.
- Its id is namespaced `u<owner_id>-<slug>`, so it can never collide with a bank id or another
  instructor's question; an id that already carries some `u<n>-` prefix (an earlier export) has it
  replaced by the importer's own. The slug comes from the file's `[id:...]` / `<idnumber>`, else the
  title, else the prompt.
- It is versioned like the bank: a changed question gets a new QuestionVersion (answers keep theirs),
  an unchanged one is left alone. Nothing is deleted: "delete" retires it (`active = False`).
- It is seen only by its owner (and admins) until published (`quizapp.questions.visible_to`); the
  owner may put it in their own assignments either way. Owners and admins publish and unpublish.
- It is validated by the same `QuestionSpec` as the YAML files. An import is all or nothing: any
  refused question (by the parser or by the schema) and nothing is written.

No streamlit here: the CLI (quizapp.cli_bank_interop) and the pages (quizapp/ui/views/my_questions.py)
both call these functions and commit the session they pass.
"""

import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy import insert
from sqlmodel import Session, col, select

from quizapp.bank.schema import QuestionSpec
from quizapp.bank.sync import content_hash
from quizapp.cohorts import require_teacher
from quizapp.identity import AccessDenied, Actor
from quizapp.models import Question, QuestionVersion, User, utcnow
from quizapp.questions import QuestionView, get_question
from quizapp.search import reindex

MAX_ID = 80
MAX_TITLE = 255
_PREFIX = re.compile(r"^u\d+-")


class OwnedQuestionError(ValueError):
    """A question or file that cannot be stored, with what and where."""


class SpecError(OwnedQuestionError):
    """The question does not pass the schema; `fields` maps each field (or "" for the whole question)
    to its message, for a form to show beside the field."""

    def __init__(self, fields: dict[str, str]) -> None:
        self.fields = fields
        super().__init__("; ".join(f"{k}: {v}" if k else v for k, v in fields.items()))


def slugify(text: str) -> str:
    return re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9]+", "-", text.lower())).strip("-")


def owned_id(owner_id: int, raw: str) -> str:
    """The namespaced id `u<owner_id>-<slug>` for a wanted id, title or prompt."""
    base = slugify(_PREFIX.sub("", raw.strip().lower())) or "question"
    prefix = f"u{owner_id}-"
    return (prefix + base[: MAX_ID - len(prefix)]).rstrip("-")


def _field_errors(exc: ValidationError) -> dict[str, str]:
    out: dict[str, str] = {}
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())]
        msg = str(err.get("msg", "")).removeprefix("Value error, ")
        name = loc[0] if loc else ""
        if not name:  # a whole-question check names its field first: "answer: must be ..."
            head, sep, rest = msg.partition(": ")
            if sep and head.replace("_", "").isalpha() and head in QuestionSpec.model_fields:
                name, msg = head, rest
            elif m := re.match(r"type '\w+' (?:needs|does not take) (\w+)", msg):
                name = m.group(1)  # the first field missing or not taken
        if len(loc) > 1:
            msg = f"item {int(loc[1]) + 1}: {msg}" if loc[1].isdigit() else f"{'.'.join(loc[1:])}: {msg}"
        out.setdefault(name, msg)
    return out


def validate_spec(data: dict[str, Any]) -> tuple[QuestionSpec, str | None]:
    """The question checked by the YAML schema, and its title (kept beside the schema's fields when
    the schema has no title of its own). Raises SpecError with a message per field."""
    data = dict(data)
    title = data.get("title")
    if "title" not in QuestionSpec.model_fields:
        data.pop("title", None)
    try:
        spec = QuestionSpec.model_validate(data)
    except ValidationError as exc:
        raise SpecError(_field_errors(exc)) from None
    if title is not None and not isinstance(title, str):
        raise SpecError({"title": "must be text"})
    title = " ".join(title.split())[:MAX_TITLE] if title else None
    return spec, title or None


def _content(spec: QuestionSpec, title: str | None) -> dict[str, Any]:
    data = spec.content()
    if title and not data.get("title"):
        data["title"] = title
    return data


def _owned_row(session: Session, actor: Actor, question_id: str) -> Question:
    require_teacher(actor)
    row = session.get(Question, question_id)
    if row is None or row.owner_id is None:
        raise LookupError(f"no instructor's question {question_id!r}")
    if actor.role != "admin" and row.owner_id != actor.user_id:
        raise AccessDenied("this question belongs to another instructor")
    return row


def _existing(session: Session, ids: list[str]) -> dict[str, tuple[Question, str]]:
    """The rows already holding these ids, each with its current version's content hash (read in
    chunks: an import of thousands of questions costs a few queries, not one per question)."""
    out: dict[str, tuple[Question, str]] = {}
    unique = sorted(set(ids))
    for i in range(0, len(unique), 500):
        chunk = unique[i : i + 500]
        rows = session.exec(
            select(Question, QuestionVersion.content_hash)
            .join(
                QuestionVersion,
                (col(QuestionVersion.question_id) == Question.id)
                & (col(QuestionVersion.version) == Question.current_version),
            )
            .where(col(Question.id).in_(chunk))
        ).all()
        out.update({q.id: (q, digest) for q, digest in rows})
    return out


def _store(
    session: Session,
    owner_id: int,
    spec: QuestionSpec,
    title: str | None,
    source: str,
    known: dict[str, tuple[Question, str]],
    new_rows: list[dict[str, Any]] | None = None,
) -> str:
    """Upsert one validated question under its (already namespaced) id, given what `_existing` found:
    added | changed | unchanged | restored (retired before, the same content now). With `new_rows`,
    a new question is collected there for `_insert_new` instead of added to the session."""
    data = _content(spec, title)
    digest = content_hash(data)
    row, current_hash = known.get(spec.id, (None, None))
    if row is None and new_rows is not None:
        new_rows.append(
            {
                "question": {
                    "id": spec.id,
                    "kind": spec.kind,
                    "type": spec.type,
                    "topic": spec.topic,
                    "difficulty": spec.difficulty,
                    "source": source[:255],
                    "owner_id": owner_id,
                },
                "version": {"question_id": spec.id, "content_hash": digest, "data": data},
            }
        )
        return "added"
    if row is None:
        session.add(
            Question(
                id=spec.id,
                kind=spec.kind,
                type=spec.type,
                topic=spec.topic,
                difficulty=spec.difficulty,
                source=source[:255],
                owner_id=owner_id,
                published=False,
            )
        )
        session.add(QuestionVersion(question_id=spec.id, version=1, content_hash=digest, data=data))
        return "added"
    if row.owner_id is None:
        raise OwnedQuestionError(f"id {spec.id!r} belongs to the public bank")
    if row.owner_id != owner_id:
        raise OwnedQuestionError(f"id {spec.id!r} belongs to another instructor")
    if current_hash == digest and row.active:
        return "unchanged"
    row.active = True
    if current_hash == digest:
        return "restored"
    row.current_version += 1
    row.kind, row.type, row.topic, row.difficulty = spec.kind, spec.type, spec.topic, spec.difficulty
    row.source, row.updated_at = source[:255], utcnow()
    session.add(
        QuestionVersion(question_id=row.id, version=row.current_version, content_hash=digest, data=data)
    )
    return "changed"


def _insert_new(session: Session, new_rows: list[dict[str, Any]]) -> None:
    """Insert the collected new questions and their first versions in two batched statements (building
    thousands of ORM objects one by one is what made a large import slow)."""
    if not new_rows:
        return
    now = utcnow()
    session.execute(
        insert(Question),
        [
            r["question"] | {"current_version": 1, "active": True, "published": False, "updated_at": now}
            for r in new_rows
        ],
    )
    session.execute(
        insert(QuestionVersion), [r["version"] | {"version": 1, "created_at": now} for r in new_rows]
    )


# ---------------------------------------------------------------- authoring


def save_question(
    *, session: Session, actor: Actor, data: dict[str, Any], question_id: str | None = None
) -> QuestionView:
    """Create a question owned by the actor (`question_id` None; its id is namespaced from the wanted
    `id`, the title or the prompt and must be new), or save a new version of one they own (admins:
    any owned one). Raises SpecError for what the schema refuses."""
    require_teacher(actor)
    assert actor.user_id is not None
    data = dict(data)
    if question_id is None:
        wanted = str(data.get("id") or data.get("title") or data.get("prompt") or "")[:120]
        qid = owned_id(actor.user_id, wanted)
        if session.get(Question, qid) is not None:
            raise SpecError({"id": f"{qid!r} is taken; give another id or edit that question"})
        owner = actor.user_id
    else:
        row = _owned_row(session, actor, question_id)
        qid, owner = row.id, row.owner_id
    data["id"] = qid
    spec, title = validate_spec(data)
    _store(session, owner, spec, title, "written in the browser", _existing(session, [qid]))  # type: ignore[arg-type]
    session.flush()
    reindex(session, [qid])
    view = get_question(session=session, question_id=qid)
    assert view is not None
    return view


def set_published(*, session: Session, actor: Actor, question_id: str, published: bool) -> None:
    """Owners and admins show (or hide again) an owned question to everyone."""
    row = _owned_row(session, actor, question_id)
    row.published, row.updated_at = published, utcnow()
    session.flush()
    reindex(session, [question_id])


def set_active(*, session: Session, actor: Actor, question_id: str, active: bool) -> None:
    """Retire (delete from every list; answers and assignments keep it) or restore an owned question."""
    row = _owned_row(session, actor, question_id)
    row.active, row.updated_at = active, utcnow()
    session.flush()
    reindex(session, [question_id])


@dataclass(frozen=True)
class OwnedQuestion:
    view: QuestionView
    owner_id: int
    owner: str
    published: bool
    active: bool

    @property
    def title(self) -> str:
        return self.view.data.get("title") or self.view.prompt.strip().splitlines()[0][:90]


def my_questions(*, session: Session, actor: Actor, everyone: bool = False) -> list[OwnedQuestion]:
    """The actor's own questions, retired ones included; admins with `everyone`: every owned one."""
    require_teacher(actor)
    if everyone and actor.role != "admin":
        raise AccessDenied("only admins see every instructor's questions")
    stmt = (
        select(Question, QuestionVersion, User.username)
        .join(
            QuestionVersion,
            (col(QuestionVersion.question_id) == Question.id)
            & (col(QuestionVersion.version) == Question.current_version),
        )
        .join(User, col(User.id) == Question.owner_id)
    )
    stmt = stmt.where(col(Question.owner_id).is_not(None) if everyone else Question.owner_id == actor.user_id)
    out = []
    for q, v, name in session.exec(stmt.order_by(col(Question.topic), col(Question.id))).all():
        view = QuestionView(q.id, v.id, v.version, q.kind, q.type, q.topic, q.difficulty, v.data)  # type: ignore[arg-type]
        out.append(OwnedQuestion(view, q.owner_id, name, q.published, q.active))  # type: ignore[arg-type]
    return out


# ---------------------------------------------------------------- import and export


@dataclass
class ImportReport:
    imported: int = 0
    skipped: list[dict[str, Any]] = field(default_factory=list)
    refused: list[dict[str, Any]] = field(default_factory=list)
    questions: list[dict[str, Any]] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    dry_run: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "imported": self.imported,
            "skipped": self.skipped,
            "refused": self.refused,
            "questions": self.questions,
            "notices": self.notices,
            "dry_run": self.dry_run,
        }


def find_owner(*, session: Session, username: str) -> Actor:
    """The instructor or admin named, as the actor an import or export runs for."""
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None:
        raise LookupError(f"no user {username!r}")
    if user.role not in ("instructor", "admin"):
        raise AccessDenied(f"{username!r} is a {user.role}; only instructors and admins own questions")
    return Actor(user_id=user.id, role=user.role)


def import_questions(
    *,
    session: Session,
    actor: Actor,
    questions: list[dict[str, Any]],
    skipped: list[dict[str, Any]] | None = None,
    refused: list[dict[str, Any]] | None = None,
    notices: list[str] | None = None,
    source: str = "<upload>",
    dry_run: bool = False,
) -> ImportReport:
    """Store parsed questions (QuestionSpec-shaped dicts with an optional title) as the actor's own.
    Each is namespaced and checked by the schema first; if anything is refused (here or by the
    parser), nothing is written. Existing ids of the actor's get a new version when changed."""
    require_teacher(actor)
    assert actor.user_id is not None
    report = ImportReport(
        skipped=list(skipped or []), refused=list(refused or []), notices=list(notices or []), dry_run=dry_run
    )
    checked: list[tuple[QuestionSpec, str | None]] = []
    seen: dict[str, str] = {}
    wanted = [
        dict(
            raw, id=owned_id(actor.user_id, str(raw.get("id") or raw.get("title") or raw.get("prompt") or ""))
        )
        for raw in questions
    ]
    known = _existing(session, [d["id"] for d in wanted])
    for n, data in enumerate(wanted, 1):
        label = str(data.get("title") or data.get("id") or f"question {n}")
        line = data.pop("line", None)
        try:
            spec, title = validate_spec(data)
        except SpecError as exc:
            report.refused.append({"question": label, "line": line, "reason": f"{source}: {exc}"})
            continue
        if spec.id in seen:
            report.refused.append(
                {
                    "question": label,
                    "line": line,
                    "reason": f"id {spec.id!r} is also used by {seen[spec.id]!r}",
                }
            )
            continue
        existing = known.get(spec.id, (None, ""))[0]
        if existing is not None and existing.owner_id != actor.user_id:
            whose = "the public bank" if existing.owner_id is None else "another instructor"
            report.refused.append(
                {"question": label, "line": line, "reason": f"id {spec.id!r} belongs to {whose}"}
            )
            continue
        seen[spec.id] = label
        checked.append((spec, title))
    if report.refused:
        return report
    shown: list[str] = []  # published questions whose content changed: the search index follows
    new_rows: list[dict[str, Any]] = []
    for spec, title in checked:
        status = "new" if spec.id not in known else "existing"
        if not dry_run:
            status = _store(session, actor.user_id, spec, title, f"import:{source}", known, new_rows)
            if status in ("changed", "restored") and known[spec.id][0].published:
                shown.append(spec.id)
        report.questions.append({"id": spec.id, "type": spec.type, "title": title or "", "status": status})
    report.imported = len(checked)
    if not dry_run and checked:
        session.flush()
        _insert_new(session, new_rows)
        if shown:
            reindex(session, shown)
    return report


def import_file(
    *,
    session: Session,
    actor: Actor,
    data: bytes,
    fmt: str,
    source: str = "<upload>",
    encoding: str | None = None,
    topic: str | None = None,
    kind: str = "quiz",
    dry_run: bool = False,
) -> ImportReport:
    """Parse a GIFT or Moodle XML file and import it as the actor's (see import_questions). A file
    the parser cannot read at all raises OwnedQuestionError with its message."""
    from quizapp import interop

    require_teacher(actor)
    if fmt not in interop.IMPORT_FORMATS:
        raise OwnedQuestionError(f"unknown import format {fmt!r}; use {' or '.join(interop.IMPORT_FORMATS)}")
    try:
        parsed = interop.parse(data, fmt, source=source, encoding=encoding, topic=topic, kind=kind)
    except interop.InteropError as exc:
        raise OwnedQuestionError(str(exc)) from None
    return import_questions(
        session=session,
        actor=actor,
        questions=parsed.questions,
        skipped=parsed.skipped,
        refused=parsed.refused,
        notices=parsed.notices,
        source=source,
        dry_run=dry_run,
    )


def export_questions(
    *, session: Session, owner_id: int | None, topic: str | None = None, ids: list[str] | None = None
) -> list[dict[str, Any]]:
    """The current version of each active question of one owner (None: the public bank), as the
    QuestionSpec-shaped dicts the exporters take, ordered by topic then id."""
    stmt = (
        select(QuestionVersion.data)
        .join(
            Question,
            (col(QuestionVersion.question_id) == Question.id)
            & (col(QuestionVersion.version) == Question.current_version),
        )
        .where(Question.active == True)  # noqa: E712
        .where(col(Question.owner_id).is_(None) if owner_id is None else Question.owner_id == owner_id)
    )
    if topic:
        stmt = stmt.where(Question.topic == topic)
    if ids is not None:
        stmt = stmt.where(col(Question.id).in_(ids))
    return [dict(d) for d in session.exec(stmt.order_by(col(Question.topic), col(Question.id))).all()]


def export_bytes(questions: list[dict[str, Any]], fmt: str, *, deck_name: str = "quizapp") -> bytes:
    """GIFT, Moodle XML or an Anki package of the given questions, as bytes (a download or a file)."""
    import tempfile
    from pathlib import Path

    from quizapp import interop

    if fmt not in interop.EXPORT_FORMATS:
        raise OwnedQuestionError(
            f"unknown export format {fmt!r}; use one of {', '.join(interop.EXPORT_FORMATS)}"
        )
    if fmt != "apkg":
        return interop.export(questions, fmt)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "deck.apkg"
        interop.write_apkg(questions, path, deck_name=deck_name)
        return path.read_bytes()
