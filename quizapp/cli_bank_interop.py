"""`quizapp bank import|export`: GIFT / Moodle XML in, GIFT / Moodle XML / Anki out (DESIGN.md contract).

import: the questions become the `--owner`'s own (required: the public bank is the YAML files in
questions/, which `quizapp init` syncs, so an import never writes into it). One transaction; exit 1
and nothing imported when the file cannot be read or any question is refused; `--dry-run` reports
what would be imported and writes nothing. export: the public bank, or with `--owner` that
instructor's active questions (published or not).
"""

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from quizapp.cli_review import UsageError, usage_errors


def _out(obj: Any) -> None:
    print(json.dumps(obj, indent=2, ensure_ascii=False, default=str))


def _owner(session: Any, username: str) -> Any:
    from quizapp.identity import AccessDenied
    from quizapp.owned_questions import find_owner

    try:
        return find_owner(session=session, username=username)
    except (LookupError, AccessDenied) as exc:
        raise UsageError(f"--owner: {exc.args[0]}") from None


def _topic(raw: str | None) -> str | None:
    from quizapp.bank.schema import TOPICS

    if raw is not None and raw not in TOPICS:
        raise UsageError(f"--topic: unknown topic {raw!r}; known topics: {', '.join(TOPICS)}")
    return raw


def _print_report(report: Any, verb: str) -> None:
    for row in report.refused:
        print(f"refused: {row['question']}: {row['reason']}", file=sys.stderr)
    for row in report.skipped:
        print(f"skipped: {row['question']}: {row['reason']}")
    for note in report.notices:
        print(f"note: {note}")
    if report.refused:
        print(f"{len(report.refused)} question(s) refused; nothing was imported.", file=sys.stderr)
        return
    for q in report.questions:
        print(f"{q['status']}: {q['id']} ({q['type']}) {q['title']}")
    print(f"{report.imported} question(s) {verb}, {len(report.skipped)} skipped")


def cmd_bank_import(args: argparse.Namespace) -> int:
    from quizapp.db import write_session
    from quizapp.owned_questions import ImportReport, OwnedQuestionError, import_file

    if not args.owner:
        raise UsageError(
            "--owner USER is required: imported questions belong to an instructor. The public bank is "
            "the YAML files in questions/ (quizapp init syncs them)."
        )
    topic = _topic(args.topic)
    path = Path(args.file)
    if not path.is_file():
        raise UsageError(f"{path}: no such file")
    with write_session() as session:
        actor = _owner(session, args.owner)
        try:
            report = import_file(
                session=session,
                actor=actor,
                data=path.read_bytes(),
                fmt=args.format,
                source=path.name,
                encoding=args.encoding,
                topic=topic,
                dry_run=args.dry_run,
            )
        except OwnedQuestionError as exc:
            report = ImportReport(refused=[{"question": path.name, "line": None, "reason": str(exc)}])
        if report.refused:
            session.rollback()
    if args.json:
        _out(report.as_json())
    else:
        _print_report(report, "would be imported (dry run)" if args.dry_run else "imported")
    return 1 if report.refused else 0


def cmd_bank_export(args: argparse.Namespace) -> int:
    from quizapp.db import read_session
    from quizapp.owned_questions import export_bytes, export_questions

    topic = _topic(args.topic)
    with read_session() as session:
        owner_id = _owner(session, args.owner).user_id if args.owner else None
        questions = export_questions(session=session, owner_id=owner_id, topic=topic)
    if not questions:
        print("no questions to export (check --owner and --topic)", file=sys.stderr)
        return 1
    deck = f"quizapp {args.owner}" if args.owner else "quizapp"
    data = export_bytes(questions, args.format, deck_name=deck)
    out = Path(args.out)
    out.write_bytes(data)
    if args.json:
        _out({"format": args.format, "out": str(out), "questions": len(questions), "bytes": len(data)})
    else:
        print(f"wrote {len(questions)} question(s) to {out} ({args.format}, {len(data)} bytes)")
    return 0


def add_commands(bank: Any) -> None:
    """Register `bank import` and `bank export` under the `bank` subcommands."""
    s = bank.add_parser("import", help="import a GIFT or Moodle XML file as an instructor's questions")
    s.add_argument("file")
    s.add_argument("--format", required=True, choices=["gift", "moodle-xml"])
    s.add_argument("--owner", metavar="USER", help="the instructor who will own them (required)")
    s.add_argument("--topic", help="topic for questions whose category names none")
    s.add_argument("--encoding", help="the file's text encoding (default: UTF-8, else Windows-1252)")
    s.add_argument("--dry-run", action="store_true", help="report what would be imported; write nothing")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=usage_errors(cmd_bank_import))
    s = bank.add_parser("export", help="write questions as GIFT, Moodle XML or an Anki package")
    s.add_argument("--format", required=True, choices=["gift", "moodle-xml", "apkg"])
    s.add_argument("--out", required=True, metavar="FILE")
    s.add_argument("--topic")
    s.add_argument("--owner", metavar="USER", help="that instructor's questions (default: the public bank)")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=usage_errors(cmd_bank_export))
