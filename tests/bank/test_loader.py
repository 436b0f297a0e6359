import textwrap

from quizapp.bank.loader import load_bank
from tests.utils.bank import SAMPLE


def test_sample_bank_loads_every_type(write_bank):
    report = load_bank(write_bank({"sample.yaml": SAMPLE}))
    assert report.ok, report.errors
    assert {q.spec.type for q in report.questions} == {
        "single",
        "multi",
        "truefalse",
        "numeric",
        "short",
        "open",
    }
    assert report.questions[0].line == 1


def _errors(write_bank, body: str, name: str = "bad.yaml") -> list[str]:
    report = load_bank(write_bank({name: textwrap.dedent(body)}))
    assert not report.ok
    assert report.questions == []
    return [str(e) for e in report.errors]


def test_malformed_yaml_names_file_and_line(write_bank):
    errs = _errors(
        write_bank,
        """\
        - id: a-1
          kind: quiz
          prompt: [unclosed
          type: single
        """,
    )
    assert len(errs) == 1 and errs[0].startswith(str(write_bank({}) / "bad.yaml") + ":")
    assert "not valid YAML" in errs[0]


def test_unknown_field_reports_its_line(write_bank):
    errs = _errors(
        write_bank, SAMPLE.split("- id: s-multi")[0].replace("  demo: pooling\n", "  colour: red\n")
    )
    assert any(e.endswith("bad.yaml:10: question 's-single': unknown field 'colour'") for e in errs), errs


def test_missing_explanation_reports_question_line(write_bank):
    body = "\n".join(line for line in SAMPLE.splitlines() if "explanation: Max pooling" not in line)
    errs = _errors(write_bank, body)
    assert any("bad.yaml:1: question 's-single': missing field 'explanation'" in e for e in errs), errs


def test_wrong_answer_shape_points_at_answer_line(write_bank):
    body = SAMPLE.replace("answer: Max pooling", "answer: Average pooling")
    errs = _errors(write_bank, body)
    assert any(
        ":8: question 's-single': answer: a single-choice answer must be the exact text" in e for e in errs
    ), errs


def test_type_needs_its_fields(write_bank):
    body = SAMPLE.replace("  tolerance: 0\n", "")
    errs = _errors(write_bank, body)
    assert any("question 's-num': type 'numeric' needs tolerance" in e for e in errs), errs


def test_duplicate_id_across_files_names_first_place(write_bank):
    folder = write_bank({"a.yaml": SAMPLE, "b.yaml": SAMPLE.split("- id: s-multi")[0]})
    report = load_bank(folder)
    assert not report.ok and report.questions == []
    assert any(
        "duplicate id 's-single': first defined at" in str(e) and "a.yaml:1" in str(e) for e in report.errors
    )


def test_duplicate_key_is_refused(write_bank):
    body = SAMPLE.replace(
        "  difficulty: 1\n  prompt: Which layer", "  difficulty: 1\n  difficulty: 2\n  prompt: Which layer", 1
    )
    errs = _errors(write_bank, body)
    assert any(":6: question 's-single': field 'difficulty' is given twice" in e for e in errs), errs


def test_unknown_demo_and_topic(write_bank):
    body = SAMPLE.replace("demo: pooling", "demo: no-such-demo").replace("topic: career", "topic: astrology")
    errs = _errors(write_bank, body)
    assert any("demo 'no-such-demo' is not a registered demo" in e for e in errs)
    assert any("unknown topic 'astrology'" in e for e in errs)


def test_one_broken_file_imports_nothing(write_bank):
    folder = write_bank({"good.yaml": SAMPLE, "broken.yaml": "- id: x\n  kind: nope\n"})
    report = load_bank(folder)
    assert not report.ok
    assert report.questions == []
    assert all("broken.yaml" in str(e) for e in report.errors)


def test_bad_short_pattern_and_open_without_key_points(write_bank):
    body = SAMPLE.replace("answers: ['(the )?vanishing gradients?( problem)?']", "answers: ['(unclosed']")
    body = body.replace("key_points: [Projects matter most]", "key_points: []")
    errs = _errors(write_bank, body)
    assert any("is not a valid regular expression" in e for e in errs)
    assert any("s-faq" in e and "key point" in e for e in errs)
