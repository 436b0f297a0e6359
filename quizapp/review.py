"""Spaced review on FSRS (the `fsrs` package): a card per learner and question, updated by every graded
answer, an append-only review log, due queues with daily limits, forecasts and memory statistics.

Every function takes the acting identity and reads or writes only that learner's rows. Times are UTC
and come from the server (`now` is injectable, so tests travel in time instead of sleeping); a clock
that goes backwards never moves a card before its last review.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from time import monotonic as _monotonic
from typing import Any
from zoneinfo import ZoneInfo

from fsrs import Card, Rating, Scheduler, State
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from quizapp.bank.schema import TOPICS
from quizapp.identity import Actor
from quizapp.models import (
    Assignment,
    Attempt,
    LearnerSettings,
    Question,
    ReviewCard,
    ReviewLog,
    utcnow,
)
from quizapp.models import Response as ResponseRow
from quizapp.questions import visible_to

RATINGS: dict[str, Rating] = {
    "again": Rating.Again,
    "hard": Rating.Hard,
    "good": Rating.Good,
    "easy": Rating.Easy,
}
RATING_NAMES = {int(r): name for name, r in RATINGS.items()}
# Which questions make up a learner's review deck when new cards are introduced.
DECK_KINDS = ("quiz", "interview")

BOUNDS = {
    "new_per_day": (0, 500),
    "reviews_per_day": (0, 5000),
    "desired_retention": (0.70, 0.97),
}
DEFAULTS = {"new_per_day": 20, "reviews_per_day": 200, "desired_retention": 0.90}


def clock() -> datetime:
    """The server's clock for every review decision; tests replace it to travel in time."""
    return utcnow()


class SettingsError(ValueError):
    """A review setting out of its bounds; the message names the setting and the bounds."""


class ReviewError(LookupError):
    """An unknown question, or a rating change that is no longer possible."""


# Identity and settings ---------------------------------------------------------------------------


def owned_by(model: Any, actor: Actor) -> Any:
    """The filter for a learner's rows of a table owned by a user XOR an anonymous key."""
    if actor.user_id is not None:
        return model.user_id == actor.user_id
    return col(model.user_id).is_(None) & (model.anon_key == actor.anon_key)


def _owner(actor: Actor) -> dict[str, Any]:
    return {"user_id": actor.user_id, "anon_key": None if actor.user_id is not None else actor.anon_key}


@dataclass(frozen=True)
class Settings:
    new_per_day: int = DEFAULTS["new_per_day"]
    reviews_per_day: int = DEFAULTS["reviews_per_day"]
    desired_retention: float = DEFAULTS["desired_retention"]


def get_settings(*, session: Session, actor: Actor) -> Settings:
    row = session.exec(select(LearnerSettings).where(owned_by(LearnerSettings, actor))).first()
    if row is None:
        return Settings()
    return Settings(row.new_per_day, row.reviews_per_day, row.desired_retention)


def check_settings(**values: Any) -> dict[str, Any]:
    """The values, typed, or SettingsError naming the first one out of bounds."""
    out: dict[str, Any] = {}
    for name, value in values.items():
        if name not in BOUNDS:
            raise SettingsError(f"unknown setting {name!r}")
        lo, hi = BOUNDS[name]
        kind = float if name == "desired_retention" else int
        try:
            typed = kind(value)
        except (TypeError, ValueError):
            raise SettingsError(f"{name.replace('_', ' ')} must be a number from {lo} to {hi}") from None
        if isinstance(value, bool) or typed != typed or not lo <= typed <= hi:  # NaN fails typed != typed
            raise SettingsError(f"{name.replace('_', ' ')} must be from {lo} to {hi}; got {value!r}")
        if kind is int and float(value) != typed:
            raise SettingsError(f"{name.replace('_', ' ')} must be a whole number from {lo} to {hi}")
        out[name] = typed
    return out


def save_settings(*, session: Session, actor: Actor, **values: Any) -> Settings:
    checked = check_settings(**values)
    row = session.exec(select(LearnerSettings).where(owned_by(LearnerSettings, actor))).first()
    if row is None:
        row = LearnerSettings(**_owner(actor))
    for name, value in checked.items():
        setattr(row, name, value)
    row.updated_at = utcnow()
    session.add(row)
    session.flush()
    return Settings(row.new_per_day, row.reviews_per_day, row.desired_retention)


@lru_cache(maxsize=64)
def scheduler(desired_retention: float = DEFAULTS["desired_retention"]) -> Scheduler:
    # No fuzzing: the interval a rating button shows is the interval that rating gives.
    return Scheduler(desired_retention=desired_retention, enable_fuzzing=False)


# Cards ------------------------------------------------------------------------------------------


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def to_fsrs(row: ReviewCard) -> Card:
    return Card(
        card_id=row.id,
        state=State(row.state),
        step=row.step,
        stability=row.stability,
        difficulty=row.difficulty,
        due=_utc(row.due),
        last_review=_utc(row.last_review),
    )


def _store(row: ReviewCard, card: Card) -> None:
    row.state, row.step = int(card.state), card.step
    row.stability, row.difficulty = card.stability, card.difficulty
    row.due, row.last_review = card.due, card.last_review


def rating_for_score(score: float) -> Rating:
    """How a graded answer rates a card: nothing right -> Again, partly right -> Hard, fully right -> Good."""
    if score <= 1e-9:
        return Rating.Again
    if score < 0.999:
        return Rating.Hard
    return Rating.Good


@dataclass(frozen=True)
class Outcome:
    question_id: str
    rating: str
    due: datetime
    interval_days: float
    retrievability: float
    log_id: int
    response_id: int | None


def _outcome(log: ReviewLog, card: ReviewCard, sched: Scheduler, now: datetime) -> Outcome:
    due = _utc(log.due_after)
    assert due is not None and log.id is not None
    reviewed = _utc(log.reviewed_at) or now
    return Outcome(
        question_id=log.question_id,
        rating=RATING_NAMES[log.rating],
        due=due,
        interval_days=(due - reviewed).total_seconds() / 86400,
        retrievability=float(sched.get_card_retrievability(to_fsrs(card), max(now, reviewed))),
        log_id=log.id,
        response_id=log.response_id,
    )


def _card_for(session: Session, actor: Actor, question_id: str, now: datetime) -> ReviewCard:
    """The learner's card for a question, locked for the update (PostgreSQL); made if missing."""
    stmt = select(ReviewCard).where(owned_by(ReviewCard, actor), ReviewCard.question_id == question_id)
    row = session.exec(stmt.with_for_update()).first()
    if row is not None:
        return row
    row = ReviewCard(**_owner(actor), question_id=question_id, due=now)
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        # Another request made this card between our look and our insert.
        found = session.exec(stmt.with_for_update()).first()
        if found is None:
            raise
        return found
    return row


def record(
    *,
    session: Session,
    actor: Actor,
    question_id: str,
    rating: Rating,
    source: str,
    response_id: int | None = None,
    score: float | None = None,
    now: datetime | None = None,
    duration_ms: int | None = None,
) -> Outcome:
    """Review the learner's card for a question with a rating and log it. With a response id, a second
    call for the same response changes nothing and returns the first outcome."""
    now = _utc(now) or clock()
    sched = scheduler(get_settings(session=session, actor=actor).desired_retention)
    if session.get(Question, question_id) is None:
        raise ReviewError(f"no question {question_id!r}")
    # The card's lock (PostgreSQL; SQLite's write lock) serialises reviews of one card, so the check
    # for an earlier review of the same response below cannot race.
    row = _card_for(session, actor, question_id, now)
    if response_id is not None:
        prior = session.exec(select(ReviewLog).where(ReviewLog.response_id == response_id)).first()
        if prior is not None:
            return _outcome(prior, row, sched, now)
    first = row.reps == 0
    before = to_fsrs(row)
    at = max(now, _utc(row.last_review) or now)  # the server's clock, never before the last review
    card, _ = sched.review_card(before, rating, review_datetime=at)
    _store(row, card)
    row.reps += 1
    row.lapses += int(rating == Rating.Again and not first)
    session.add(row)
    log = ReviewLog(
        card_id=row.id,
        **_owner(actor),
        question_id=question_id,
        response_id=response_id,
        source=source,
        rating=int(rating),
        score=score,
        first=first,
        state_before=None if first else int(before.state),
        before=before.to_dict(),
        due_after=card.due,
        stability_after=card.stability,
        reviewed_at=at,
        duration_ms=duration_ms,
    )
    session.add(log)
    session.flush()
    return _outcome(log, row, sched, now)


def record_graded(
    *,
    session: Session,
    actor: Actor,
    question_id: str,
    score: float,
    response_id: int,
    source: str,
    now: datetime | None = None,
    duration_ms: int | None = None,
) -> Outcome:
    """A graded answer updates the learner's card: its score picks the rating (rating_for_score)."""
    return record(
        session=session,
        actor=actor,
        question_id=question_id,
        rating=rating_for_score(score),
        source=source,
        response_id=response_id,
        score=score,
        now=now,
        duration_ms=duration_ms,
    )


def rerate(
    *, session: Session, actor: Actor, response_id: int, rating: Rating, now: datetime | None = None
) -> Outcome:
    """Change the rating of the answer just given (Easy for a full answer, or any of the four on the
    Review page). Recomputed from the log's own snapshot of the card before that review, so the card
    is updated once whatever the number of clicks; refused once the card has been reviewed again."""
    now = _utc(now) or clock()
    log = session.exec(
        select(ReviewLog)
        .where(ReviewLog.response_id == response_id, owned_by(ReviewLog, actor))
        .with_for_update()
    ).first()
    if log is None:
        raise ReviewError(f"no review of answer {response_id}")
    row = session.exec(select(ReviewCard).where(ReviewCard.id == log.card_id).with_for_update()).one()
    sched = scheduler(get_settings(session=session, actor=actor).desired_retention)
    if log.rating == int(rating):
        return _outcome(log, row, sched, now)
    latest = session.exec(select(func.max(ReviewLog.id)).where(ReviewLog.card_id == row.id)).one()
    if latest != log.id or log.before is None:
        raise ReviewError("this card has been reviewed again since; the rating can no longer change")
    before = Card.from_dict(log.before)  # type: ignore[arg-type]
    card, _ = sched.review_card(before, rating, review_datetime=_utc(log.reviewed_at))
    was_lapse = log.rating == int(Rating.Again) and not log.first
    is_lapse = rating == Rating.Again and not log.first
    row.lapses += int(is_lapse) - int(was_lapse)
    _store(row, card)
    log.rating, log.due_after, log.stability_after = int(rating), card.due, card.stability
    session.add(row)
    session.add(log)
    session.flush()
    return _outcome(log, row, sched, now)


def previews(*, session: Session, actor: Actor, response_id: int) -> dict[str, timedelta]:
    """For the answer just given: the interval each of the four ratings gives, from the card as it was
    before that answer."""
    log = session.exec(
        select(ReviewLog).where(ReviewLog.response_id == response_id, owned_by(ReviewLog, actor))
    ).first()
    if log is None or log.before is None:
        return {}
    sched = scheduler(get_settings(session=session, actor=actor).desired_retention)
    before = Card.from_dict(log.before)  # type: ignore[arg-type]
    at = _utc(log.reviewed_at)
    assert at is not None
    return {name: sched.review_card(before, r, review_datetime=at)[0].due - at for name, r in RATINGS.items()}


def rating_of(*, session: Session, actor: Actor, response_id: int) -> str | None:
    log = session.exec(
        select(ReviewLog.rating).where(ReviewLog.response_id == response_id, owned_by(ReviewLog, actor))
    ).first()
    return RATING_NAMES.get(log) if log is not None else None


def apply_attempt(*, session: Session, attempt: Attempt) -> int:
    """Feed a finished assignment attempt's answers to its learner's cards, each at the time it was
    given; once per attempt. Returns how many answers it applied."""
    if attempt.cards_applied or attempt.user_id is None:
        return 0
    actor = Actor(user_id=attempt.user_id)
    rows = session.exec(
        select(ResponseRow)
        .where(ResponseRow.attempt_id == attempt.id)
        .order_by(col(ResponseRow.answered_at), col(ResponseRow.id))
    ).all()
    for r in rows:
        assert r.id is not None
        record_graded(
            session=session,
            actor=actor,
            question_id=r.question_id,
            score=r.score,
            response_id=r.id,
            source="assignment",
            now=_utc(r.answered_at),
            duration_ms=r.time_taken_ms,
        )
    attempt.cards_applied = True
    session.add(attempt)
    return len(rows)


def _releasable(session: Session, actor: Actor, now: datetime) -> list[tuple[Attempt, Assignment]]:
    """The learner's finished assignment attempts not yet in their cards whose feedback shows now."""
    if actor.user_id is None:
        return []
    waiting = session.exec(
        select(Attempt, Assignment)
        .join(Assignment, col(Assignment.id) == Attempt.assignment_id)
        .where(
            Attempt.user_id == actor.user_id,
            Attempt.state == "finished",
            Attempt.cards_applied == False,  # noqa: E712
        )
    ).all()
    return [
        (attempt, assignment)
        for attempt, assignment in waiting
        if not (
            assignment.feedback == "after_due"
            and ((due := _own_due(session, assignment, attempt)) is None or due > now)
        )
    ]


def assignments_to_release(*, session: Session, actor: Actor, now: datetime | None = None) -> bool:
    """Whether release_assignments has work: a read, so a page writes only when it must."""
    return bool(_releasable(session, actor, _utc(now) or clock()))


def release_assignments(*, session: Session, actor: Actor, now: datetime | None = None) -> int:
    """Apply the learner's finished assignment attempts whose feedback has become visible (those with
    feedback after the due date wait until then, so the schedule gives no result away)."""
    done = 0
    for attempt, _assignment in _releasable(session, actor, _utc(now) or clock()):
        done += apply_attempt(session=session, attempt=attempt)
    return done


def _own_due(session: Session, assignment: Assignment, attempt: Attempt) -> datetime | None:
    """The learner's own due date: the assignment's, or later with an instructor's override."""
    from quizapp.attempt_rules import rules_for

    return _utc(rules_for(session, assignment, attempt.user_id).due_at)


def assignment_finished(session: Session, attempt: Attempt, now: datetime) -> None:
    """Called as an assignment attempt finishes: its answers update the cards now, unless its
    feedback waits for the due date."""
    assignment = session.get(Assignment, attempt.assignment_id) if attempt.assignment_id else None
    if assignment is None:
        return
    due = _own_due(session, assignment, attempt)
    if assignment.feedback == "after_due" and (due is None or due > now):
        return
    apply_attempt(session=session, attempt=attempt)


# Queues and counts -------------------------------------------------------------------------------


def _local_day(session: Session, column: Any, now: datetime, tz: str | None) -> Any:
    """SQL for the learner's calendar day of a stored UTC time. PostgreSQL applies the zone's rules
    to each time; SQLite shifts by the zone's offset now (a day's edge may move by an hour across a
    daylight-saving change)."""
    zone = _zone(tz)
    if session.get_bind().dialect.name == "postgresql":
        name = zone.key if isinstance(zone, ZoneInfo) else "UTC"
        return func.date(func.timezone(name, column))
    offset = now.astimezone(zone).utcoffset() or timedelta(0)
    return func.date(column, f"{int(offset.total_seconds() // 60):+d} minutes")


def day_start(now: datetime, tz: str | None = None) -> datetime:
    """The start (UTC) of the learner's day containing `now`, in their time zone (UTC if unknown)."""
    zone = _zone(tz)
    local = now.astimezone(zone)
    return datetime.combine(local.date(), time(0), tzinfo=zone).astimezone(UTC)


def _zone(tz: str | None) -> ZoneInfo | Any:
    if tz:
        try:
            return ZoneInfo(tz)
        except (KeyError, ValueError, OSError):
            pass
    return UTC


@dataclass(frozen=True)
class Due:
    new: int
    learning: int
    review: int
    due: list[str]  # question ids in the order to review them: learning, then review, then new

    @property
    def total(self) -> int:
        return self.new + self.learning + self.review


def _today_counts(session: Session, actor: Actor, since: datetime) -> tuple[int, int]:
    """(new cards introduced, reviews of seen cards) since the start of the learner's day."""
    rows = session.exec(
        select(ReviewLog.first, func.count())
        .where(owned_by(ReviewLog, actor), ReviewLog.reviewed_at >= since)
        .group_by(ReviewLog.first)
    ).all()
    counts = {bool(first): int(n) for first, n in rows}
    return counts.get(True, 0), counts.get(False, 0)


def due(
    *,
    session: Session,
    actor: Actor,
    now: datetime | None = None,
    tz: str | None = None,
    with_ids: bool = True,
) -> Due:
    """What to review now, like Anki's deck overview: cards in (re)learning that are due, review cards
    due (up to the daily review limit left), and new questions (up to the daily new limit left)."""
    now = _utc(now) or clock()
    settings = get_settings(session=session, actor=actor)
    new_done, reviews_done = _today_counts(session, actor, day_start(now, tz))
    review_left = max(0, settings.reviews_per_day - reviews_done)
    due_now = (owned_by(ReviewCard, actor), ReviewCard.due <= now, Question.active == True, visible_to())  # noqa: E712
    if with_ids:
        rows = session.exec(
            select(ReviewCard.question_id, ReviewCard.state)
            .join(Question, col(Question.id) == ReviewCard.question_id)
            .where(*due_now)
            .order_by(col(ReviewCard.due), col(ReviewCard.id))
        ).all()
        learning = [q for q, st in rows if st != int(State.Review)]
        review = [q for q, st in rows if st == int(State.Review)][:review_left]
    else:
        by_state = dict(
            session.exec(
                select(ReviewCard.state, func.count())
                .join(Question, col(Question.id) == ReviewCard.question_id)
                .where(*due_now)
                .group_by(ReviewCard.state)
            ).all()
        )
        n_review = int(by_state.pop(int(State.Review), 0))
        learning = [""] * int(sum(by_state.values()))
        review = [""] * min(n_review, review_left)
    new_left = max(0, settings.new_per_day - new_done)
    new_ids: list[str] = []
    if new_left and with_ids:
        # The deck in its fixed order, skipping questions that already have a card (an anti-join
        # probing the card's unique (owner, question) index), stopping at today's allowance.
        seen = ReviewCard.__table__.alias("seen")
        owner = owned_by(seen.c, actor)
        stmt = (
            select(Question.id)
            .outerjoin(seen, (seen.c.question_id == Question.id) & owner)
            .where(
                Question.active == True,  # noqa: E712
                col(Question.kind).in_(DECK_KINDS),
                seen.c.id.is_(None),
                visible_to(),
            )
            .order_by(col(Question.difficulty), col(Question.topic), col(Question.id))
            .limit(new_left)
        )
        new_ids = list(session.exec(stmt).all())
    elif new_left:
        new_ids = [""] * _unseen_at_most(session, actor, new_left)
    ids = learning + review + new_ids if with_ids else []
    return Due(new=len(new_ids), learning=len(learning), review=len(review), due=ids)


_DECK_TTL_S = 60.0
_deck_cache: dict[str, tuple[float, int]] = {}


def _deck_size(session: Session) -> int:
    """Active deck questions; they change only when the bank is synced, so a minute's cache per
    database is exact enough for a count of new questions."""
    url = str(session.get_bind().url)
    held = _deck_cache.get(url)
    if held is not None and _monotonic() - held[0] < _DECK_TTL_S:
        return held[1]
    n = session.exec(
        select(func.count()).where(
            Question.active == True,  # noqa: E712
            col(Question.kind).in_(DECK_KINDS),
            visible_to(),
        )
    ).one()
    _deck_cache[url] = (_monotonic(), int(n))
    return int(n)


def _unseen_at_most(session: Session, actor: Actor, limit: int) -> int:
    """min(limit, unseen deck questions); the deck's size less the learner's cards is a lower bound
    of the unseen count, which most often settles it without the exact count."""
    cards = session.exec(
        select(func.count()).select_from(ReviewCard).where(owned_by(ReviewCard, actor))
    ).one()
    if _deck_size(session) - int(cards) >= limit:
        return limit
    return min(limit, _unseen_count(session, actor))


def _unseen_count(session: Session, actor: Actor) -> int:
    """Active deck questions the learner has no card for: the deck's size, less their cards, plus
    those of their cards whose question left the deck (retired, or not a deck kind): both counts
    read an index rather than join every card."""
    cards = session.exec(
        select(func.count()).select_from(ReviewCard).where(owned_by(ReviewCard, actor))
    ).one()
    outside = session.exec(
        select(func.count())
        .select_from(Question)
        .join(ReviewCard, col(ReviewCard.question_id) == Question.id)
        .where(
            (Question.active == False) | col(Question.kind).not_in(DECK_KINDS) | ~visible_to(),  # noqa: E712
            owned_by(ReviewCard, actor),
        )
    ).one()
    return max(0, _deck_size(session) - int(cards) + int(outside))


def due_count(*, session: Session, actor: Actor, now: datetime | None = None, tz: str | None = None) -> int:
    """How many reviews are due now (learning + review, within today's limit), for the Home page."""
    d = due(session=session, actor=actor, now=now, tz=tz, with_ids=False)
    return d.learning + d.review


def forecast(
    *, session: Session, actor: Actor, now: datetime | None = None, days: int = 30, tz: str | None = None
) -> list[dict[str, Any]]:
    """Cards falling due on each of the next `days` days (today includes anything overdue)."""
    now = _utc(now) or clock()
    zone = _zone(tz)
    today = now.astimezone(zone).date()
    end = day_start(now, tz) + timedelta(days=days)
    dues = session.exec(
        select(ReviewCard.due)
        .join(Question, col(Question.id) == ReviewCard.question_id)
        .where(owned_by(ReviewCard, actor), ReviewCard.due < end, Question.active == True, visible_to())  # noqa: E712
    ).all()
    counts: Counter[date] = Counter()
    for d in dues:
        day = (_utc(d) or now).astimezone(zone).date()
        counts[max(day, today)] += 1
    return [
        {"date": (today + timedelta(days=i)).isoformat(), "count": counts.get(today + timedelta(days=i), 0)}
        for i in range(days)
    ]


def card_state(*, session: Session, actor: Actor, question_id: str) -> ReviewCard | None:
    return session.exec(
        select(ReviewCard).where(owned_by(ReviewCard, actor), ReviewCard.question_id == question_id)
    ).first()


# Statistics --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stats:
    cards: int
    retention: float | None  # true retention over the window: share of first reviews per day not Again
    retention_n: int
    knowledge: float  # estimated cards known now: the sum of retrievability over cards seen
    mean_retrievability: float | None
    by_topic: list[dict[str, Any]]  # topic, title, cards, retrievability
    days: list[dict[str, Any]]  # date, reviews: every day with a review in the calendar window
    streak: int  # consecutive days with practice, ending today (or yesterday, if none yet today)


def stats(
    *,
    session: Session,
    actor: Actor,
    now: datetime | None = None,
    tz: str | None = None,
    window_days: int = 30,
    calendar_days: int = 365,
) -> Stats:
    now = _utc(now) or clock()
    zone = _zone(tz)
    sched = scheduler(get_settings(session=session, actor=actor).desired_retention)
    cards = session.exec(
        select(ReviewCard.stability, ReviewCard.last_review, Question.topic)
        .join(Question, col(Question.id) == ReviewCard.question_id)
        .where(owned_by(ReviewCard, actor))
    ).all()
    factor, decay = sched._FACTOR, sched._DECAY  # the same formula as Scheduler.get_card_retrievability
    per_topic: dict[str, list[float]] = defaultdict(list)
    total_r = 0.0
    for stability, last, topic in cards:
        last_utc = _utc(last)
        if stability is None or last_utc is None:
            r = 0.0
        else:
            elapsed = max(0, (now - last_utc).days)
            r = (1 + factor * elapsed / stability) ** decay
        per_topic[topic].append(r)
        total_r += r
    by_topic = sorted(
        (
            {"topic": t, "title": TOPICS.get(t, t), "cards": len(rs), "retrievability": sum(rs) / len(rs)}
            for t, rs in per_topic.items()
        ),
        key=lambda row: row["title"],
    )
    since = day_start(now, tz) - timedelta(days=calendar_days - 1)
    per_day: dict[date, int] = {}
    for day, n in session.exec(
        select(_local_day(session, ReviewLog.reviewed_at, now, tz).label("day"), func.count())
        .where(owned_by(ReviewLog, actor), ReviewLog.reviewed_at >= since)
        .group_by("day")
    ).all():
        key = day if isinstance(day, date) else date.fromisoformat(str(day)[:10])
        per_day[key] = per_day.get(key, 0) + int(n)
    # True retention: recall of cards already in review, counting each card's first review of a day.
    window = session.exec(
        select(ReviewLog.card_id, ReviewLog.reviewed_at, ReviewLog.rating)
        .where(
            owned_by(ReviewLog, actor),
            ReviewLog.reviewed_at >= now - timedelta(days=window_days),
            ReviewLog.state_before == int(State.Review),
        )
        .order_by(col(ReviewLog.reviewed_at), col(ReviewLog.id))
    ).all()
    first_of_day: dict[tuple[int, date], int] = {}
    for card_id, at, rating in window:
        first_of_day.setdefault((card_id, (_utc(at) or now).astimezone(zone).date()), rating)
    passed = sum(1 for r in first_of_day.values() if r != int(Rating.Again))
    today = now.astimezone(zone).date()
    streak, day = 0, today if per_day.get(today) else today - timedelta(days=1)
    while per_day.get(day):
        streak += 1
        day -= timedelta(days=1)
    return Stats(
        cards=len(cards),
        retention=passed / len(first_of_day) if first_of_day else None,
        retention_n=len(first_of_day),
        knowledge=total_r,
        mean_retrievability=total_r / len(cards) if cards else None,
        by_topic=by_topic,
        days=[{"date": d.isoformat(), "reviews": n} for d, n in sorted(per_day.items())],
        streak=streak,
    )
