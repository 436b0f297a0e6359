"""The question-file loader takes any text: it returns questions or file:line errors, never raises,
and a file with any error imports nothing (the database is left as it was)."""

import argparse
import string

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlmodel import select

from quizapp import migrate
from quizapp.bank.loader import BankError, load_bank, load_file
from quizapp.bank.sync import sync_bank
from quizapp.cli import cmd_init
from quizapp.db import make_engine, read_session, write_session
from quizapp.migrate import upgrade
from quizapp.models import Question, QuestionVersion
from tests.utils.bank import SAMPLE

VALID = yaml.safe_load(SAMPLE)
FRAGMENTS = [
    "- id: q-1",
    "- id: q-1\n  kind: quiz",
    "  kind: quiz",
    "  type: single",
    "  type: numeric",
    "  topic: cnn",
    "  difficulty: 2",
    "  difficulty: 9",
    "  prompt: What?",
    "  explanation: Because.",
    "  choices: [a, b]",
    "  answer: a",
    "  answer: 3",
    "  tolerance: -1",
    "  answers: ['(']",
    "  tags: [x]",
    "  demo: pooling",
    "  demo: nope",
    "  demo_params: {pool: max}",
    "  demo_params: 3",
    "- &anchor {id: a}",
    "- *anchor",
    "- *missing",
    "  <<: *anchor",
    "? [a, b]\n: c",
    "- ? {a: 1}\n  : x",
    "- !!python/object/apply:os.system [echo]",
    "- !!binary aGk=",
    "- !!set {a}",
    "- !!timestamp 2020-01-01",
    "\t- id: tab",
    "---",
    "...",
    "%YAML 1.1",
    "- [",
    "- {",
    "- '",
    '- "\\x"',
    "-",
    "- - - -",
    "  key_points: []",
    "  key_points: [one]",
    "  id: twice",
    "- id: " + "x" * 200,
    "- id: Ünïcödé ✓",
]


def _check(questions, errors) -> None:  # type: ignore[no-untyped-def]
    assert all(isinstance(e, BankError) and e.line >= 1 and e.message for e in errors)
    if errors:
        assert questions == []


@given(st.text())
def test_any_text_loads_or_is_refused_with_file_and_line(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("bank") / "q.yaml"
    path.write_text(text, encoding="utf-8")
    _check(*load_file(path))


@given(st.lists(st.sampled_from(FRAGMENTS) | st.text(string.printable, max_size=30), max_size=25))
def test_yaml_ish_lines_load_or_are_refused(tmp_path_factory, lines):
    path = tmp_path_factory.mktemp("bank") / "q.yaml"
    path.write_text("\n".join(lines), encoding="utf-8")
    _check(*load_file(path))


junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_subnormal=False),
    st.text(max_size=40),
    st.lists(st.text(max_size=10), max_size=4),
    st.dictionaries(st.text(max_size=8), st.integers(), max_size=3),
)


@st.composite
def mutated_questions(draw):  # type: ignore[no-untyped-def]
    """A valid question with one to three fields changed, removed or added."""
    q = dict(draw(st.sampled_from(VALID)))
    for _ in range(draw(st.integers(1, 3))):
        action = draw(st.sampled_from(["change", "drop", "add"]))
        if action == "change":
            q[draw(st.sampled_from(sorted(q)))] = draw(junk)
        elif action == "drop" and len(q) > 1:
            q.pop(draw(st.sampled_from(sorted(q))))
        else:
            q[draw(st.text(min_size=1, max_size=12))] = draw(junk)
    return q


@given(st.lists(mutated_questions(), min_size=1, max_size=4))
def test_structured_questions_load_or_are_refused(tmp_path_factory, questions):
    path = tmp_path_factory.mktemp("bank") / "q.yaml"
    path.write_text(yaml.safe_dump(questions, allow_unicode=True), encoding="utf-8")
    _check(*load_file(path))


@pytest.fixture(scope="module")
def synced_db(tmp_path_factory):
    folder = tmp_path_factory.mktemp("good")
    (folder / "s.yaml").write_text(SAMPLE, encoding="utf-8")
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'bank.db'}"
    upgrade(url)
    engine = make_engine(url)
    with write_session(engine) as s:
        sync_bank(session=s, loaded=load_bank(folder).questions)
    engine.dispose()
    return url, folder


def _bank_rows(url: str) -> tuple:
    engine = make_engine(url)
    with read_session(engine) as s:
        rows = (
            sorted((q.id, q.active, q.current_version) for q in s.exec(select(Question)).all()),
            sorted((v.question_id, v.version, v.content_hash) for v in s.exec(select(QuestionVersion)).all()),
        )
    engine.dispose()
    return rows


@settings(max_examples=25)
@given(broken=st.lists(mutated_questions(), min_size=1, max_size=3))
def test_a_broken_file_imports_nothing(synced_db, monkeypatch, tmp_path_factory, broken):
    """`quizapp init` with a folder holding a new valid file and a broken one changes nothing."""
    url, _good = synced_db
    monkeypatch.setenv("QUIZAPP_DATABASE_URL", url)
    monkeypatch.setattr(migrate, "upgrade", lambda url: None)  # migrated once, in the fixture
    before = _bank_rows(url)
    folder = tmp_path_factory.mktemp("bank")
    (folder / "a.yaml").write_text(SAMPLE.replace("id: s-", "id: t-"), encoding="utf-8")  # new, valid
    (folder / "b.yaml").write_text(yaml.safe_dump(broken, allow_unicode=True), encoding="utf-8")
    if load_bank(folder).ok:
        return  # the mutation happened to keep every question valid
    assert cmd_init(argparse.Namespace(questions=str(folder))) == 1
    assert _bank_rows(url) == before
