"""`quizapp demo warm` and `quizapp worker` (the demo commands beyond list and run)."""

from __future__ import annotations

import argparse
import json
import sys


def cmd_demo_warm(args: argparse.Namespace) -> int:
    from demos import registry
    from quizapp.demo_warm import warm

    if args.slug is not None:
        try:
            registry.info(args.slug)
        except registry.UnknownDemo as exc:
            print(str(exc), file=sys.stderr)
            return 2
    items = []

    def show(item) -> None:  # type: ignore[no-untyped-def]
        items.append(item)
        if args.json:
            return
        preset = json.dumps(item.params, sort_keys=True, separators=(",", ":"))
        if item.error:
            print(f"failed   {item.slug} {preset}: {item.error}", flush=True)
        elif item.stored:
            print(f"stored   {item.slug} {preset} ({item.elapsed_s:.2f} s)", flush=True)
        else:
            print(f"present  {item.slug} {preset}", flush=True)

    warm([args.slug] if args.slug else None, device=args.device, on_item=show)
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "demo": i.slug,
                        "params": i.params,
                        "stored": i.stored,
                        "elapsed_s": round(i.elapsed_s, 4),
                        "error": i.error,
                    }
                    for i in items
                ],
                indent=2,
            )
        )
    else:
        ran = sum(i.stored for i in items)
        failed = sum(bool(i.error) for i in items)
        print(f"{ran} run(s) stored, {len(items) - ran - failed} already stored, {failed} failed")
    return 1 if any(i.error for i in items) else 0


def cmd_worker(args: argparse.Namespace) -> int:
    from quizapp.demo_jobs import QueueUnavailable, run_worker

    try:
        return run_worker(burst=args.burst, name=args.name)
    except QueueUnavailable as exc:
        print(str(exc), file=sys.stderr)
        return 2


def add_demo_commands(demo: argparse._SubParsersAction, top: argparse._SubParsersAction) -> None:
    s = demo.add_parser("warm", help="run and store every demo's defaults and every linked preset")
    s.add_argument("--slug", help="only this demo")
    s.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"])
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_demo_warm)

    s = top.add_parser("worker", help="run demo jobs from the Redis queue (QUIZAPP_REDIS_URL)")
    s.add_argument("--burst", action="store_true", help="stop when the queue is empty")
    s.add_argument("--name", help="worker name (default: host and process id)")
    s.set_defaults(func=cmd_worker)
