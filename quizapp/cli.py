"""The `quizapp` command: init, serve, bank, demo, user (see DESIGN.md for the contract)."""

import argparse
import getpass
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

from quizapp.cli_bank_interop import add_commands as add_bank_interop_commands
from quizapp.cli_demos import add_demo_commands
from quizapp.cli_instructor import add_commands
from quizapp.cli_interview import add_commands as add_interview_commands
from quizapp.cli_review import add_commands as add_review_commands
from quizapp.config import get_settings

# The Streamlit app and the /auth/ routes on one server (st.App in server.py).
UI_APP = Path(__file__).resolve().parent / "ui" / "server.py"


def _out(obj: Any) -> None:
    print(json.dumps(obj, indent=2, ensure_ascii=False, default=str))


def _load(path: Path):  # -> LoadReport
    from quizapp.bank.loader import load_bank

    return load_bank(path)


def _print_errors(report) -> None:  # type: ignore[no-untyped-def]
    for err in report.errors:
        print(err, file=sys.stderr)
    print(f"{len(report.errors)} problem(s) in the question files; nothing was imported.", file=sys.stderr)


def cmd_init(args: argparse.Namespace) -> int:
    from quizapp.bank.sync import sync_bank
    from quizapp.db import write_session
    from quizapp.devices import purge
    from quizapp.migrate import upgrade

    settings = get_settings()
    upgrade(settings.database_url)
    print(f"database ready: {_safe_url(settings.database_url)}")
    report = _load(Path(args.questions) if args.questions else settings.questions_dir)
    if not report.ok:
        _print_errors(report)
        return 1
    with write_session() as session:
        result = sync_bank(session=session, loaded=report.questions)
        purge(session=session)
    print(f"question bank synced from {len(report.files)} file(s): {result.summary()}")
    return 0


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


# Per-run costs that no user needs in production (measured in README's performance section): the full
# garbage collection Streamlit runs after every script run, and watching every loaded module's file.
PRODUCTION_FLAGS = ["--runner.postScriptGC=false", "--server.fileWatcherType=none", "--server.runOnSave=false"]


def serve_command(streamlit_args: list[str]) -> list[str]:
    """The streamlit command line `quizapp serve` runs; `--dev` (or QUIZAPP_DEV=1) keeps Streamlit's
    development defaults: reload on file change, a collection after each run."""
    args = list(streamlit_args)
    dev = "--dev" in args or os.environ.get("QUIZAPP_DEV", "") in ("1", "true")
    args = [a for a in args if a != "--dev"]
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(UI_APP),
        "--server.headless=true",
        "--server.enableXsrfProtection=true",
        "--browser.gatherUsageStats=false",
        *([] if dev else PRODUCTION_FLAGS),
        *args,
    ]


def cmd_serve(args: argparse.Namespace) -> int:
    cmd = serve_command(args.streamlit_args)
    sys.stdout.flush()
    # Become streamlit (no child process): a signal sent to `quizapp serve` reaches the server itself.
    os.execv(sys.executable, cmd)
    return 0  # not reached


def cmd_bank_validate(args: argparse.Namespace) -> int:
    report = _load(Path(args.path) if args.path else get_settings().questions_dir)
    if not report.ok:
        for err in report.errors:
            print(err)
        print(f"{len(report.errors)} problem(s) found.", file=sys.stderr)
        return 1
    print(f"ok: {len(report.questions)} questions in {len(report.files)} file(s)")
    return 0


def _bank_row(view) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    d = view.data
    row = {
        "id": view.id,
        "kind": view.kind,
        "type": view.type,
        "topic": view.topic,
        "difficulty": view.difficulty,
        "prompt": d["prompt"],
        "answer": d.get("answer") if d.get("answer") is not None else d.get("answers"),
        "explanation": d["explanation"],
        "demo": d.get("demo"),
        "demo_params": d.get("demo_params"),
    }
    for extra in ("choices", "tolerance", "key_points", "tags"):
        if d.get(extra) is not None:
            row[extra] = d[extra]
    row["version"] = view.version
    return row


def cmd_bank_list(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from quizapp.db import read_session
    from quizapp.questions import list_questions

    try:
        with read_session() as session:
            views = list_questions(session=session)
    except (OperationalError, ProgrammingError):
        print("the database has no question bank yet: run `quizapp init` first", file=sys.stderr)
        return 1
    if args.json:
        _out([_bank_row(v) for v in views])
    else:
        for v in views:
            first = v.prompt.strip().splitlines()[0] if v.prompt.strip() else ""
            print(f"{v.id:48} {v.kind:9} {v.type:9} {v.topic:28} d{v.difficulty}  {first[:70]}")
        print(f"{len(views)} active question(s)")
    return 0


def cmd_demo_list(args: argparse.Namespace) -> int:
    from demos import registry

    items = registry.describe_all()
    if args.json:
        _out(items)
        return 0
    for d in items:
        state = "" if d["available"] else "  (not built yet)"
        print(f"{d['slug']:26} {d['title']}{state}")
        for k in d["knobs"]:
            bounds = f"{k['min']}..{k['max']}" if k["min"] is not None or k["max"] is not None else ""
            opts = "|".join(map(str, k["options"])) if k["options"] else ""
            print(f"    {k['name']:16} default={k['default']!s:22} {bounds or opts:28} {k['description']}")
    return 0


def cmd_demo_run(args: argparse.Namespace) -> int:
    from demos import registry, runtime

    values: dict[str, str] = {}
    for item in args.set:
        if "=" not in item:
            print(f"--set {item!r}: write KNOB=VALUE (lists comma-separated)", file=sys.stderr)
            return 2
        key, value = item.split("=", 1)
        values[key.strip()] = value.strip()
    try:
        params = registry.parse_params(args.slug, values)
    except registry.UnknownDemo as exc:
        print(str(exc).strip("'\""), file=sys.stderr)
        return 2
    except registry.KnobError as exc:
        print(f"{args.slug}: {exc}", file=sys.stderr)
        return 2
    if args.budget is not None and not args.budget > 0:
        print("--budget must be a number of seconds above 0", file=sys.stderr)
        return 2
    store = None
    if args.stored:
        from quizapp.demo_store import DbResultStore

        store = DbResultStore()
    from demos import cost

    warning = cost.budget_warning(args.slug, params, args.budget or 0)
    if warning:
        print(f"{args.slug}: {warning}", file=sys.stderr)
    try:
        key = runtime.run_key(args.slug, params, seed=args.seed, device=args.device)
        if store is None or runtime.lookup(key, store=store) is None:
            runtime.warm_up()  # torch's one-off costs, paid by a server at start-up: not the run's time
        # The time budget protects a shared server; a run from the command line may take what it needs
        # unless --budget says otherwise.
        outcome = runtime.run_demo(
            args.slug,
            params,
            seed=args.seed,
            device=args.device,
            use_cache=store is not None,
            store=store,
            budget_s=args.budget or 0,
        )
    except runtime.DeviceUnavailable as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except runtime.Cancelled as exc:
        print(f"{args.slug}: {exc}", file=sys.stderr)
        return 1
    payload = runtime.outcome_json(outcome)
    if args.json:
        _out(payload)
        return 0
    print(f"{args.slug}: {outcome.message}")
    for k, v in payload["metrics"].items():
        print(f"  {k}: {v}")
    for c in payload["claims"]:
        mark = "not checked" if c["holds"] is None else "holds" if c["holds"] else "FAILS"
        print(f"  [{mark}] {c['statement']}")
    return 0


def cmd_user_add(args: argparse.Namespace) -> int:
    from quizapp.auth import AccountError, create_user
    from quizapp.db import write_session

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            print("the passwords differ; nothing was created", file=sys.stderr)
            return 1
    try:
        with write_session() as session:
            user = create_user(session=session, username=args.username, role=args.role, password=password)
            print(f"created {user.role} {user.username!r} (id {user.id})")
    except AccountError as exc:
        print(f"cannot add user: {exc}", file=sys.stderr)
        return 1
    return 0


def cmd_user_passwd(args: argparse.Namespace) -> int:
    from quizapp.accounts import set_password
    from quizapp.auth import AccountError
    from quizapp.db import write_session

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("New password: ")
        if getpass.getpass("Again: ") != password:
            print("the passwords differ; nothing was changed", file=sys.stderr)
            return 1
    try:
        with write_session() as session:
            set_password(session=session, username=args.username, password=password)
    except LookupError as exc:
        print(str(exc).strip("'\""), file=sys.stderr)
        return 2
    except AccountError as exc:
        print(f"cannot change the password: {exc}", file=sys.stderr)
        return 1
    print(f"password changed for {args.username!r}; their sessions are signed out")
    return 0


def cmd_user_unlock(args: argparse.Namespace) -> int:
    from quizapp.accounts import unlock
    from quizapp.db import write_session

    try:
        with write_session() as session:
            was = unlock(session=session, username=args.username)
    except LookupError as exc:
        print(str(exc).strip("'\""), file=sys.stderr)
        return 2
    print(f"unlocked {args.username!r}" if was else f"{args.username!r} was not locked")
    from quizapp.throttle import shared

    if not shared():
        print(
            "note: without QUIZAPP_REDIS_URL each server process keeps its own sign-in delays, out of reach "
            "here: an admin clears them on the Users page, and they end by themselves "
            "(QUIZAPP_THROTTLE_MAX_DELAY, 900 s at most).",
            file=sys.stderr,
        )
    return 0


def cmd_purge(args: argparse.Namespace) -> int:
    from quizapp.db import write_session
    from quizapp.devices import purge

    try:
        with write_session() as session:
            report = purge(session=session)
    except ValueError as exc:  # a bad QUIZAPP_ANON_DAYS
        print(str(exc), file=sys.stderr)
        return 2
    if args.json:
        _out(report.as_dict())
        return 0
    r = report
    print(
        f"purged {r.devices} expired anonymous browser(s) and {r.orphans} idle identity(ies) without one: "
        f"{r.attempts} attempt(s), {r.answers} answer(s), {r.review_cards} review card(s), "
        f"{r.review_logs} review log row(s), {r.settings} setting(s), {r.bookmarks} bookmark(s); "
        f"{r.sessions} expired sign-in session(s) and claim(s)"
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="quizapp", description="Deep-learning interview practice with live demos."
    )
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("init", help="create/upgrade the database and sync questions/")
    s.add_argument("--questions", help="question folder (default: ./questions or QUIZAPP_QUESTIONS_DIR)")
    s.set_defaults(func=cmd_init)

    s = sub.add_parser("serve", help="start the web app (extra arguments go to streamlit)")
    s.add_argument("streamlit_args", nargs=argparse.REMAINDER)
    s.set_defaults(func=cmd_serve)

    bank = sub.add_parser("bank", help="the question bank").add_subparsers(dest="bank_command", required=True)
    s = bank.add_parser("validate", help="check question files; print file:line: message per problem")
    s.add_argument("path", nargs="?")
    s.set_defaults(func=cmd_bank_validate)
    s = bank.add_parser("list", help="every active question")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_bank_list)
    add_bank_interop_commands(bank)  # bank import, bank export

    demo = sub.add_parser("demo", help="live demos").add_subparsers(dest="demo_command", required=True)
    s = demo.add_parser("list", help="slug, title, topics and knobs")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_demo_list)
    s = demo.add_parser("run", help="run one demo")
    s.add_argument("slug")
    s.add_argument("--set", action="append", default=[], metavar="KNOB=VALUE")
    s.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"])
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--budget", type=float, metavar="SECONDS", help="stop the run after this many seconds")
    s.add_argument("--stored", action="store_true", help="answer from stored results; store a finished run")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_demo_run)
    add_demo_commands(demo, sub)  # demo warm, worker

    user = sub.add_parser("user", help="accounts").add_subparsers(dest="user_command", required=True)
    s = user.add_parser("add", help="add a user")
    s.add_argument("username")
    s.add_argument("--role", required=True, choices=["learner", "instructor", "admin"])
    s.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    s.set_defaults(func=cmd_user_add)
    s = user.add_parser("passwd", help="set a user's password (clears a lockout, signs them out)")
    s.add_argument("username")
    s.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    s.set_defaults(func=cmd_user_passwd)
    s = user.add_parser("unlock", help="clear a sign-in lockout")
    s.add_argument("username")
    s.set_defaults(func=cmd_user_unlock)

    s = sub.add_parser("purge", help="drop expired anonymous identities and sessions")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_purge)

    add_commands(sub)  # sample-data, export gradebook|responses, stats items
    add_review_commands(sub)  # review due|answer
    add_interview_commands(sub)  # interview score
    return p


def main(argv: list[str] | None = None) -> int:
    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `quizapp bank list --json | head` ends quietly
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["serve"] and not {"-h", "--help"} & set(argv[1:]):
        # Everything after `serve` belongs to streamlit, options included.
        return cmd_serve(argparse.Namespace(streamlit_args=argv[1:]))
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
