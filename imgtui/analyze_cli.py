"""`imgtui analyze IMAGE|ARCHIVE|REGISTRY/REPO:TAG [--json FILE] [--ci]`: what is inside an image's layers
and what they waste, without the TUI, for a terminal or a pipeline. Exit codes: 0 done (and the CI rules
passed), 1 a CI rule failed, 2 the image could not be read (one sentence on stderr)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import humanize

if TYPE_CHECKING:
    from imgtui.layers import Analysis
    from imgtui.layers.cache import LayerCache


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="imgtui analyze",
        description="Per-layer sizes and commands, wasted bytes and efficiency of an image (from the engine, "
        "or a docker save / podman save / OCI layout tar), and CI rules as dive's .dive-ci has them.",
    )
    parser.add_argument(
        "target",
        help="an image of the engine (name or ID), the path of an image archive, or REGISTRY/REPO:TAG when "
        "the engine does not have it (read without a pull)",
    )
    parser.add_argument(
        "--json", metavar="FILE", help="also write the analysis as JSON to FILE (- for stdout)"
    )
    parser.add_argument(
        "--ci", action="store_true", help="check the CI rules; exit 1 if one fails (CI=true too)"
    )
    parser.add_argument(
        "--ci-config", metavar="FILE", default=".dive-ci", help="rules file (default: %(default)s)"
    )
    parser.add_argument("--lowest-efficiency", metavar="RATIO", help="rule: fail under this efficiency (0.9)")
    parser.add_argument(
        "--highest-wasted-bytes", metavar="SIZE", help="rule: fail over this many wasted bytes"
    )
    parser.add_argument("--highest-user-wasted-percent", metavar="RATIO",
                        help="rule: wasted / bytes added over the base layer (0.1)")  # fmt: skip
    parser.add_argument(
        "--top", type=int, default=10, help="how many wasted files to list (default: %(default)s)"
    )
    parser.add_argument("-H", "--host", help="engine URL (as for imgtui)")
    parser.add_argument("--no-cache", action="store_true", help="read every layer, ignore the layer cache")
    parser.add_argument("--insecure-registry", metavar="HOST[:PORT]", action="append", default=[],
                        help="allow plain HTTP for this registry (loopback ones need no flag)")  # fmt: skip
    return parser


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    from imgtui.layers import LayerError
    from imgtui.layers.cache import LayerCache
    from imgtui.layers.report import RuleError, evaluate, read_rules, rules_text, text, to_json

    progress = _Progress() if sys.stderr.isatty() else None
    report = progress.show if progress else (lambda done: None)
    analysis: Analysis | None
    try:
        cache = None if args.no_cache else LayerCache()
        if Path(args.target).is_file():
            from imgtui.layers.sources import from_file

            analysis = from_file(args.target, None, report, cache=cache)
        else:
            analysis = _from_engine(args, cache, report)
            if analysis is None:
                remote = registry_reference(args.target)
                if remote is None:
                    return _fail(f"the engine has no image {args.target}, and it names no registry")
                from imgtui.layers.sources import from_registry
                from imgtui.registry import Registry, RegistryError

                host, repository, reference = remote
                try:
                    registry = Registry(host, insecure=host in args.insecure_registry)
                except RegistryError as exc:
                    return _fail(str(exc))
                analysis = from_registry(registry, repository, reference, cache, report)
    except (LayerError, OSError) as exc:
        return _fail(str(exc))
    except Exception as exc:  # an engine error: EngineError's sentence
        from imgtui.engine import EngineError

        if isinstance(exc, EngineError):
            return _fail(str(exc))
        raise
    finally:
        if progress:
            progress.clear()
    print(text(analysis, args.top), end="")
    if args.json:
        body = json.dumps(to_json(analysis, max(args.top, 20)), indent=2) + "\n"
        if args.json == "-":
            sys.stdout.write(body)
        else:
            Path(args.json).write_text(body)
    if not (args.ci or os.environ.get("CI", "").lower() == "true"):
        return 0
    rules = read_rules(Path(args.ci_config))
    for name in ("lowest_efficiency", "highest_wasted_bytes", "highest_user_wasted_percent"):
        given = getattr(args, name)
        if given is not None:
            rules[name] = given
    try:
        results = evaluate(analysis, rules)
    except RuleError as exc:
        return _fail(f"CI rules: {exc}")
    print("\n" + rules_text(results), end="")
    return 1 if any(r.passed is False for r in results) else 0


def _from_engine(
    args: argparse.Namespace, cache: LayerCache | None, report: Callable[[int], None]
) -> Analysis | None:
    """The engine's analysis of the target, or None when the engine has no such image (or none answers and
    the target names a registry)."""
    import docker.errors

    from imgtui.engine import Engine, EngineError

    try:
        engine = Engine.connect(args.host)
    except EngineError:
        if registry_reference(args.target) is not None:
            return None
        raise
    try:
        return engine.analyze(args.target, report, lambda: False, cache)
    except docker.errors.NotFound:
        return None
    finally:
        engine.close()


def registry_reference(target: str) -> tuple[str, str, str] | None:
    """`host[:port]/repo[:tag|@digest]` -> (host, repo, tag or digest), when the first part is a registry
    host (has a dot or a port, or is localhost); else None."""
    host, _, rest = target.partition("/")
    if not rest or not ("." in host or ":" in host or host == "localhost"):
        return None
    if "@" in rest:
        repository, _, reference = rest.partition("@")
    else:
        repository, _, tag = rest.rpartition(":") if ":" in rest else (rest, "", "latest")
        reference = tag or "latest"
    return host, repository, reference


def _fail(sentence: str) -> int:
    print(f"imgtui analyze: {sentence}", file=sys.stderr)
    return 2


class _Progress:
    def show(self, done: int) -> None:
        sys.stderr.write(f"\rreading {humanize.naturalsize(done)} …")
        sys.stderr.flush()

    def clear(self) -> None:
        sys.stderr.write("\r\033[K")
        sys.stderr.flush()
