"""Anonymous browsers that keep their progress: devices, adoption into an account, and the purge.

A browser that is not signed in holds a random token in an HttpOnly cookie (quizapp/web/device.py sets
it); the database holds only the token's SHA-256, like login sessions, and the anonymous key that the
browser's answers, review cards, bookmarks and settings are stored under. The row is made the first
time the app meets the token, and its expiry slides forward (at most once a day) while the browser
keeps coming back. Signing in or up in that browser moves everything stored under its key into the
account (`adopt_device`) and marks the device adopted, so after signing out the browser starts afresh
under a new token. `purge` drops devices past their expiry together with all their anonymous progress.
"""

import math
import os
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, func, or_, union_all, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from quizapp.models import (
    AnonDevice,
    Attempt,
    Bookmark,
    LearnerSettings,
    Response,
    ReviewCard,
    ReviewLog,
    as_utc,
    utcnow,
)
from quizapp.sessions import purge_expired, token_hash

DEFAULT_DAYS = 90.0
# The expiry moves forward on a visit at most this often, so a busy browser does not write on every page.
TOUCH_EVERY = timedelta(days=1)
_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")  # secrets.token_urlsafe(32)
_CHUNK = 500  # keys per IN (...) list: well under SQLite's bound-parameter limit


def anon_lifetime() -> timedelta:
    """How long an anonymous browser is kept after its last visit: QUIZAPP_ANON_DAYS (default 90)."""
    raw = os.environ.get("QUIZAPP_ANON_DAYS", "").strip()
    if not raw:
        return timedelta(days=DEFAULT_DAYS)
    try:
        days = float(raw)
    except ValueError:
        days = math.nan
    if not math.isfinite(days) or days <= 0 or days > 3650:
        raise ValueError(f"QUIZAPP_ANON_DAYS must be a number of days above 0 and at most 3650, not {raw!r}")
    return timedelta(days=days)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def is_token(value: object) -> bool:
    return isinstance(value, str) and _TOKEN.fullmatch(value) is not None


def _find(session: Session, token: str, *, lock: bool = False) -> AnonDevice | None:
    stmt = select(AnonDevice).where(AnonDevice.token_hash == token_hash(token))
    return session.exec(stmt.with_for_update() if lock else stmt).first()


def resolve_device(*, session: Session, token: str | None, now: datetime | None = None) -> str | None:
    """The anonymous key of the browser holding `token`, made on first sight and kept alive by use.

    None when the token is malformed or its device was adopted by an account (that browser's progress
    now belongs to the account; the sign-in gave the browser a new token). Writes: call it in a write
    transaction."""
    if not is_token(token):
        return None
    assert token is not None
    now = now or utcnow()
    device = _find(session, token)
    if device is None:
        device = AnonDevice(
            token_hash=token_hash(token),
            anon_key=secrets.token_urlsafe(24),
            created_at=now,
            last_seen_at=now,
            expires_at=now + anon_lifetime(),
        )
        try:
            with session.begin_nested():
                session.add(device)
            return device.anon_key
        except IntegrityError:
            # Two tabs of a new browser opened at once; the other one made the row.
            device = _find(session, token)
            if device is None:
                raise
    if device.adopted_by is not None:
        return None
    seen, expires = as_utc(device.last_seen_at), as_utc(device.expires_at)
    assert seen is not None and expires is not None
    if now - seen >= TOUCH_EVERY or expires <= now:
        device.last_seen_at, device.expires_at = now, now + anon_lifetime()
        session.add(device)
        session.flush()
    return device.anon_key


def pending_answers(*, session: Session, token: str | None) -> int:
    """How many answers the browser holding `token` would bring to an account that signs in now."""
    if not is_token(token):
        return 0
    assert token is not None
    device = _find(session, token)
    if device is None or device.adopted_by is not None:
        return 0
    return int(
        session.exec(
            select(func.count())
            .select_from(Response)
            .join(Attempt, col(Attempt.id) == Response.attempt_id)
            .where(Attempt.anon_key == device.anon_key, col(Attempt.user_id).is_(None))
        ).one()
    )


# Adoption -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Adoption:
    """What moved into the account (merged rows that lost to the account's own are not counted)."""

    answers: int = 0
    attempts: int = 0
    cards: int = 0
    bookmarks: int = 0
    settings: int = 0


def _dml(stmt):  # type: ignore[no-untyped-def]
    # Plain SQL UPDATE/DELETE: loaded objects are not touched (callers do not reuse them).
    return stmt.execution_options(synchronize_session=False)


def _anon(model, anon_key: str):  # type: ignore[no-untyped-def]
    return and_(model.anon_key == anon_key, col(model.user_id).is_(None))


def adopt_anonymous(*, session: Session, anon_key: str, user_id: int) -> Adoption:
    """Move everything stored under an anonymous key to a user, in the caller's transaction.

    Rows end up owned by the user alone (anon_key cleared), as though the user had made them. Where
    the account already has a row for the same question: the review card reviewed more recently stays
    (the account's on a tie) and takes the other card's review log; a duplicate bookmark goes; the
    account's own review settings stay."""
    attempt_ids = select(Attempt.id).where(_anon(Attempt, anon_key))
    answers = session.exec(
        select(func.count()).select_from(Response).where(col(Response.attempt_id).in_(attempt_ids))
    ).one()
    attempts = session.exec(
        _dml(update(Attempt).where(_anon(Attempt, anon_key)).values(user_id=user_id, anon_key=None))
    ).rowcount

    # Review cards: settle each question both own, then move the rest.
    theirs = session.exec(select(ReviewCard).where(_anon(ReviewCard, anon_key))).all()
    mine = {
        c.question_id: c
        for c in session.exec(
            select(ReviewCard).where(
                ReviewCard.user_id == user_id,
                col(ReviewCard.question_id).in_([c.question_id for c in theirs]),
            )
        ).all()
    }
    for card in theirs:
        own = mine.get(card.question_id)
        if own is None:
            continue
        own_last, their_last = as_utc(own.last_review), as_utc(card.last_review)
        keep_own = their_last is None or (own_last is not None and own_last >= their_last)
        keep, drop = (own, card) if keep_own else (card, own)
        session.exec(_dml(update(ReviewLog).where(ReviewLog.card_id == drop.id).values(card_id=keep.id)))
        session.exec(_dml(delete(ReviewCard).where(col(ReviewCard.id) == drop.id)))
    cards = session.exec(
        _dml(update(ReviewCard).where(_anon(ReviewCard, anon_key)).values(user_id=user_id, anon_key=None))
    ).rowcount
    session.exec(
        _dml(update(ReviewLog).where(_anon(ReviewLog, anon_key)).values(user_id=user_id, anon_key=None))
    )

    # Bookmarks: one per question and owner.
    marked = select(Bookmark.question_id).where(Bookmark.user_id == user_id)
    session.exec(
        _dml(delete(Bookmark).where(_anon(Bookmark, anon_key), col(Bookmark.question_id).in_(marked)))
    )
    bookmarks = session.exec(
        _dml(update(Bookmark).where(_anon(Bookmark, anon_key)).values(user_id=user_id, anon_key=None))
    ).rowcount

    # Settings: the account's own win.
    has_own = session.exec(select(LearnerSettings.id).where(LearnerSettings.user_id == user_id)).first()
    if has_own is not None:
        session.exec(_dml(delete(LearnerSettings).where(_anon(LearnerSettings, anon_key))))
        settings = 0
    else:
        settings = session.exec(
            _dml(
                update(LearnerSettings)
                .where(_anon(LearnerSettings, anon_key))
                .values(user_id=user_id, anon_key=None)
            )
        ).rowcount
    session.flush()
    return Adoption(
        answers=int(answers), attempts=attempts, cards=cards, bookmarks=bookmarks, settings=settings
    )


def adopt_device(
    *, session: Session, token: str | None, user_id: int, now: datetime | None = None
) -> Adoption:
    """Hand the progress of the browser holding `token` to the user signing in or up there, once.

    The device row is locked (PostgreSQL), so a double-submitted sign-in moves nothing twice; the row
    stays, marked adopted, until its expiry, and the token no longer names an anonymous identity."""
    if not is_token(token):
        return Adoption()
    assert token is not None
    device = _find(session, token, lock=True)
    if device is None or device.adopted_by is not None:
        return Adoption()
    moved = adopt_anonymous(session=session, anon_key=device.anon_key, user_id=user_id)
    device.adopted_by, device.last_seen_at = user_id, now or utcnow()
    session.add(device)
    session.flush()
    return moved


# Purge --------------------------------------------------------------------------------------------


@dataclass
class PurgeReport:
    devices: int = 0  # expired anonymous browsers
    orphans: int = 0  # anonymous identities without a device (no cookie), idle past the expiry
    attempts: int = 0
    answers: int = 0
    review_cards: int = 0
    review_logs: int = 0
    settings: int = 0
    bookmarks: int = 0
    sessions: int = 0  # expired login sessions and sign-up claim tickets

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def _chunks(items: Sequence[str], size: int = _CHUNK) -> Iterable[Sequence[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _stale_orphans(session: Session, cutoff: datetime) -> list[str]:
    """Anonymous keys that no device names (a browser without cookies, or from before devices), whose
    newest activity is older than the cutoff: nobody can reach them any more."""
    activity = union_all(
        select(col(Attempt.anon_key).label("k"), col(Attempt.started_at).label("t")).where(
            col(Attempt.user_id).is_(None)
        ),
        select(ReviewCard.anon_key, ReviewCard.created_at).where(col(ReviewCard.user_id).is_(None)),
        select(ReviewLog.anon_key, ReviewLog.reviewed_at).where(col(ReviewLog.user_id).is_(None)),
        select(Bookmark.anon_key, Bookmark.created_at).where(col(Bookmark.user_id).is_(None)),
        select(LearnerSettings.anon_key, LearnerSettings.updated_at).where(
            col(LearnerSettings.user_id).is_(None)
        ),
    ).subquery()
    rows = session.exec(
        select(activity.c.k)
        .where(activity.c.k.is_not(None), activity.c.k.not_in(select(AnonDevice.anon_key)))
        .group_by(activity.c.k)
        .having(func.max(activity.c.t) < cutoff)
    ).all()
    return [k for k in rows if k]


def _delete_progress(session: Session, keys: Sequence[str], report: PurgeReport) -> None:
    """Delete every row stored under these anonymous keys, children before parents."""
    for chunk in _chunks(keys):
        attempts = select(Attempt.id).where(col(Attempt.anon_key).in_(chunk), col(Attempt.user_id).is_(None))
        responses = select(Response.id).where(col(Response.attempt_id).in_(attempts))
        cards = select(ReviewCard.id).where(
            col(ReviewCard.anon_key).in_(chunk), col(ReviewCard.user_id).is_(None)
        )
        report.review_logs += session.exec(
            _dml(
                delete(ReviewLog).where(
                    or_(
                        col(ReviewLog.card_id).in_(cards),
                        and_(col(ReviewLog.anon_key).in_(chunk), col(ReviewLog.user_id).is_(None)),
                    )
                )
            )
        ).rowcount
        # A log that is not theirs keeps its row and loses only the link to the answer going away.
        session.exec(
            _dml(update(ReviewLog).where(col(ReviewLog.response_id).in_(responses)).values(response_id=None))
        )
        report.review_cards += session.exec(
            _dml(delete(ReviewCard).where(col(ReviewCard.id).in_(cards)))
        ).rowcount
        report.answers += session.exec(_dml(delete(Response).where(col(Response.id).in_(responses)))).rowcount
        report.attempts += session.exec(_dml(delete(Attempt).where(col(Attempt.id).in_(attempts)))).rowcount
        for model, field in ((LearnerSettings, "settings"), (Bookmark, "bookmarks")):
            gone = session.exec(
                _dml(delete(model).where(col(model.anon_key).in_(chunk), col(model.user_id).is_(None)))
            ).rowcount
            setattr(report, field, getattr(report, field) + gone)


def purge(*, session: Session, now: datetime | None = None) -> PurgeReport:
    """Drop anonymous browsers past their expiry with all their progress, anonymous identities without
    a browser idle that long, and expired login sessions and claim tickets. Runs in the caller's
    transaction (`quizapp purge`, and `quizapp init`)."""
    now = now or utcnow()
    report = PurgeReport()
    expired = session.exec(
        select(AnonDevice.id, AnonDevice.anon_key).where(col(AnonDevice.expires_at) < now).with_for_update()
    ).all()
    orphans = _stale_orphans(session, now - anon_lifetime())
    _delete_progress(session, [key for _, key in expired] + orphans, report)
    ids = [device_id for device_id, _ in expired]
    for i in range(0, len(ids), _CHUNK):
        report.devices += session.exec(
            _dml(delete(AnonDevice).where(col(AnonDevice.id).in_(ids[i : i + _CHUNK])))
        ).rowcount
    report.orphans = len(orphans)
    report.sessions = purge_expired(session=session, now=now)
    return report
