"""`quizapp interview score`: key-point feedback on one free-text answer, for scripts and tests."""

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def _answer_text(args: argparse.Namespace) -> str | None:
    if args.answer is not None:
        return args.answer
    try:
        return Path(args.answer_file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"--answer-file: cannot read {args.answer_file}: {exc}", file=sys.stderr)
        return None


def cmd_interview_score(args: argparse.Namespace) -> int:
    from quizapp.db import read_session
    from quizapp.interview import keypoints
    from quizapp.questions import get_question

    with read_session() as session:
        q = get_question(session=session, question_id=args.question_id)
    if q is None:
        print(f"no question {args.question_id!r} (see `quizapp bank list`)", file=sys.stderr)
        return 2
    if not q.data.get("key_points"):
        print(f"question {q.id!r} is {q.type}, with no key points to score against", file=sys.stderr)
        return 2
    text = _answer_text(args)
    if text is None:
        return 2
    try:
        result = keypoints.score_answer(q.data, text)
    except keypoints.AnswerRefused as exc:
        print(f"answer refused: {exc}", file=sys.stderr)
        return 1
    except keypoints.ModelUnavailable as exc:
        print(f"{exc}; install the interview extra: pip install -e '.[interview]'", file=sys.stderr)
        return 1
    payload = result.as_json(q.id)
    if args.json:
        print(json.dumps(payload, indent=2, ensure_ascii=False))
        return 0
    print(
        f"{q.id}: {payload['coverage']:.0%} of the key points covered"
        + "".join(f" [{f}]" for f in result.flags)
    )
    for k in payload["key_points"]:
        print(
            f"  [{'x' if k['covered'] else ' '}] {k['text']}"
            + (f"\n      evidence: {k['evidence']}" if k["evidence"] else "")
        )
    return 0


def add_commands(sub: Any) -> None:
    iv = sub.add_parser("interview", help="mock interviews: key-point feedback").add_subparsers(
        dest="interview_command", required=True
    )
    s = iv.add_parser("score", help="which key points of QUESTION_ID an answer covers")
    s.add_argument("question_id")
    src = s.add_mutually_exclusive_group(required=True)
    src.add_argument("--answer", help="the answer text")
    src.add_argument("--answer-file", help="a UTF-8 file holding the answer")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_interview_score)
