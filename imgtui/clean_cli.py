"""`imgtui clean`: a cleanup policy applied without the TUI, for cron and systemd timers.

Prints the plan (what goes, why, the bytes it frees, what is skipped and why); `--yes` applies it and prints
each engine answer. Exit codes: 0 done (or only previewed), 1 something failed (the engine refused an
image, or changed between the plan and applying it), 2 bad input or no engine, 3 another `imgtui clean` of
this engine holds the lock.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from imgtui.cleanup import Plan, Policy
    from imgtui.engine import Engine

DONE, FAILED, BAD_INPUT, LOCKED = 0, 1, 2, 3

EPILOG = """\
A name stays when it matches a --protect pattern, when its image is among the newest --keep images of its
repository (by created time), or when its image was used within --unused-days days (uses are the engine's
events seen while imgtui runs; else the created time stands in). Every other name goes when --keep or
--unused-days is given; with neither, only dangling images go (the default). Images that containers use
(running or stopped) are skipped. --until-free then removes least recently used images until that many
bytes are freed, as imgtui counts them (README "Sizes on both image stores").

Several engines (--host more than once, --fleet FILE, --all-contexts): one plan per engine, in the order
given, each applied under its own lock; an engine that cannot be reached fails on its own, the others go on.

exit codes: 0 done, 1 something failed (on any engine), 2 bad input or no engine, 3 locked (another
run of this engine)
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="imgtui clean",
        description="Remove images by a policy: print the plan; --yes applies it.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--policy",
        metavar="FILE",
        type=Path,
        help='a JSON policy file: {"keep": 3, "unused_days": 30, "protect": ["app"]}',
    )
    parser.add_argument("--keep", metavar="N", type=int, help="keep the newest N images of each repository")
    parser.add_argument(
        "--unused-days", metavar="D", type=float, help="remove images not used for more than D days"
    )
    parser.add_argument(
        "--protect",
        metavar="PATTERN",
        action="append",
        default=[],
        help="never remove names matching this glob (repo:tag or repo); repeatable",
    )
    parser.add_argument(
        "--until-free",
        metavar="SIZE",
        help="then remove least recently used images until SIZE is freed (10GB)",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--dry-run", action="store_true", help="print the plan, remove nothing")
    mode.add_argument("--yes", action="store_true", help="apply the plan")
    parser.add_argument("--json", action="store_true", help="print the plan (and answers) as JSON")
    parser.add_argument(
        "-H",
        "--host",
        action="append",
        default=[],
        help="engine URL (as for imgtui); repeatable: each engine gets its own plan, applied in turn",
    )
    parser.add_argument("-c", "--context", metavar="NAME", help="the docker context to use (as for imgtui)")
    parser.add_argument(
        "--fleet",
        metavar="FILE",
        type=Path,
        help="clean every engine listed in FILE (one address or context:NAME a line, # comments)",
    )
    parser.add_argument(
        "--all-contexts", action="store_true", help="clean the engine of every docker context"
    )
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for one engine request")
    return parser


def main(argv: list[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)  # bad flags: argparse says so and exits 2
    from imgtui.cleanup import Locked, PolicyError, cleanup_lock

    try:
        policy = _policy(args)
    except PolicyError as exc:
        return _fail(str(exc), BAD_INPUT)
    if len(args.host) > 1 or args.fleet is not None or args.all_contexts:
        return _fleet(policy, args)
    from imgtui.engine import Engine, EngineError

    try:
        engine = Engine.connect(
            args.host[0] if args.host else None, timeout=args.timeout, context=args.context
        )
    except EngineError as exc:
        return _fail(str(exc), BAD_INPUT)
    try:
        if not args.yes:
            return _preview(engine, policy, args)
        try:
            with cleanup_lock(engine.info.host):
                return _apply(engine, policy, args)
        except Locked as exc:
            return _fail(str(exc), LOCKED)
        except OSError as exc:
            return _fail(f"cannot take the cleanup lock: {exc}", BAD_INPUT)
    except EngineError as exc:
        return _fail(str(exc), FAILED if args.yes else BAD_INPUT)
    finally:
        engine.close()


def _fleet(policy: Policy, args: argparse.Namespace) -> int:
    """Several engines: connected through the fleet's bounded pool (a timeout each), then one section per
    engine, in the order given, each applied under its own lock; an engine that fails does not stop the
    others, and the exit code says that one did (stderr names which)."""
    import contextlib
    import io

    from imgtui.cleanup import Locked, cleanup_lock
    from imgtui.engine import EngineError
    from imgtui.fleet import Fleet, FleetError, gather

    if args.context:
        return _fail("give the engines with --host, --fleet or --all-contexts (context:NAME), not --context",
                     BAD_INPUT)  # fmt: skip
    try:
        specs = gather(args.host, args.fleet, args.all_contexts)
    except FleetError as exc:
        return _fail(str(exc), BAD_INPUT)
    fleet = Fleet(specs, timeout=args.timeout)
    failed: list[str] = []
    documents: list[dict[str, object]] = []
    try:
        for spec, engine, error in fleet.connect():
            out = io.StringIO()
            code = DONE
            with contextlib.redirect_stdout(out) if args.json else contextlib.nullcontext():
                if engine is None:
                    code = FAILED
                    if not args.json:
                        print(f"Cleanup of {spec.label}: {error}.")
                else:
                    try:
                        if args.yes:
                            with cleanup_lock(engine.info.host):
                                code = _apply(engine, policy, args)
                        else:
                            code = _preview(engine, policy, args)
                    except Locked as exc:
                        error, code = str(exc), LOCKED
                    except (EngineError, OSError) as exc:
                        error, code = str(exc), FAILED
                    if error is not None and not args.json:
                        print(f"Cleanup of {spec.label}: {error}.")
            if args.json:
                said = out.getvalue().strip()
                document: dict[str, object] = json.loads(said) if said else {}
                documents.append({"engine": spec.label, **document, "error": error})
            if code != DONE:
                failed.append(f"{spec.label} ({error})" if error else spec.label)
            if not args.json:
                print(flush=True)
    finally:
        fleet.close()
    if args.json:
        print(json.dumps({"engines": documents}, indent=2))
    if failed:
        return _fail(f"{len(failed)} of {len(specs)} engines failed: {'; '.join(failed)}", FAILED)
    return DONE


def _policy(args: argparse.Namespace) -> Policy:
    from imgtui.cleanup import Policy, PolicyError, from_file, parse_size

    flags = args.keep is not None or args.unused_days is not None or args.protect
    until = parse_size(args.until_free, "--until-free") if args.until_free is not None else None
    if args.policy is not None:
        if flags:
            raise PolicyError("give either --policy FILE or --keep / --unused-days / --protect, not both")
        policy = from_file(args.policy)
        if until is not None:
            policy = Policy(policy.keep, policy.unused_days, policy.protect, until)
        return policy
    return Policy(args.keep, args.unused_days, tuple(args.protect), until)


def _plan(engine: Engine, policy: Policy) -> Plan:
    from imgtui.cleanup import UsageLog, plan_for

    uses = UsageLog(engine.info.host).load()
    return plan_for(engine, policy, uses)


def _preview(engine: Engine, policy: Policy, args: argparse.Namespace) -> int:
    plan = _plan(engine, policy)
    if args.json:
        print(json.dumps({"engine": engine.info.host, **plan.to_json()}, indent=2))
        return DONE
    print(plan_text(plan, engine.info.host), end="")
    if args.dry_run:
        print("Dry run: nothing was removed.")
    elif plan.items:
        print("Nothing was removed: pass --yes to apply this plan.")
    return DONE


def _apply(engine: Engine, policy: Policy, args: argparse.Namespace) -> int:
    from imgtui.cleanup import run_plan
    from imgtui.engine import PlanChanged

    plan = _plan(engine, policy)
    host = engine.info.host
    if not args.json:
        print(plan_text(plan, host), end="", flush=True)
    answers: list[dict[str, str]] = []
    failed = False
    reclaimed = 0
    if plan.items:
        before = engine.disk_usage()
        try:
            for line in run_plan(engine, plan):
                failed |= line.kind == "error"
                answers.append({"kind": line.kind, "text": line.text})
                if not args.json:
                    print(line.text, flush=True)
        except PlanChanged as changed:
            return _fail(f"{changed}; run it again to see the new plan", FAILED)
        reclaimed = max(before - engine.disk_usage(), 0)
    if args.json:
        body = {"engine": host, **plan.to_json(), "answers": answers, "reclaimed_bytes": reclaimed}
        print(json.dumps(body, indent=2))
    elif plan.items:
        from imgtui.cleanup.plan import size

        said = f"the plan said {'about ' if plan.about else ''}{plan.freed} bytes"
        print(f"Reclaimed {size(reclaimed)} ({reclaimed} bytes) of disk, as imgtui counts it; {said}."
              + (" Some removals failed (above)." if failed else ""))  # fmt: skip
    return FAILED if failed else DONE


def plan_text(plan: Plan, host: str) -> str:
    """The plan for a terminal or a log: one block per image, then the totals."""
    from imgtui.cleanup.plan import size

    lines = [f"Cleanup of {host}: {plan.policy.describe()}."]
    for item in plan.items:
        verb = "delete" if item.deletes else "untag "
        frees = f"frees {'about ' if plan.about else ''}{size(item.freed)}" if item.deletes else "frees 0 B"
        lines.append(f"{verb} {item.image.short_id}  {item.label}  ({frees}; {item.last_used})")
        lines += [f"         {reason}" for reason in item.reasons]
    for skip in plan.skipped:
        names = ", ".join(skip.names) or "<none>"
        lines.append(f"skip   {skip.image.short_id}  {names}  ({skip.why})")
    if plan.kept:
        lines.append(f"{len(plan.kept)} name{'' if len(plan.kept) == 1 else 's'} kept.")
    lines.append(plan.summary() + ".")
    if plan.about:
        lines.append("About: on the containerd image store the bytes are imgtui's estimate (each layer is "
                     "kept unpacked and compressed).")  # fmt: skip
    return "\n".join(lines) + "\n"


def _fail(sentence: str, code: int) -> int:
    print(f"imgtui clean: {sentence}", file=sys.stderr)
    return code
