"""Interop figures: parse time for 10,000 generated GIFT questions (target <= 5 s) and export time of the
whole bank (questions/) to GIFT, Moodle XML and an Anki package. Prints figures; asserts nothing.

    .venv/bin/python bench/interop.py
"""

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from quizapp.bank.loader import load_bank  # noqa: E402
from quizapp.interop import export, parse, write_apkg  # noqa: E402

KINDS = [
    "::Q{n}::Which pooling keeps the largest value in window {n}?{{=max ~mean ~%50%sum ~min ####Max keeps it.}}",
    "::Q{n}::ReLU is linear for positive input number {n}.{{T#No.#Yes.}}",
    "::Q{n}::Pick the optimizers ({n}).{{~%50%Adam ~%50%SGD ~%-100%ReLU}}",
    "::Q{n}::How many weights in a 3x3 kernel ({n})?{{#=%100%9:0 =%50%10:0.5}}",
    "::Q{n}::Name the capital of France ({n}).{{=Paris =%50%Paris city}}",
    "::Q{n}::[html]<p>Explain <b>dropout</b> ({n}).</p>{{####Dropout zeroes units. It regularises.}}",
]


def main() -> None:
    n = 10_000
    gift = "$CATEGORY: $course$/top/cnn\n\n" + "\n\n".join(
        KINDS[i % len(KINDS)].format(n=i) for i in range(n)
    )
    data = gift.encode()
    t0 = time.perf_counter()
    result = parse(data, "gift")
    parse_s = time.perf_counter() - t0
    print(f"parse GIFT: {n} questions, {len(data) / 1e6:.1f} MB, {len(result.questions)} read, "
          f"{len(result.refused)} refused: {parse_s:.2f} s (target <= 5 s)")  # fmt: skip

    report = load_bank(ROOT / "questions")
    qs = [q.spec.content() for q in report.questions]
    for fmt in ("gift", "moodle-xml"):
        t0 = time.perf_counter()
        out = export(qs, fmt)
        print(
            f"export bank ({len(qs)} questions) to {fmt}: {time.perf_counter() - t0:.2f} s, {len(out) / 1e6:.2f} MB"
        )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bank.apkg"
        t0 = time.perf_counter()
        write_apkg(qs, path)
        print(f"export bank ({len(qs)} questions) to apkg: {time.perf_counter() - t0:.2f} s, "
              f"{path.stat().st_size / 1e6:.2f} MB")  # fmt: skip
    database_import(result.questions)


def database_import(questions: list[dict]) -> None:
    """The parsed questions stored as one instructor's in a scratch SQLite database (one transaction,
    search index included), then the same file again (every question unchanged)."""
    from quizapp.auth import create_user
    from quizapp.db import make_engine, write_session
    from quizapp.identity import Actor
    from quizapp.migrate import upgrade
    from quizapp.owned_questions import import_questions

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        upgrade(url)
        engine = make_engine(url)
        with write_session(engine) as s:
            user = create_user(
                session=s, username="bench", role="instructor", password="a long enough password"
            )
            actor = Actor(user_id=user.id, role=user.role)
        for label in ("import into the database", "import again (unchanged)"):
            t0 = time.perf_counter()
            with write_session(engine) as s:
                report = import_questions(session=s, actor=actor, questions=questions, source="bench.gift")
            print(f"{label}: {report.imported} questions, {len(report.refused)} refused: "
                  f"{time.perf_counter() - t0:.2f} s (SQLite)")  # fmt: skip
        engine.dispose()


if __name__ == "__main__":
    main()
