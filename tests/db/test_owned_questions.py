"""Instructor-owned questions (issue 13): migration, namespaced ids, versions, visibility, publishing,
assignments, sync and all-or-nothing imports, on SQLite and PostgreSQL."""

from datetime import timedelta

import pytest
from alembic import command
from fsrs import Rating
from sqlalchemy import text
from sqlmodel import select

from quizapp import owned_questions as oq
from quizapp import review, sittings
from quizapp.assignments import AssignmentError, create_assignment, start_or_resume, view_attempt
from quizapp.auth import create_user
from quizapp.bank.loader import load_bank
from quizapp.bank.sync import sync_bank
from quizapp.cohorts import create_cohort, join_cohort
from quizapp.db import make_engine, read_session, write_session
from quizapp.identity import AccessDenied, Actor
from quizapp.interview.mock import candidates
from quizapp.migrate import alembic_config
from quizapp.models import Question, QuestionVersion
from quizapp.questions import counts_by_topic, list_questions, pick_ids, search_faq
from quizapp.search import search
from tests.utils.bank import SAMPLE

PW = "a long enough password"

MINE = {
    "kind": "quiz",
    "type": "single",
    "topic": "cnn",
    "difficulty": 1,
    "title": "Zebrafish pooling",
    "prompt": "Which zebrafish layer keeps the largest value in each window?",
    "choices": ["Max pooling", "Average pooling"],
    "answer": "Max pooling",
    "explanation": "Max pooling keeps the zebrafish maximum; average pooling keeps the mean.",
    "tags": ["pooling"],
}


@pytest.fixture
def world(engine, write_bank):
    with write_session(engine) as s:
        sync_bank(session=s, loaded=load_bank(write_bank({"s.yaml": SAMPLE})).questions)
        people = {
            name: create_user(session=s, username=name, role=role, password=PW)
            for name, role in [
                ("teach", "instructor"),
                ("other", "instructor"),
                ("root", "admin"),
                ("ann", "learner"),
            ]
        }
        actors = {n: Actor(user_id=u.id, role=u.role) for n, u in people.items()}
    return engine, actors


def _w(engine, fn, **kw):
    with write_session(engine) as s:
        return fn(session=s, **kw)


def _r(engine, fn, **kw):
    with read_session(engine) as s:
        return fn(session=s, **kw)


def _ids(views):
    return {v.id for v in views}


def test_migration_0009_keeps_questions_public(db_url):
    cfg = alembic_config(db_url)
    command.downgrade(cfg, "0008")
    engine = make_engine(db_url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO question (id, kind, type, topic, difficulty, source, current_version, active, updated_at) "
                "VALUES ('old-q', 'quiz', 'truefalse', 'cnn', 1, 'x.yaml', 1, true, CURRENT_TIMESTAMP)"
            )
        )
    command.upgrade(cfg, "head")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT owner_id, published FROM question")).one() == (None, False)
    command.downgrade(cfg, "0008")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT id FROM question")).scalar_one() == "old-q"
    command.upgrade(cfg, "head")
    engine.dispose()


def test_authored_question_is_namespaced_versioned_and_private_until_published(world):
    engine, a = world
    view = _w(engine, oq.save_question, actor=a["teach"], data=MINE)
    qid = view.id
    assert qid == f"u{a['teach'].user_id}-zebrafish-pooling"
    assert view.data["title"] == "Zebrafish pooling"

    # Not in any public list, search, deck or draw; in the owner's picker only.
    assert qid not in _ids(_r(engine, list_questions))
    assert qid in _ids(_r(engine, list_questions, viewer_id=a["teach"].user_id))
    assert qid not in _ids(_r(engine, list_questions, viewer_id=a["other"].user_id))
    assert qid not in _r(engine, pick_ids, kinds=["quiz"], topics=None, difficulties=None, types=None, seed=1)
    assert not _r(engine, search, text="zebrafish")
    assert qid not in _ids(_r(engine, candidates))
    assert sum(r["quiz"] for r in _r(engine, counts_by_topic)) == len(
        _r(engine, list_questions, kinds=["quiz"])
    )
    deck = _r(engine, review.due, actor=a["ann"])
    assert qid not in deck.due

    # Publishing: only the owner or an admin.
    with pytest.raises(AccessDenied):
        _w(engine, oq.set_published, actor=a["other"], question_id=qid, published=True)
    with pytest.raises(AccessDenied):
        _w(engine, oq.set_published, actor=a["ann"], question_id=qid, published=True)
    _w(engine, oq.set_published, actor=a["teach"], question_id=qid, published=True)
    assert qid in _ids(_r(engine, list_questions))
    assert [h.question.id for h in _r(engine, search, text="zebrafish")] == [qid]
    _w(engine, oq.set_published, actor=a["root"], question_id=qid, published=False)
    assert qid not in _ids(_r(engine, list_questions))
    assert not _r(engine, search, text="zebrafish")

    # Editing makes a new version; an unchanged save does not; another instructor may not edit.
    edited = dict(MINE, explanation="Max pooling keeps the largest value of each window.")
    again = _w(engine, oq.save_question, actor=a["teach"], data=edited, question_id=qid)
    assert again.version == 2
    assert _w(engine, oq.save_question, actor=a["teach"], data=edited, question_id=qid).version == 2
    with pytest.raises(AccessDenied):
        _w(engine, oq.save_question, actor=a["other"], data=edited, question_id=qid)
    with pytest.raises(oq.SpecError, match="is taken"):
        _w(engine, oq.save_question, actor=a["teach"], data=MINE)

    # Retire and restore.
    _w(engine, oq.set_active, actor=a["teach"], question_id=qid, active=False)
    assert qid not in _ids(_r(engine, list_questions, viewer_id=a["teach"].user_id))
    mine = _r(engine, oq.my_questions, actor=a["teach"])
    assert [(m.view.id, m.active, m.published) for m in mine] == [(qid, False, False)]
    assert _r(engine, oq.my_questions, actor=a["other"]) == []
    assert [m.owner for m in _r(engine, oq.my_questions, actor=a["root"], everyone=True)] == ["teach"]


def test_schema_errors_are_per_field(world):
    engine, a = world
    bad = dict(MINE, answer="Min pooling", difficulty=7, topic="nope")
    with pytest.raises(oq.SpecError) as err:
        _w(engine, oq.save_question, actor=a["teach"], data=bad)
    assert set(err.value.fields) >= {"difficulty", "topic"}
    with pytest.raises(oq.SpecError) as err:
        _w(engine, oq.save_question, actor=a["teach"], data=dict(MINE, answer="Min pooling"))
    assert "answer" in err.value.fields and "exact text of one choice" in err.value.fields["answer"]
    with pytest.raises(AccessDenied):
        _w(engine, oq.save_question, actor=a["ann"], data=MINE)
    with read_session(engine) as s:
        assert s.exec(select(Question).where(Question.owner_id.is_not(None))).all() == []


def test_owner_assigns_private_question_and_learner_sees_it_only_there(world):
    engine, a = world
    qid = _w(engine, oq.save_question, actor=a["teach"], data=MINE).id
    cohort = _w(engine, create_cohort, actor=a["teach"], name="Spring")
    _w(engine, join_cohort, actor=a["ann"], code=cohort.join_code)
    with pytest.raises(AssignmentError, match=f"not active questions: {qid}"):
        theirs = _w(engine, create_cohort, actor=a["other"], name="Autumn")
        _w(
            engine,
            create_assignment,
            actor=a["other"],
            cohort_id=theirs.id,
            title="Sneaky",
            question_ids=[qid],
        )
    made = _w(
        engine,
        create_assignment,
        actor=a["teach"],
        cohort_id=cohort.id,
        title="Mine",
        question_ids=[qid, "s-tf"],
    )
    attempt = _w(engine, start_or_resume, actor=a["ann"], assignment_id=made.id)
    shown = _w(engine, view_attempt, actor=a["ann"], attempt_id=attempt)
    assert [q.id for q in shown.questions] == [qid, "s-tf"]
    # Answered in an assignment, it still stays out of the learner's review deck and mistakes.
    _w(engine, review.record, actor=a["ann"], question_id=qid, rating=Rating.Again, source="cli")
    later = review.clock() + timedelta(days=2)
    assert qid not in _r(engine, review.due, actor=a["ann"], now=later).due
    _w(engine, sittings.set_bookmark, actor=a["ann"], question_id=qid, on=True)
    assert qid not in _r(engine, sittings.bookmarked, actor=a["ann"])
    assert qid not in _ids(_r(engine, search_faq))


def test_sync_never_retires_or_overwrites_owned_questions(world, write_bank):
    engine, a = world
    qid = _w(engine, oq.save_question, actor=a["teach"], data=MINE).id
    clash = (
        SAMPLE
        + f"""\
- id: {qid}
  kind: quiz
  type: truefalse
  topic: cnn
  difficulty: 1
  prompt: A file question that wants an instructor's id.
  answer: true
  explanation: It is left out.
"""
    )
    with write_session(engine) as s:
        report = sync_bank(session=s, loaded=load_bank(write_bank({"s.yaml": clash})).questions)
    assert report.conflicts == [qid] and qid not in report.retired and "left out" in report.summary()
    with write_session(engine) as s:
        report = sync_bank(session=s, loaded=[])
        assert qid not in report.retired
        row = s.get(Question, qid)
        assert row.active and row.type == "single" and row.owner_id == a["teach"].user_id


def test_import_is_all_or_nothing_and_reimport_versions(world):
    engine, a = world
    good = [dict(MINE, id="[ignored] zebra one"), dict(MINE, title="Zebra two", id="u99-zebra-two")]
    bad = good + [dict(MINE, title="Broken", answer="Nope", line=12)]
    report = _w(engine, oq.import_questions, actor=a["teach"], questions=bad, source="x.gift")
    assert report.imported == 0
    assert (
        report.refused == [{"question": "Broken", "line": 12, "reason": report.refused[0]["reason"]}]
        and "answer" in report.refused[0]["reason"]
    )
    with read_session(engine) as s:
        assert s.exec(select(Question).where(Question.owner_id.is_not(None))).all() == []

    parser_refused = [{"question": "q9", "line": 40, "reason": "fraction 42% is not a Moodle grade"}]
    report = _w(engine, oq.import_questions, actor=a["teach"], questions=good, refused=parser_refused)
    assert report.imported == 0 and report.refused == parser_refused

    dry = _w(engine, oq.import_questions, actor=a["teach"], questions=good, dry_run=True)
    assert dry.imported == 2 and dry.dry_run
    with read_session(engine) as s:
        assert s.exec(select(Question).where(Question.owner_id.is_not(None))).all() == []

    uid = a["teach"].user_id
    report = _w(engine, oq.import_questions, actor=a["teach"], questions=good)
    assert [(q["id"], q["status"]) for q in report.questions] == [
        (f"u{uid}-ignored-zebra-one", "added"),
        (f"u{uid}-zebra-two", "added"),
    ]
    changed = [good[0], dict(good[1], explanation="A new explanation for the second zebra.")]
    report = _w(engine, oq.import_questions, actor=a["teach"], questions=changed)
    assert [q["status"] for q in report.questions] == ["unchanged", "changed"]
    with read_session(engine) as s:
        versions = s.exec(
            select(QuestionVersion.version).where(QuestionVersion.question_id == f"u{uid}-zebra-two")
        ).all()
    assert sorted(versions) == [1, 2]
    # The same file imported by another instructor makes their own copies.
    report = _w(engine, oq.import_questions, actor=a["other"], questions=good)
    assert all(q["id"].startswith(f"u{a['other'].user_id}-") for q in report.questions)
    exported = _r(engine, oq.export_questions, owner_id=uid)
    assert [d["id"] for d in exported] == [f"u{uid}-ignored-zebra-one", f"u{uid}-zebra-two"]
    assert {d["id"] for d in _r(engine, oq.export_questions, owner_id=None)} == _ids(
        _r(engine, list_questions)
    )
