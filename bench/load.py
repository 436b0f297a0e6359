"""Load test: N simulated learners practise through a running server's real endpoints.

Usage: python bench/load.py [--learners 50 100] [--seconds 120] [--engine sqlite|postgresql]

Starts `quizapp serve` on a fresh database (the bank from questions/, one signed-in account per
learner), then each learner does what a browser does: GET the page over HTTP, open the websocket at
/_stcore/stream and speak Streamlit's own protocol (BackMsg / ForwardMsg protobufs): start a practice
session on the graded question types, then answer, read the verdict and go to the next question, for
the given time. An answer counts as acknowledged when the page shows its verdict (Correct / Partly
right / Not quite). Prints, per size: answers acknowledged, lost (acknowledged but not stored),
duplicated (stored beyond what was acknowledged, or twice for one question), errors (refusals,
tracebacks, "not saved", dropped connections) and the p50 / p95 time from Submit to the verdict.
Figures depend on the machine and on whatever else runs on it.
"""

import argparse
import asyncio
import os
import random
import shutil
import statistics
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func
from sqlmodel import select
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState
from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.scratch_db import scratch_database  # noqa: E402
from quizapp.bank.loader import load_bank  # noqa: E402
from quizapp.bank.sync import sync_bank  # noqa: E402
from quizapp.db import make_engine, read_session, write_session  # noqa: E402
from quizapp.models import Attempt, Response, User, utcnow  # noqa: E402
from quizapp.web.routes import SESSION_COOKIE  # noqa: E402
from tests.e2e.conftest import running_server  # noqa: E402

TYPES = ["Single choice", "Multiple choice", "True / false", "Numeric", "Short answer"]
VERDICTS = ("Correct.", "Partly right", "Not quite")
RUN_TIMEOUT_S = 60


@dataclass
class Tally:
    acked: int = 0
    errors: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)


class Page:
    """One browser tab's view of the app: the elements of the last completed script run."""

    def __init__(self, ws, base: str) -> None:  # type: ignore[no-untyped-def]
        self.ws, self.base = ws, base
        self.elements: list = []
        self.states: dict[str, WidgetState] = {}  # every widget's value, as the browser keeps them

    async def run(self, changes: list[WidgetState], page_name: str = "practice") -> None:
        """Send a rerun with every widget's value (these changed) and wait until the script has
        finished drawing. Like the browser, each rerun carries the whole page's widget states."""
        triggers = [c for c in changes if c.WhichOneof("value") == "trigger_value"]
        for c in changes:
            if c not in triggers:
                self.states[c.id] = c
        msg = BackMsg()
        msg.rerun_script.query_string = ""
        msg.rerun_script.page_name = page_name
        msg.rerun_script.widget_states.widgets.extend([*self.states.values(), *triggers])
        await self.ws.send(msg.SerializeToString())
        elements: list = []
        async with asyncio.timeout(RUN_TIMEOUT_S):
            while True:
                fwd = ForwardMsg()
                fwd.ParseFromString(await self.ws.recv())
                kind = fwd.WhichOneof("type")
                if kind == "new_session":
                    elements = []
                elif kind == "delta" and fwd.delta.WhichOneof("type") == "new_element":
                    elements.append(fwd.delta.new_element)
                elif kind == "script_finished" and fwd.script_finished in (
                    ForwardMsg.FINISHED_SUCCESSFULLY,
                    ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY,
                ):
                    self.elements = elements
                    self.states = {
                        w.id: self.states.get(w.id) or s
                        for e in elements
                        if (w := getattr(e, e.WhichOneof("type"))) is not None
                        and (s := initial_state(e)) is not None
                    }
                    return

    def widgets(self, kind: str) -> list:
        return [getattr(e, kind) for e in self.elements if e.WhichOneof("type") == kind]

    def button(self, label: str):  # type: ignore[no-untyped-def]
        return next((b for b in self.widgets("button") if b.label == label), None)

    def alerts(self) -> list[tuple[int, str]]:
        return [(a.format, a.body) for a in self.widgets("alert")]


def initial_state(element) -> WidgetState | None:  # type: ignore[no-untyped-def]
    """A widget's value when first drawn (its default, or the value the script set), as the browser
    starts it; None for elements that hold no value (text, buttons)."""
    kind = element.WhichOneof("type")
    w = getattr(element, kind)
    if kind == "radio":
        if w.set_value and w.HasField("raw_value"):
            return WidgetState(id=w.id, string_value=w.raw_value)
        return WidgetState(id=w.id, string_value=w.options[w.default]) if w.HasField("default") else None
    if kind == "multiselect":
        values = list(w.raw_values) if w.set_value else [w.options[i] for i in w.default]
        return WidgetState(id=w.id, string_array_value={"data": values})
    if kind == "slider":
        return WidgetState(id=w.id, double_array_value={"data": list(w.value if w.set_value else w.default)})
    if kind == "checkbox":
        return WidgetState(id=w.id, bool_value=w.value if w.set_value else w.default)
    if kind in ("text_input", "text_area"):
        value = (
            w.value if w.set_value and w.HasField("value") else (w.default if w.HasField("default") else None)
        )
        return WidgetState(id=w.id, string_value=value) if value is not None else None
    return None


def trigger(widget_id: str) -> WidgetState:
    return WidgetState(id=widget_id, trigger_value=True)


def answer_states(page: Page, rng: random.Random) -> list[WidgetState]:
    """A plausible answer for whatever question the page shows (sometimes right, often not)."""
    radios = [r for r in page.widgets("radio") if r.label == "Your answer"]
    if radios:
        return [WidgetState(id=radios[0].id, string_value=rng.choice(list(radios[0].options)))]
    boxes = [c for c in page.widgets("checkbox") if c.form_id]
    if boxes:
        picked = rng.sample(boxes, rng.randint(1, len(boxes)))
        return [WidgetState(id=c.id, bool_value=c in picked) for c in boxes]
    inputs = [t for t in page.widgets("text_input") if t.label.startswith("Your answer")]
    if inputs:
        numeric = "number" in inputs[0].label
        value = (
            rng.choice(["30", "0.5", "2", "1e-3"])
            if numeric
            else rng.choice(["vanishing gradients", "dropout"])
        )
        return [WidgetState(id=inputs[0].id, string_value=value)]
    return []


async def learner(base: str, token: str, until: float, seed: int, tally: Tally, questions: int = 50) -> None:
    rng = random.Random(seed)
    headers = {"Cookie": f"{SESSION_COOKIE}={token}", "Origin": base}
    try:
        # What a browser fetches first: the page over plain HTTP.
        await asyncio.to_thread(lambda: urllib.request.urlopen(base + "/", timeout=30).read())
        ws_url = base.replace("http://", "ws://") + "/_stcore/stream"
        async with connect(
            ws_url, subprotocols=["streamlit"], additional_headers=headers, max_size=None
        ) as ws:
            page = Page(ws, base)
            await page.run([])
            while time.monotonic() < until:
                start = page.button("Start")
                if start is not None:  # the setup form: graded types, as many questions as allowed
                    types = next(
                        m for m in page.widgets("multiselect") if m.label.startswith("Question types")
                    )
                    count = next(s for s in page.widgets("slider") if s.label == "How many questions")
                    await page.run(
                        [
                            WidgetState(id=types.id, string_array_value={"data": TYPES}),
                            WidgetState(id=count.id, double_array_value={"data": [float(questions)]}),
                            trigger(start.id),
                        ]
                    )
                    continue
                submit = page.button("Submit")
                if submit is not None:
                    states = answer_states(page, rng)
                    t0 = time.perf_counter()
                    await page.run([*states, trigger(submit.id)])
                    spent = time.perf_counter() - t0
                    bodies = [body for _, body in page.alerts()]
                    if any(b.startswith(VERDICTS) for b in bodies):
                        tally.acked += 1
                        tally.latencies.append(spent)
                    else:
                        tally.errors.append("no verdict: " + "; ".join(bodies)[:120])
                    if page.widgets("exception"):
                        tally.errors.append("traceback: " + page.widgets("exception")[0].message[:120])
                    await asyncio.sleep(rng.uniform(0.2, 1.0))  # reading the feedback
                    continue
                way_on = page.button("Next question") or page.button("See the session review")
                if way_on is None:  # the session review: close it, which brings back the setup
                    way_on = page.button("Close the review")
                if way_on is None:
                    await page.run([])
                    if page.button("Start") is None and page.button("Submit") is None:
                        tally.errors.append("stuck: no Start, Submit or way on")
                        return
                    continue
                await page.run([trigger(way_on.id)])
    except Exception as exc:  # a dropped connection, a timeout: the learner's session is lost
        tally.errors.append(f"{type(exc).__name__}: {exc}"[:160])


def make_learners(url: str, n: int) -> dict[str, str]:
    """n learner accounts with a signed-in session each: username -> session token."""
    from argon2 import PasswordHasher

    from quizapp import auth, sessions

    auth._hasher = PasswordHasher(
        time_cost=1, memory_cost=8, parallelism=1
    )  # set-up only: no sign-in is timed
    engine = make_engine(url)
    tokens = {}
    with write_session(engine) as s:
        if not s.exec(select(func.count()).select_from(User)).one():
            sync_bank(session=s, loaded=load_bank(ROOT / "questions").questions)
        existing = len(s.exec(select(User.id)).all())
        for i in range(n):
            user = auth.create_user(
                session=s, username=f"load{existing + i:04d}", role="learner", password="a load-test password"
            )
            tokens[user.username] = sessions._open_session(s, user, utcnow())
    engine.dispose()
    return tokens


def stored_answers(url: str, usernames: list[str]) -> tuple[dict[str, int], int]:
    """Per learner, answers stored; and how many (attempt, question) pairs hold more than one."""
    engine = make_engine(url)
    with read_session(engine) as s:
        per_user = dict(
            s.exec(
                select(User.username, func.count(Response.id))
                .join(Attempt, Attempt.user_id == User.id)
                .join(Response, Response.attempt_id == Attempt.id)
                .where(User.username.in_(usernames))  # type: ignore[attr-defined]
                .group_by(User.username)
            ).all()
        )
        doubled = s.exec(
            select(func.count()).select_from(
                select(Response.attempt_id, Response.question_id)
                .group_by(Response.attempt_id, Response.question_id)
                .having(func.count() > 1)
                .subquery()
            )
        ).one()
    engine.dispose()
    return per_user, int(doubled)


async def drive(base: str, tokens: dict[str, str], seconds: float, questions: int) -> dict[str, Tally]:
    until = time.monotonic() + seconds
    tallies = {name: Tally() for name in tokens}
    await asyncio.gather(
        *(learner(base, tokens[name], until, i, tallies[name], questions) for i, name in enumerate(tokens))
    )
    return tallies


def report(n: int, seconds: float, tallies: dict[str, Tally], stored: dict[str, int], doubled: int) -> None:
    acked = sum(t.acked for t in tallies.values())
    lost = sum(max(0, t.acked - stored.get(name, 0)) for name, t in tallies.items())
    extra = sum(max(0, stored.get(name, 0) - t.acked) for name, t in tallies.items())
    errors = [e for t in tallies.values() for e in t.errors]
    times = sorted(x for t in tallies.values() for x in t.latencies)
    p50 = statistics.median(times) if times else float("nan")
    p95 = times[min(len(times) - 1, int(0.95 * len(times)))] if times else float("nan")
    print(
        f"{n:4d} learners x {seconds:.0f} s: acknowledged {acked}, lost {lost}, "
        f"duplicated {extra + doubled}, errors {len(errors)}, "
        f"time per answer p50 {p50 * 1000:.0f} ms p95 {p95 * 1000:.0f} ms "
        f"({acked / seconds:.1f} answers/s)",
        flush=True,
    )
    for e in sorted(set(errors))[:5]:
        print(f"      error: {e}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--learners", type=int, nargs="+", default=[50, 100], help="sizes to run, one after another"
    )
    ap.add_argument("--seconds", type=float, default=120.0, help="how long each size answers")
    ap.add_argument("--engine", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--questions", type=int, default=50, help="questions per practice session (5-50)")
    args = ap.parse_args()
    with scratch_database(args.engine) as url:
        env = {**os.environ, "QUIZAPP_DATABASE_URL": url, "QUIZAPP_WARM_DEMOS": "0"}
        quizapp = shutil.which("quizapp", path=str(Path(sys.executable).parent)) or "quizapp"
        with running_server([quizapp, "serve"], env, cwd=ROOT) as base:
            print(f"server {base}, {args.engine} database", flush=True)
            for n in args.learners:
                tokens = make_learners(url, n)
                tallies = asyncio.run(drive(base, tokens, args.seconds, args.questions))
                stored, doubled = stored_answers(url, list(tokens))
                report(n, args.seconds, tallies, stored, doubled)


if __name__ == "__main__":
    main()
