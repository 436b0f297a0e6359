"""Bring the database in line with the question files: upsert by id, version changes, retire removals.

Only the public bank (questions without an owner) follows the files: questions that instructors
imported or wrote (quizapp.owned_questions) are never changed or retired here, and a file question
whose id an owned question holds is left out and reported as a conflict."""

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlmodel import Session, select

from quizapp.bank.loader import LoadedQuestion
from quizapp.models import Question, QuestionVersion, utcnow
from quizapp.search import reindex


@dataclass
class SyncReport:
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: int = 0
    retired: list[str] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)  # file ids held by an instructor's question

    def summary(self) -> str:
        text = (
            f"{len(self.added)} added, {len(self.changed)} changed (new version), {self.unchanged} unchanged, "
            f"{len(self.retired)} retired, {len(self.restored)} restored"
        )
        if self.conflicts:
            text += (
                f"; {len(self.conflicts)} left out because an instructor's question holds the id: "
                + ", ".join(self.conflicts)
            )
        return text


def content_hash(data: dict) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def sync_bank(*, session: Session, loaded: Iterable[LoadedQuestion]) -> SyncReport:
    """Apply the loaded bank. The caller commits; a caller that loaded with errors must not call this."""
    report = SyncReport()
    existing = {q.id: q for q in session.exec(select(Question)).all()}
    owned = {qid for qid, q in existing.items() if q.owner_id is not None}
    hashes = {
        v.question_id: v.content_hash
        for v in session.exec(
            select(QuestionVersion).join(
                Question,
                (Question.id == QuestionVersion.question_id)
                & (Question.current_version == QuestionVersion.version),
            )
        ).all()
    }
    seen: set[str] = set()
    for item in loaded:
        spec = item.spec
        if spec.id in owned:
            report.conflicts.append(spec.id)
            continue
        data = spec.content()
        digest = content_hash(data)
        seen.add(spec.id)
        row = existing.get(spec.id)
        if row is None:
            row = Question(
                id=spec.id,
                kind=spec.kind,
                type=spec.type,
                topic=spec.topic,
                difficulty=spec.difficulty,
                source=item.file,
                current_version=1,
            )
            session.add(row)
            session.add(QuestionVersion(question_id=spec.id, version=1, content_hash=digest, data=data))
            report.added.append(spec.id)
            continue
        if not row.active:
            row.active = True
            report.restored.append(spec.id)
        if hashes.get(spec.id) == digest:
            if row.source != item.file:
                row.source = item.file
            report.unchanged += 1
            continue
        row.current_version += 1
        row.kind, row.type, row.topic, row.difficulty = spec.kind, spec.type, spec.topic, spec.difficulty
        row.source, row.updated_at = item.file, utcnow()
        session.add(
            QuestionVersion(question_id=spec.id, version=row.current_version, content_hash=digest, data=data)
        )
        report.changed.append(spec.id)
    for qid, row in existing.items():
        if qid not in seen and row.active and row.owner_id is None:
            row.active = False
            row.updated_at = utcnow()
            report.retired.append(qid)
    session.flush()
    reindex(session)  # the full-text index follows: changed and added rows rebuilt, retired ones dropped
    return report
