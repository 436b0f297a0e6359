"""Issue 12, "What learners answered" and "Managing a course", in the domain on SQLite and PostgreSQL:
the attempt review, item analysis by choice and common answers, assignment edit/close/delete,
per-learner overrides, shuffled attempts, removing learners, join codes and archived cohorts."""

from datetime import timedelta

import pytest

from quizapp import stats
from quizapp.assignments import (
    AssignmentError,
    create_assignment,
    learner_assignments,
    save_answer,
    start_attempt,
    submit_attempt,
    view_attempt,
)
from quizapp.attempt_report import attempt_report, common_answers, learner_attempts
from quizapp.auth import create_user
from quizapp.bank.loader import load_bank
from quizapp.bank.sync import sync_bank
from quizapp.cohorts import CohortError, create_cohort, join_cohort, my_cohorts, roster
from quizapp.course import (
    archive_cohort,
    close_assignment,
    delete_assignment,
    drawn_questions,
    overrides_of,
    remove_learner,
    rotate_join_code,
    set_join_open,
    set_override,
    update_assignment,
)
from quizapp.db import read_session, write_session
from quizapp.identity import AccessDenied, Actor
from quizapp.models import Assignment, Attempt, Question, utcnow
from tests.utils.bank import SAMPLE

PW = "a long enough password"
QUESTIONS = ["s-single", "s-multi", "s-tf", "s-num", "s-short"]


def _w(engine, fn, **kw):
    with write_session(engine) as s:
        return fn(session=s, **kw)


def _r(engine, fn, **kw):
    with read_session(engine) as s:
        return fn(session=s, **kw)


@pytest.fixture
def world(engine, write_bank):
    with write_session(engine) as s:
        sync_bank(session=s, loaded=load_bank(write_bank({"s.yaml": SAMPLE})).questions)
        people = {
            n: create_user(session=s, username=n, role=r, password=PW)
            for n, r in [("teach", "instructor"), ("other", "instructor")]
            + [(f"ln{i}", "learner") for i in range(3)]
        }
        who = {n: Actor(user_id=u.id, role=u.role) for n, u in people.items()}
    cohort = _w(engine, create_cohort, actor=who["teach"], name="Course")
    for i in range(3):
        _w(engine, join_cohort, actor=who[f"ln{i}"], code=cohort.join_code)
    return engine, who, cohort.id


def _assignment(engine, who, cohort_id, **kw):
    kw.setdefault("question_ids", QUESTIONS)
    a = _w(
        engine,
        create_assignment,
        actor=who["teach"],
        cohort_id=cohort_id,
        title=kw.pop("title", "Week 1"),
        **kw,
    )
    return a.id


def _take(engine, who, name, a_id, answers, now=None):
    now = now or utcnow()
    t = _w(engine, start_attempt, actor=who[name], assignment_id=a_id, now=now)
    for qid, ans in answers.items():
        _w(
            engine,
            save_answer,
            actor=who[name],
            attempt_id=t,
            question_id=qid,
            answer=ans,
            time_taken_ms=4000,
            now=now,
        )
    _w(engine, submit_attempt, actor=who[name], attempt_id=t, now=now + timedelta(seconds=30))
    return t


# --- what learners answered ------------------------------------------------------------------------


def test_attempt_review_shows_every_question_answer_key_score_and_time(world):
    engine, who, cohort_id = world
    a_id = _assignment(engine, who, cohort_id)
    t = _take(engine, who, "ln0", a_id, {"s-single": "Batch norm", "s-num": "30"})
    rep = _r(engine, attempt_report, actor=who["teach"], attempt_id=t)
    assert [line.question.id for line in rep.lines] == QUESTIONS
    by = {line.question.id: line for line in rep.lines}
    assert by["s-single"].answer == "Batch norm" and by["s-single"].key == "Max pooling"
    assert by["s-single"].score == 0 and not by["s-single"].correct
    assert by["s-num"].score == 1 and by["s-num"].time_taken_ms == 4000
    assert by["s-tf"].answer is None and by["s-tf"].score == 0 and by["s-tf"].key == "True"
    assert rep.username == "ln0" and rep.number == 1 and rep.state == "finished"
    assert rep.score == pytest.approx(1 / 5) and rep.answered == 2 and rep.time_spent_ms == 8000
    assert "Max pooling" in by["s-single"].question.data["choices"]
    # Only the cohort's owner (or an admin) reads it: not another instructor, not the learner.
    for name in ("other", "ln0"):
        with pytest.raises(AccessDenied):
            _r(engine, attempt_report, actor=who[name], attempt_id=t)
    assert _r(
        engine, learner_attempts, actor=who["teach"], cohort_id=cohort_id, user_id=who["ln0"].user_id
    ) == [(t, "Week 1", 1, "finished")]


def test_item_analysis_shares_per_choice_and_common_answers(world):
    engine, who, cohort_id = world
    a_id = _assignment(engine, who, cohort_id)
    _take(
        engine,
        who,
        "ln0",
        a_id,
        {"s-single": "Max pooling", "s-num": "30", "s-short": "Vanishing  gradients"},
    )
    _take(engine, who, "ln1", a_id, {"s-single": "Dropout", "s-num": "31", "s-short": "vanishing gradients"})
    _take(engine, who, "ln2", a_id, {"s-num": "30"})  # s-single left blank: counts in n, picks nothing
    items = {
        i.question_id: i for i in _r(engine, stats.item_analysis, actor=who["teach"], cohort_id=cohort_id)
    }
    single = items["s-single"]
    assert single.prompt.startswith("Which layer shrinks") and single.n == 3
    assert single.correct_choices == ("Max pooling",)
    assert single.choice_shares == pytest.approx({"Max pooling": 1 / 3, "Batch norm": 0.0, "Dropout": 1 / 3})
    assert items["s-tf"].correct_choices == ("True",)
    assert set(items["s-multi"].correct_choices) == {"Dropout", "Weight decay", "Early stopping"}
    common = _r(engine, common_answers, actor=who["teach"], cohort_id=cohort_id, assignment_id=a_id)
    assert common["s-num"] == [("30", 2, True), ("31", 1, False)]
    assert common["s-short"] == [("vanishing gradients", 2, True)]
    with pytest.raises(AccessDenied):
        _r(engine, common_answers, actor=who["other"], cohort_id=cohort_id, assignment_id=a_id)


# --- assignments -----------------------------------------------------------------------------------


def test_edit_until_the_first_attempt_then_only_dates_and_attempts(world):
    engine, who, cohort_id = world
    a_id = _assignment(engine, who, cohort_id, time_limit_s=600)
    due = utcnow().replace(microsecond=0) + timedelta(days=3, hours=5)
    _w(
        engine,
        update_assignment,
        actor=who["teach"],
        assignment_id=a_id,
        title="Week one",
        feedback="immediate",
        time_limit_s=900,
        shuffle=True,
        due_at=due,
    )
    with read_session(engine) as s:
        a = s.get(Assignment, a_id)
        assert (a.title, a.feedback, a.time_limit_s, a.shuffle) == ("Week one", "immediate", 900, True)
    _take(engine, who, "ln0", a_id, {"s-tf": True})
    with pytest.raises(AssignmentError, match="only the dates"):
        _w(engine, update_assignment, actor=who["teach"], assignment_id=a_id, time_limit_s=60)
    with pytest.raises(AssignmentError, match="only the dates"):
        _w(engine, update_assignment, actor=who["teach"], assignment_id=a_id, title="Renamed")
    # Unchanged values are not changes; dates and attempts still move.
    _w(
        engine,
        update_assignment,
        actor=who["teach"],
        assignment_id=a_id,
        title="Week one",
        attempts_allowed=3,
        due_at=due + timedelta(days=1),
    )
    with pytest.raises(AccessDenied):
        _w(engine, update_assignment, actor=who["other"], assignment_id=a_id, attempts_allowed=5)
    with pytest.raises(AssignmentError, match="close the assignment"):
        _w(engine, delete_assignment, actor=who["teach"], assignment_id=a_id)


def test_close_now_submits_running_attempts_and_refuses_new_ones(world):
    engine, who, cohort_id = world
    a_id = _assignment(engine, who, cohort_id, attempts_allowed=2)
    t = _w(engine, start_attempt, actor=who["ln0"], assignment_id=a_id)
    assert _w(engine, close_assignment, actor=who["teach"], assignment_id=a_id) == 1
    with read_session(engine) as s:
        assert s.get(Attempt, t).state == "finished"
    with pytest.raises(AssignmentError, match="was due"):
        _w(engine, start_attempt, actor=who["ln1"], assignment_id=a_id)


def test_delete_without_attempts_and_drawn_questions(world):
    engine, who, cohort_id = world
    a_id = _assignment(engine, who, cohort_id, question_ids=None, count=3, seed=7)
    drawn = _r(engine, drawn_questions, actor=who["teach"], assignment_id=a_id)
    assert len(drawn) == 3 and all(q.type != "open" for q in drawn)
    _w(engine, delete_assignment, actor=who["teach"], assignment_id=a_id)
    with read_session(engine) as s:
        assert s.get(Assignment, a_id) is None
    assert _r(engine, stats.gradebook, actor=who["teach"], cohort_id=cohort_id).assignments == []


# --- overrides -------------------------------------------------------------------------------------


def test_override_gives_one_learner_extra_attempts_a_later_due_date_and_more_time(world):
    engine, who, cohort_id = world
    now = utcnow()
    a_id = _assignment(
        engine, who, cohort_id, attempts_allowed=1, time_limit_s=300, due_at=now + timedelta(hours=1)
    )
    _take(engine, who, "ln0", a_id, {"s-tf": True}, now=now)
    with pytest.raises(AssignmentError, match="attempt"):
        _w(engine, start_attempt, actor=who["ln0"], assignment_id=a_id, now=now)
    _w(
        engine,
        set_override,
        actor=who["teach"],
        assignment_id=a_id,
        user_id=who["ln0"].user_id,
        extra_attempts=1,
        due_at=now + timedelta(days=2),
        time_limit_s=1200,
    )
    later = now + timedelta(hours=3)  # past everyone else's due date
    status = _r(engine, learner_assignments, actor=who["ln0"], now=later)
    assert status[0].can_start and status[0].attempts_left == 1
    t = _w(engine, start_attempt, actor=who["ln0"], assignment_id=a_id, now=later)
    with read_session(engine) as s:
        deadline = s.get(Attempt, t).deadline_at
    assert abs((deadline.replace(tzinfo=None) - later.replace(tzinfo=None)).total_seconds() - 1200) < 1
    with pytest.raises(AssignmentError, match="was due"):
        _w(engine, start_attempt, actor=who["ln1"], assignment_id=a_id, now=later)
    [line] = _r(engine, overrides_of, actor=who["teach"], assignment_id=a_id)
    assert (line.username, line.extra_attempts, line.time_limit_s) == ("ln0", 1, 1200)
    with pytest.raises(AssignmentError):  # only more time, never less
        _w(
            engine,
            set_override,
            actor=who["teach"],
            assignment_id=a_id,
            user_id=who["ln1"].user_id,
            time_limit_s=60,
        )
    _w(
        engine, set_override, actor=who["teach"], assignment_id=a_id, user_id=who["ln0"].user_id
    )  # all defaults: gone
    assert _r(engine, overrides_of, actor=who["teach"], assignment_id=a_id) == []


# --- shuffle ---------------------------------------------------------------------------------------


def test_shuffled_attempts_keep_their_order_on_resume_and_grade_by_choice_text(world):
    engine, who, cohort_id = world
    a_id = _assignment(engine, who, cohort_id, shuffle=True, attempts_allowed=0)
    orders = set()
    for name in ("ln0", "ln1", "ln2"):
        t = _w(engine, start_attempt, actor=who[name], assignment_id=a_id)
        first = _w(engine, view_attempt, actor=who[name], attempt_id=t)
        again = _w(engine, view_attempt, actor=who[name], attempt_id=t)
        ids = [q.id for q in first.questions]
        assert ids == [q.id for q in again.questions] and sorted(ids) == sorted(QUESTIONS)
        assert [q.data.get("choices") for q in first.questions] == [
            q.data.get("choices") for q in again.questions
        ]
        orders.add((tuple(ids), tuple(next(q for q in first.questions if q.id == "s-multi").data["choices"])))
        with read_session(engine) as s:
            layout = s.get(Attempt, t).layout
        assert layout["seed"] is not None and layout["questions"] == ids
        _w(engine, save_answer, actor=who[name], attempt_id=t, question_id="s-single", answer="Max pooling")
        _w(engine, submit_attempt, actor=who[name], attempt_id=t)
        rep = _r(engine, attempt_report, actor=who["teach"], attempt_id=t)
        assert [line.question.id for line in rep.lines] == ids and rep.shuffled
        assert next(x for x in rep.lines if x.question.id == "s-single").score == 1
    assert len(orders) > 1  # three attempts, three draws: the same order every time is most unlikely


# --- cohorts ---------------------------------------------------------------------------------------


def test_removed_learner_keeps_attempts_marked_and_loses_access(world):
    engine, who, cohort_id = world
    a_id = _assignment(engine, who, cohort_id, attempts_allowed=2)
    _take(engine, who, "ln0", a_id, {"s-tf": True})
    _w(engine, remove_learner, actor=who["teach"], cohort_id=cohort_id, user_id=who["ln0"].user_id)
    assert "ln0" not in [m.username for m in _r(engine, roster, actor=who["teach"], cohort_id=cohort_id)]
    book = _r(engine, stats.gradebook, actor=who["teach"], cohort_id=cohort_id)
    row = next(r for r in book.rows if r.username == "ln0")
    assert row.removed and row.cells[a_id].attempts == 1 and row is book.rows[-1]
    assert _r(engine, learner_assignments, actor=who["ln0"]) == []
    with pytest.raises(AccessDenied):
        _w(engine, start_attempt, actor=who["ln0"], assignment_id=a_id)
    with pytest.raises(AccessDenied):
        _w(engine, remove_learner, actor=who["other"], cohort_id=cohort_id, user_id=who["ln1"].user_id)


def test_join_code_rotate_disable_and_archive(world):
    engine, who, cohort_id = world
    with write_session(engine) as s:
        newbie = create_user(session=s, username="newbie", role="learner", password=PW)
        me = Actor(user_id=newbie.id, role="learner")
    old = _r(engine, my_cohorts, actor=who["teach"])[0].join_code
    new = _w(engine, rotate_join_code, actor=who["teach"], cohort_id=cohort_id)
    assert new != old
    with pytest.raises(CohortError):
        _w(engine, join_cohort, actor=me, code=old)
    _w(engine, set_join_open, actor=who["teach"], cohort_id=cohort_id, open_=False)
    with pytest.raises(CohortError, match="not taking"):
        _w(engine, join_cohort, actor=me, code=new)
    _w(engine, set_join_open, actor=who["teach"], cohort_id=cohort_id, open_=True)
    _w(engine, join_cohort, actor=me, code=new)
    a_id = _assignment(engine, who, cohort_id)
    _w(engine, archive_cohort, actor=who["teach"], cohort_id=cohort_id)
    assert _r(engine, my_cohorts, actor=who["teach"]) == []
    assert [c.id for c in _r(engine, my_cohorts, actor=who["teach"], archived=True)] == [cohort_id]
    with pytest.raises(AssignmentError, match="archived"):
        _w(engine, start_attempt, actor=who["ln1"], assignment_id=a_id)
    with pytest.raises(AssignmentError, match="archived"):
        _w(engine, update_assignment, actor=who["teach"], assignment_id=a_id, attempts_allowed=4)
    with pytest.raises(CohortError, match="archived"):
        _w(engine, rotate_join_code, actor=who["teach"], cohort_id=cohort_id)
    # Still readable.
    assert _r(engine, stats.gradebook, actor=who["teach"], cohort_id=cohort_id).assignments
    _w(engine, archive_cohort, actor=who["teach"], cohort_id=cohort_id, archived=False)
    assert _r(engine, my_cohorts, actor=who["teach"])


def test_the_learner_sees_their_own_override_and_feedback_waits_for_their_own_due_date(world):
    engine, who, cohort_id = world
    now = utcnow()
    due, own_due = now + timedelta(hours=1), now + timedelta(days=2)
    a_id = _assignment(engine, who, cohort_id, attempts_allowed=1, due_at=due, feedback="after_due")
    _w(
        engine,
        set_override,
        actor=who["teach"],
        assignment_id=a_id,
        user_id=who["ln0"].user_id,
        extra_attempts=2,
        due_at=own_due,
    )
    _take(engine, who, "ln0", a_id, {"s-tf": True}, now=now)
    later = now + timedelta(hours=3)  # past the assignment's due date, before ln0's own
    [mine] = _r(engine, learner_assignments, actor=who["ln0"], now=later)
    assert mine.attempts_allowed == 3 and abs((mine.due_at - own_due).total_seconds()) < 1
    assert mine.best_score is None and all(h.score is None for h in mine.history)  # ln0 may still answer
    [line] = mine.history
    assert not _r(
        engine, view_attempt, actor=who["ln0"], attempt_id=line.attempt_id, now=later
    ).feedback_visible
    after = own_due + timedelta(minutes=1)
    assert _r(engine, view_attempt, actor=who["ln0"], attempt_id=line.attempt_id, now=after).feedback_visible


def test_drawn_questions_keep_a_question_retired_after_the_draw(world):
    engine, who, cohort_id = world
    a_id = _assignment(engine, who, cohort_id)
    with write_session(engine) as s:
        s.get(Question, "s-tf").active = False
    drawn = _r(engine, drawn_questions, actor=who["teach"], assignment_id=a_id)
    assert [q.id for q in drawn] == QUESTIONS
