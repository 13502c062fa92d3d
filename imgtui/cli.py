"""`imgtui`: connect the way the docker CLI does, or say in one line why not."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from imgtui import __version__

EPILOG = """\
The engine is found like the docker CLI finds it: --context, else --host, else DOCKER_HOST (with
DOCKER_TLS_VERIFY and DOCKER_CERT_PATH for tcp://), else DOCKER_CONTEXT or the current docker context
(`docker context use`), else unix:///var/run/docker.sock. E in the images view switches to another context.
ssh://[user@]host[:port] runs `ssh ... docker system dial-stdio` with your ssh client, keys and
~/.ssh/config, never asking for a password (IMGTUI_SSH_COMMAND replaces `ssh`, e.g. `ssh -F FILE`).

`imgtui analyze IMAGE|ARCHIVE [--json FILE] [--ci]` prints what is inside an image's layers and what they
waste, without the TUI (imgtui analyze --help).
`imgtui clean [--keep N] [--unused-days D] [--protect PATTERN] [--dry-run | --yes]` removes images by a
policy, for cron and systemd timers (imgtui clean --help).

No engine on this machine? `python -m imgtui.sandbox demo` starts a private one with demo images.
Several engines: --host more than once, --fleet FILE or --all-contexts opens the fleet view (F in the
images view): each engine's images, dangling images and reclaimable bytes, / finds an image on every
engine, D prunes their dangling images engine by engine. `imgtui clean` takes the same engine list.

Keys: tab moves between panes, enter opens, / filters, r reloads, R browses a registry, ? lists every key,
q quits.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="imgtui",
        description="Explore and clean up Docker images and their layers from the keyboard.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "-H",
        "--host",
        action="append",
        default=[],
        help="engine URL: unix:///path, tcp://host:2376, ssh://user@host; more than once: the fleet view",
    )
    parser.add_argument(
        "-c", "--context", metavar="NAME", help="the docker context to use (docker context ls)"
    )
    parser.add_argument(
        "--registry",
        metavar="URL",
        help="open the registry view on this registry (HOST[:PORT] or https://HOST)",
    )
    parser.add_argument(
        "--insecure-registry",
        metavar="HOST[:PORT]",
        action="append",
        default=[],
        help="allow plain HTTP / unverified TLS for this registry (loopback ones need no flag); repeatable",
    )
    parser.add_argument(
        "--fleet",
        metavar="FILE",
        type=Path,
        help="open the fleet view on the engines of FILE (one address or context:NAME a line, # comments)",
    )
    parser.add_argument(
        "--all-contexts",
        action="store_true",
        help="open the fleet view on every docker context's engine",
    )
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for one engine request")
    parser.add_argument("--version", action="version", version=f"imgtui {__version__}")
    return parser


def main(argv: list[str] | None = None) -> int:
    given = sys.argv[1:] if argv is None else argv
    if given[:1] == ["analyze"]:
        from imgtui.analyze_cli import main as analyze

        return analyze(given[1:])
    if given[:1] == ["clean"]:
        from imgtui.clean_cli import main as clean

        return clean(given[1:])
    args = build_parser().parse_args(given)
    from imgtui.engine import Engine, EngineUnavailable

    if len(args.host) > 1 or args.fleet is not None or args.all_contexts:
        return fleet_main(args)
    try:
        engine = Engine.connect(
            args.host[0] if args.host else None, timeout=args.timeout, context=args.context
        )
    except EngineUnavailable as exc:
        print(f"imgtui: {exc}", file=sys.stderr)
        if "ssh://" not in str(exc) and not args.context:  # ssh's and a context's reasons say it all
            print("imgtui: start dockerd, set DOCKER_HOST or pass --host; or try the sandbox: "
                  "python -m imgtui.sandbox demo", file=sys.stderr)  # fmt: skip
        return 2
    from imgtui.ui.app import ImgtuiApp

    app = ImgtuiApp(engine, registry=args.registry, insecure_registries=args.insecure_registry)
    try:
        app.run()
    finally:
        app.engine.close()  # the engine in use at the end (`E` may have switched; the app closed the others)
    return app.return_code or 0  # 129 when the terminal hung up


def fleet_main(args: argparse.Namespace) -> int:
    """The fleet view first; the images view under it is the first engine of the list that answers."""
    from imgtui.fleet import Fleet, FleetError, gather

    if args.context:
        print("imgtui: give the fleet's engines with --host, --fleet or --all-contexts (context:NAME), "
              "not --context", file=sys.stderr)  # fmt: skip
        return 2
    try:
        specs = gather(args.host, args.fleet, args.all_contexts)
    except FleetError as exc:
        print(f"imgtui: {exc}", file=sys.stderr)
        return 2
    fleet = Fleet(specs, timeout=min(args.timeout, 30.0))
    answered = fleet.connect()
    engine = next((e for _, e, _ in answered if e is not None), None)
    if engine is None:
        for spec, _, why in answered:
            print(f"imgtui: {spec.label}: {why}", file=sys.stderr)
        print("imgtui: no engine of the fleet answered", file=sys.stderr)
        fleet.close()
        return 2
    from imgtui.engine import Engine
    from imgtui.ui.app import ImgtuiApp

    assert engine.endpoint is not None  # the images view gets an engine of its own: the fleet's is shared
    own = Engine.connect_endpoint(engine.endpoint, args.timeout)
    app = ImgtuiApp(own, registry=args.registry, insecure_registries=args.insecure_registry, fleet=fleet)
    try:
        app.run()
    finally:
        app.engine.close()
        fleet.close()
    return app.return_code or 0  # 129 when the terminal hung up
