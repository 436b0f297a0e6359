"""A child process for the fault tests: simulated learners answering assignment questions in parallel
through the domain layer, printing one JSON line per answer the domain acknowledged (committed).

    python -m tests.faults.learners URL PLAN_JSON SECONDS SEED

PLAN_JSON maps username -> assignment id. Each learner resumes its open attempt the app's own way
(`start_or_resume`), answers the questions it has not answered, and hands the attempt in when all are
answered, then starts the next. After a restart it first sends its last acknowledged answer again (a
learner clicking Save twice across the crash): one answer must still be stored. A database error is
printed and the learner tries again, as a person would after seeing the page's error.
"""

import json
import random
import sys
import threading
import time
import zlib

from sqlalchemy.exc import DBAPIError
from sqlmodel import select

from quizapp.assignments import save_answer, start_or_resume, submit_attempt, view_attempt
from quizapp.db import make_engine, read_session, write_session
from quizapp.identity import Actor
from quizapp.models import User, as_utc

# One fixed answer per (attempt, question), so a save repeated after a crash stores the same thing.
ANSWERS = {
    "s-single": ["Max pooling", "Dropout", "Batch norm"],
    "s-multi": [["Dropout"], ["Dropout", "Weight decay", "Early stopping"], ["Early stopping"]],
    "s-tf": [True, False],
    "s-num": ["30", "31", "29.5"],
    "s-short": ["vanishing gradient", "exploding gradients"],
}
_out = threading.Lock()


def answer_for(attempt_id: int, question_id: str):  # type: ignore[no-untyped-def]
    options = ANSWERS[question_id]
    return options[zlib.crc32(f"{attempt_id}:{question_id}".encode()) % len(options)]


def emit(**event) -> None:  # type: ignore[no-untyped-def]
    line = json.dumps(event, default=str) + "\n"
    with _out:
        sys.stdout.write(line)
        sys.stdout.flush()


def learner(engine, name: str, actor: Actor, assignment_id: int, until: float, rng: random.Random) -> None:  # type: ignore[no-untyped-def]
    resumed = False
    while time.monotonic() < until:
        try:
            with write_session(engine) as s:
                attempt_id = start_or_resume(session=s, actor=actor, assignment_id=assignment_id)
            with write_session(engine) as s:
                view = view_attempt(session=s, actor=actor, attempt_id=attempt_id)
                deadline = as_utc(view.attempt.deadline_at)
                left = view.seconds_left
                answered = set(view.answers)
                questions = [q.id for q in view.questions]
            if not resumed:
                emit(ev="open", u=name, a=attempt_id, deadline=deadline.isoformat(), left=left)
                resumed = True
                if answered:  # send the last saved answer again
                    qid = sorted(answered)[0]
                    with write_session(engine) as s:
                        got = save_answer(
                            session=s,
                            actor=actor,
                            attempt_id=attempt_id,
                            question_id=qid,
                            answer=answer_for(attempt_id, qid),
                        )
                    emit(ev="ack", u=name, a=attempt_id, q=qid, answer=got["answer"], again=True)
            for qid in questions:
                if qid in answered:
                    continue
                if time.monotonic() >= until:
                    return
                answer = answer_for(attempt_id, qid)
                with write_session(engine) as s:
                    save_answer(session=s, actor=actor, attempt_id=attempt_id, question_id=qid, answer=answer)
                emit(ev="ack", u=name, a=attempt_id, q=qid, answer=answer)
                time.sleep(rng.uniform(0, 0.02))
            with write_session(engine) as s:
                submit_attempt(session=s, actor=actor, attempt_id=attempt_id)
            emit(ev="submitted", u=name, a=attempt_id)
        except DBAPIError as exc:  # the connection was cut: the page says "not saved", the learner retries
            emit(ev="error", u=name, error=type(exc.orig).__name__)
            time.sleep(0.05)


def main() -> None:
    url, plan_json, seconds, seed = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
    plan = json.loads(plan_json)
    engine = make_engine(url)
    with read_session(engine) as s:
        users = {u.username: u for u in s.exec(select(User).where(User.username.in_(list(plan)))).all()}
    until = time.monotonic() + seconds
    threads = [
        threading.Thread(
            target=learner,
            args=(engine, name, Actor(user_id=users[name].id, role="learner"), aid, until),
            kwargs={"rng": random.Random(seed * 1000 + i)},
        )
        for i, (name, aid) in enumerate(sorted(plan.items()))
    ]
    emit(ev="ready")
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    emit(ev="done")


if __name__ == "__main__":
    main()
