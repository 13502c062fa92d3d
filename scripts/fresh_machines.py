"""Try imgtui as a new user would, on fresh Debian machines: containers made from
`debootstrap --variant=minbase` roots of bullseye (Python 3.9), bookworm (3.11) and trixie (3.13), run on a
private sandbox engine.

    bash scripts/fresh-machines                 # every check (about half an hour)
    bash scripts/fresh-machines pyz-bullseye    # the named checks only; --list names them

Checks (each in a new container; the repository is cloned from this checkout's HEAD, as CI clones main):
- readme-bookworm: the README's two commands from a clean clone on bookworm with only python3 and git:
  `bash scripts/test`, then `bash scripts/demo` twice (the demo images must show; the second run must
  install nothing).
- demo-bookworm: `bash scripts/demo` first thing on such a machine (it installs everything itself), twice.
- ci-bookworm: `CI=true bash .ci/run` from a clean clone, no stdin.
- tests-bullseye, tests-trixie: `bash scripts/test` on Python 3.9 and 3.13.
- pipx-SUITE: `pipx install` of the wheel; `imgtui --version`, `--help` with no engine, then imgtui shows the
  images of the sandbox engine (its socket mounted in).
- pyz-SUITE: `python3 imgtui.pyz` on a root with python3 and nothing else (no pip, no venv) and no network:
  `--version`, then the images of the sandbox engine.

Containers that install packages use the host's network for the downloads (Debian's mirror, PyPI); those
that run an engine of their own get the capabilities it needs, their /tmp on the host's filesystem. The pyz
containers have no network at all. Results go to stdout and build/fresh-machines/report.json; each check's
whole output to build/fresh-machines/NAME.log.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import docker

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

from imgtui.sandbox import Sandbox  # noqa: E402
from imgtui.sandbox.roots import SUITES, import_root, root_tar  # noqa: E402
from imgtui.sandbox.seed import seed  # noqa: E402

OUT = REPO / "build" / "fresh-machines"
STATE = Path("/tmp/imgtui-fresh")
HOST_CA = Path("/etc/ssl/certs/ca-certificates.crt")
SEEDED = ("commit_test", "my-image-name")
"""Names the demo content shows in the repositories pane."""


@dataclass
class Result:
    name: str
    ok: bool = False
    seconds: float = 0.0
    facts: dict[str, object] = field(default_factory=dict)
    problem: str = ""


class Machine:
    """One container from a fresh root, running `sleep infinity`; commands run in it with `run`."""

    def __init__(self, api: docker.APIClient, image: str, log: Path, *, network: str, engine: bool) -> None:
        self.api = api
        self.log = log
        self.tmp = Path(tempfile.mkdtemp(prefix="fresh-tmp-", dir="/var/tmp"))
        self.tmp.chmod(0o1777)  # a machine's /tmp: apt's own user writes there too
        binds = {
            str(REPO): {"bind": "/src", "mode": "ro"},
            str(OUT / "dist"): {"bind": "/dist", "mode": "ro"},
            str(HERE / "screen_probe.py"): {"bind": "/probe/screen_probe.py", "mode": "ro"},
            str(STATE / "docker.sock"): {"bind": "/run/outer/docker.sock", "mode": "rw"},
        }
        environment = {"LANG": "C.UTF-8", "TERM": "xterm-256color"}
        if network == "host" and HOST_CA.exists():
            # This workplace's network inspects TLS with a CA of its own (not a property of Debian's or the
            # project's): pip in the container gets the host's CA bundle, as pip on the host has it.
            binds[str(HOST_CA)] = {"bind": "/etc/imgtui-host-ca.crt", "mode": "ro"}
            environment["PIP_CERT"] = "/etc/imgtui-host-ca.crt"
        options: dict[str, object] = {}
        if engine:
            binds[str(self.tmp)] = {"bind": "/tmp", "mode": "rw"}
            binds["/sys/fs/cgroup"] = {"bind": "/sys/fs/cgroup", "mode": "rw"}
            options = {
                "cap_add": ["ALL"],
                "cap_drop": ["SYS_RESOURCE"],
                "security_opt": ["seccomp=unconfined", "apparmor=unconfined"],
            }
        host_config = api.create_host_config(network_mode=network, binds=binds, **options)
        if engine:
            host_config["MaskedPaths"] = []
            host_config["ReadonlyPaths"] = []
        self.id = api.create_container(
            image, command=["sleep", "infinity"], host_config=host_config, working_dir="/root",
            environment=environment,
        )["Id"]  # fmt: skip
        api.start(self.id)

    def run(self, script: str, env: dict[str, str] | None = None) -> tuple[int, str, float]:
        """Run `script` with bash (sh where there is none), stdin closed; returns (exit code, output, s)."""
        started = time.monotonic()
        exec_id = self.api.exec_create(
            self.id, ["sh", "-c", script], environment=env or {}, workdir="/root", stdin=False, tty=False
        )["Id"]
        chunks = []
        with self.log.open("ab") as log:
            log.write(f"\n$ {script}\n".encode())
            for chunk in self.api.exec_start(exec_id, stream=True):
                log.write(chunk)
                log.flush()
                chunks.append(chunk)
        code = int(self.api.exec_inspect(exec_id)["ExitCode"])
        output = b"".join(chunks).decode(errors="replace")
        return code, output, time.monotonic() - started

    def probe(self, command: str, *words: str, timeout: float = 120.0, env: dict[str, str] | None = None
              ) -> dict[str, object]:  # fmt: skip
        expects = " ".join(f"--expect {w}" for w in words)
        code, output, _ = self.run(
            f"python3 /probe/screen_probe.py {expects} --timeout {timeout} -- {command}", env
        )
        lines = [line for line in output.splitlines() if line.startswith("{")]
        found: dict[str, object] = json.loads(lines[-1]) if lines else {"shown": False, "tail": output[-800:]}
        return found

    def remove(self) -> None:
        try:
            self.api.remove_container(self.id, force=True)
        finally:
            subprocess.run(["rm", "-rf", str(self.tmp)], check=False)


def image_for(api: docker.APIClient, suite: str, packages: tuple[str, ...]) -> str:
    tar = root_tar(suite, packages)
    return import_root(f"unix://{STATE / 'docker.sock'}", tar, f"imgtui-root/{tar.stem}:latest")


CLONE = "git clone -q /src imgtui && cd imgtui"
APT = (
    "export DEBIAN_FRONTEND=noninteractive; "
    "apt-get update -qq && apt-get install -y -qq --no-install-recommends"
)


def check_readme(api: docker.APIClient, result: Result) -> None:
    machine = Machine(api, image_for(api, "bookworm", ("python3", "git")), OUT / f"{result.name}.log",
                      network="host", engine=True)  # fmt: skip
    try:
        code, output, seconds = machine.run(f"{CLONE} && bash scripts/test -q -p no:cacheprovider")
        result.facts["scripts/test"] = f"exit {code} in {seconds:.0f} s: {_summary(output)}"
        demo = "bash -c 'cd imgtui && bash scripts/demo'"
        first = machine.probe(demo, *SEEDED, timeout=900)
        second = machine.probe(demo, *SEEDED, timeout=120)
        result.facts["scripts/demo, first"] = _shown(first)
        result.facts["scripts/demo, second"] = _shown(second)
        result.ok = code == 0 and bool(first["shown"]) and bool(second["shown"])
        if second.get("installed_something"):
            result.ok = False
            result.problem = "the second scripts/demo installed something"
    finally:
        machine.remove()


def check_demo(api: docker.APIClient, result: Result) -> None:
    """The README's first command alone, first thing on a fresh machine: it makes .venv, installs imgtui
    and the sandbox's packages, starts the sandbox, seeds it and shows the images; then once more."""
    machine = Machine(api, image_for(api, "bookworm", ("python3", "git")), OUT / f"{result.name}.log",
                      network="host", engine=True)  # fmt: skip
    try:
        demo = f"bash -c '{CLONE} && bash scripts/demo'"
        first = machine.probe(demo, *SEEDED, timeout=900)
        again = machine.probe("bash -c 'cd imgtui && bash scripts/demo'", *SEEDED, timeout=120)
        result.facts["scripts/demo, first"] = _shown(first)
        result.facts["scripts/demo, second"] = _shown(again)
        result.ok = bool(first["shown"]) and bool(again["shown"]) and not again.get("installed_something")
    finally:
        machine.remove()


def check_ci(api: docker.APIClient, result: Result) -> None:
    machine = Machine(api, image_for(api, "bookworm", ("python3", "git")), OUT / f"{result.name}.log",
                      network="host", engine=True)  # fmt: skip
    try:
        code, output, seconds = machine.run(f"{CLONE} && CI=true bash .ci/run </dev/null")
        result.facts[".ci/run"] = f"exit {code} in {seconds:.0f} s: {_summary(output)}"
        result.ok = code == 0
    finally:
        machine.remove()


def check_tests(suite: str) -> Callable[[docker.APIClient, Result], None]:
    def check(api: docker.APIClient, result: Result) -> None:
        machine = Machine(api, image_for(api, suite, ("python3", "git")), OUT / f"{result.name}.log",
                          network="host", engine=True)  # fmt: skip
        try:
            _, version, _ = machine.run("python3 --version")
            code, output, seconds = machine.run(f"{CLONE} && bash scripts/test -q -p no:cacheprovider")
            result.facts["python"] = version.strip()
            result.facts["scripts/test"] = f"exit {code} in {seconds:.0f} s: {_summary(output)}"
            result.ok = code == 0
        finally:
            machine.remove()

    return check


def check_pipx(suite: str) -> Callable[[docker.APIClient, Result], None]:
    def check(api: docker.APIClient, result: Result) -> None:
        machine = Machine(api, image_for(api, suite, ("python3",)), OUT / f"{result.name}.log",
                          network="host", engine=False)  # fmt: skip
        try:
            # Debian 11 has no pipx package: pipx's own instructions install it with pip there.
            get_pipx = (
                f"{APT} python3-venv python3-pip >/dev/null && python3 -m pip install -q --user pipx"
                if suite == "bullseye"
                else f"{APT} pipx >/dev/null"
            )
            code, output, seconds = machine.run(
                f"{get_pipx} && PATH=/root/.local/bin:$PATH pipx install /dist/imgtui-*.whl"
            )
            result.facts["pipx install"] = f"exit {code} in {seconds:.0f} s"
            path = "PATH=/root/.local/bin:$PATH"
            _, version, _ = machine.run(f"{path} imgtui --version")
            help_code, help_text, _ = machine.run(f"{path} DOCKER_HOST=unix:///nowhere.sock imgtui --help")
            result.facts["imgtui --version"] = version.strip()
            result.facts["imgtui --help"] = f"exit {help_code}, {len(help_text.splitlines())} lines"
            shown = machine.probe(
                "bash -c 'PATH=/root/.local/bin:$PATH imgtui'", *SEEDED,
                env={"DOCKER_HOST": "unix:///run/outer/docker.sock"},
            )  # fmt: skip
            result.facts["imgtui on the sandbox engine"] = _shown(shown)
            result.ok = code == 0 and help_code == 0 and "imgtui" in version and bool(shown["shown"])
        finally:
            machine.remove()

    return check


def check_pyz(suite: str) -> Callable[[docker.APIClient, Result], None]:
    def check(api: docker.APIClient, result: Result) -> None:
        machine = Machine(api, image_for(api, suite, ("python3",)), OUT / f"{result.name}.log",
                          network="none", engine=False)  # fmt: skip
        try:
            _, python, _ = machine.run("python3 --version")
            pip_code, _, _ = machine.run("python3 -m pip --version")
            venv_code, _, _ = machine.run("python3 -m venv /tmp/v")
            _, version, seconds = machine.run("python3 /dist/imgtui.pyz --version")
            result.facts["python"] = python.strip()
            result.facts["pip / venv"] = (
                f"{'absent' if pip_code else 'PRESENT'} / {'absent' if venv_code else 'PRESENT'}"
            )
            result.facts["imgtui.pyz --version"] = (
                f"{version.strip()} (first start, unpacking: {seconds:.1f} s)"
            )
            shown = machine.probe("python3 /dist/imgtui.pyz", *SEEDED,
                                  env={"DOCKER_HOST": "unix:///run/outer/docker.sock"})  # fmt: skip
            result.facts["imgtui.pyz on the sandbox engine"] = _shown(shown)
            result.ok = pip_code != 0 and "imgtui" in version and bool(shown["shown"])
        finally:
            machine.remove()

    return check


CHECKS: dict[str, Callable[[docker.APIClient, Result], None]] = {
    **{f"pyz-{suite}": check_pyz(suite) for suite in SUITES},
    **{f"pipx-{suite}": check_pipx(suite) for suite in SUITES},
    "readme-bookworm": check_readme,
    "demo-bookworm": check_demo,
    "tests-bullseye": check_tests("bullseye"),
    "tests-trixie": check_tests("trixie"),
    "ci-bookworm": check_ci,
}


def _summary(output: str) -> str:
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    passed = [line for line in lines if " passed" in line or " failed" in line or " error" in line]
    return (passed or lines or ["(no output)"])[-1][-200:]


def _shown(probe: dict[str, object]) -> str:
    if probe.get("shown"):
        return f"shown after {probe['seconds']} s" + (
            ", installed something" if probe.get("installed_something") else ""
        )
    return f"NOT shown; screen ends: {str(probe.get('tail', ''))[-300:]!r}"


def build() -> None:
    """The wheel and the pyz from this checkout, into build/fresh-machines/dist."""
    dist = OUT / "dist"
    shutil.rmtree(dist, ignore_errors=True)
    dist.mkdir(parents=True)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(dist), str(REPO)],
                   check=True)  # fmt: skip
    subprocess.run(["bash", str(REPO / "scripts" / "build-pyz")], check=True, cwd=REPO)
    shutil.copy(REPO / "dist" / "imgtui.pyz", dist / "imgtui.pyz")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("checks", nargs="*", help="names of checks (default: all)")
    parser.add_argument("--list", action="store_true")
    args = parser.parse_args()
    if args.list:
        print("\n".join(CHECKS))
        return 0
    unknown = [name for name in args.checks if name not in CHECKS]
    if unknown:
        parser.error(f"unknown check(s) {', '.join(unknown)}: one of {', '.join(CHECKS)}")
    OUT.mkdir(parents=True, exist_ok=True)
    build()
    sandbox = Sandbox(STATE, "dockerd")
    sandbox.start(registry=False)
    seed(sandbox.docker_host, None)
    api = docker.APIClient(base_url=sandbox.docker_host, version="auto", timeout=3600)
    results = []
    for name in args.checks or list(CHECKS):
        result = Result(name)
        (OUT / f"{name}.log").unlink(missing_ok=True)
        started = time.monotonic()
        head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True).stdout.strip()  # fmt: skip
        result.facts["commit"] = head
        print(f"-- {name} (commit {head}) ...", flush=True)
        try:
            CHECKS[name](api, result)
        except Exception as exc:
            result.ok, result.problem = False, f"{type(exc).__name__}: {exc}"
        result.seconds = round(time.monotonic() - started, 1)
        results.append(result)
        print(f"   {'ok' if result.ok else 'FAILED'} in {result.seconds:.0f} s {result.problem}", flush=True)
        for key, value in result.facts.items():
            print(f"   {key}: {value}", flush=True)
    (OUT / "report.json").write_text(json.dumps([asdict(r) for r in results], indent=2) + "\n")
    api.close()
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
