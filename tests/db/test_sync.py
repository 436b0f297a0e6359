from sqlmodel import Session, select

from quizapp.bank.loader import load_bank
from quizapp.bank.sync import sync_bank
from quizapp.db import write_session
from quizapp.models import Question, QuestionVersion
from quizapp.questions import counts_by_topic, get_question, list_questions, search_faq
from tests.utils.bank import SAMPLE


def _sync(engine, folder):
    report = load_bank(folder)
    assert report.ok, report.errors
    with write_session(engine) as session:
        return sync_bank(session=session, loaded=report.questions)


def test_first_sync_adds_and_second_changes_nothing(engine, write_bank):
    folder = write_bank({"s.yaml": SAMPLE})
    first = _sync(engine, folder)
    assert len(first.added) == 7 and not first.changed
    second = _sync(engine, folder)
    assert second.added == [] and second.changed == [] and second.unchanged == 7


def test_changed_question_becomes_new_version_and_old_version_kept(engine, write_bank):
    _sync(engine, write_bank({"s.yaml": SAMPLE}))
    with Session(engine) as s:
        v1 = get_question(session=s, question_id="s-num")
    report = _sync(
        engine, write_bank({"s.yaml": SAMPLE.replace("(32 - 3) / 1 + 1 = 30.", "32 - 3 + 1 = 30.")})
    )
    assert report.changed == ["s-num"]
    with Session(engine) as s:
        v2 = get_question(session=s, question_id="s-num")
        versions = s.exec(select(QuestionVersion).where(QuestionVersion.question_id == "s-num")).all()
    assert (v1.version, v2.version) == (1, 2) and v1.version_id != v2.version_id
    assert sorted(v.version for v in versions) == [1, 2]
    assert "32 - 3 + 1" in v2.explanation


def test_removed_question_is_retired_not_deleted_and_comes_back(engine, write_bank):
    _sync(engine, write_bank({"s.yaml": SAMPLE}))
    without = SAMPLE.split("- id: s-faq")[0]
    report = _sync(engine, write_bank({"s.yaml": without}))
    assert report.retired == ["s-faq"]
    with Session(engine) as s:
        row = s.get(Question, "s-faq")
        assert row is not None and row.active is False
        assert "s-faq" not in [v.id for v in list_questions(session=s)]
    back = _sync(engine, write_bank({"s.yaml": SAMPLE}))
    assert back.restored == ["s-faq"] and back.changed == []


def test_queries_filter_and_count(engine, write_bank):
    _sync(engine, write_bank({"s.yaml": SAMPLE}))
    with Session(engine) as s:
        assert [v.id for v in list_questions(session=s, topics=["cnn"])] == ["s-num", "s-single"]
        assert [v.id for v in list_questions(session=s, types=["short"])] == ["s-short"]
        assert [v.id for v in search_faq(session=s, text="phd")] == ["s-faq"]
        assert search_faq(session=s, text="phd transformers") == []
        counts = {r["topic"]: r for r in counts_by_topic(session=s)}
        assert counts["regularization"]["quiz"] == 1 and counts["regularization"]["interview"] == 1
