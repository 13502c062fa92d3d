"""`python -m imgtui.sandbox start|stop|seed|status|destroy|demo`."""

from __future__ import annotations

import argparse
import os
import sys

from imgtui.sandbox import DEFAULT_STATE, ENGINES, Sandbox, SandboxError, default_state


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m imgtui.sandbox",
        description="A private Docker engine (+ registry on 127.0.0.1) for imgtui demos and tests. "
        "It never touches /var/run/docker.sock.",
    )
    parser.add_argument(
        "--engine",
        choices=list(ENGINES),
        help="which engine: "
        + "; ".join(f"{name}: {what}" for name, what in ENGINES.items())
        + " (default: the one the state folder was started with, else dockerd)",
    )
    parser.add_argument(
        "--state",
        help=f"state folder (default: {DEFAULT_STATE}, or {DEFAULT_STATE}-ENGINE for the other engines)",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    start = sub.add_parser("start", help="start dockerd and the registry; print the DOCKER_HOST to use")
    start.add_argument("--seed", action="store_true", help="also create the demo images")
    sub.add_parser("seed", help="create the demo images (starts the sandbox if needed)")
    sub.add_parser(
        "ssh",
        help="start an sshd on 127.0.0.1 in front of the engine; print how imgtui reaches it over ssh://",
    )
    sub.add_parser("stop", help="stop dockerd, the registry and the sshd")
    sub.add_parser("destroy", help="stop, then delete the state folder")
    sub.add_parser("status", help="what runs, where")
    demo = sub.add_parser(
        "demo",
        help="run imgtui: on this machine's engine if one answers, else on the sandbox with demo images",
    )
    demo.add_argument("--sandbox", action="store_true", help="use the sandbox even if an engine answers")
    demo.add_argument("imgtui_args", nargs=argparse.REMAINDER, help="passed to imgtui")
    args = parser.parse_args(argv)
    try:
        state = args.state or default_state(args.engine or "dockerd")
        sandbox = Sandbox(state, args.engine)
        return _run(args, sandbox)
    except SandboxError as exc:
        print(f"imgtui sandbox: {exc}", file=sys.stderr)
        return 1


def _run(args: argparse.Namespace, sandbox: Sandbox) -> int:
    if args.command == "status":
        print(sandbox.status_json())
    elif args.command == "stop":
        sandbox.stop()
        print("imgtui sandbox: stopped")
    elif args.command == "destroy":
        sandbox.destroy()
        print(f"imgtui sandbox: stopped and removed {sandbox.state}")
    elif args.command in ("start", "seed"):
        host = sandbox.start()
        if args.command == "seed" or args.seed:
            _seed(sandbox)
        print(f"export DOCKER_HOST={host}")
        print(f"# registry: http://{sandbox.registry}  (push to {sandbox.registry}/NAME:TAG)")
    elif args.command == "ssh":
        sandbox.start()
        address = sandbox.start_sshd()
        print(f"export IMGTUI_SSH_COMMAND='{sandbox.sshd.ssh_command}'")
        print(f"export DOCKER_HOST={sandbox.sshd.alias}  # or {address}")
    elif args.command == "demo":
        return _demo(args, sandbox)
    return 0


def _seed(sandbox: Sandbox) -> None:
    from imgtui.sandbox.seed import seed

    for line in seed(sandbox.docker_host, sandbox.registry):
        print(f"imgtui sandbox: made {line}", file=sys.stderr)


def _demo(args: argparse.Namespace, sandbox: Sandbox) -> int:
    from imgtui.engine import Engine, EngineUnavailable

    env = dict(os.environ)
    if not args.sandbox:
        try:
            Engine.connect(timeout=3).close()
        except EngineUnavailable as exc:
            print(f"imgtui: {exc}", file=sys.stderr)
            print("imgtui: using the sandbox engine with demo images instead", file=sys.stderr)
        else:
            return _exec_imgtui(args.imgtui_args, env)
    print("imgtui sandbox: starting dockerd and the registry ...", file=sys.stderr)
    sandbox.start()
    _seed(sandbox)
    print(f"imgtui sandbox: DOCKER_HOST={sandbox.docker_host}  (stop it with: python -m imgtui.sandbox stop)",
          file=sys.stderr)  # fmt: skip
    # The project's network rule: containers run from the demo (`n`) get no network unless told otherwise.
    return _exec_imgtui(args.imgtui_args, {"IMGTUI_NETWORK": "none", **sandbox.env()})


def _exec_imgtui(extra: list[str], env: dict[str, str]) -> int:
    extra = [a for a in extra if a != "--"]
    # This interpreter, not whatever `imgtui` is first on PATH: the demo runs the imgtui it was started from.
    argv = [sys.executable, "-m", "imgtui", *extra]
    sys.stdout.flush()
    sys.stderr.flush()
    os.execvpe(argv[0], argv, env)
    return 0  # not reached


if __name__ == "__main__":
    raise SystemExit(main())
