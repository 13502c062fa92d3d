"""The domain layer (engine access, sandbox, records) must not drag Textual in."""

from __future__ import annotations

import subprocess
import sys


def test_domain_layer_imports_no_textual() -> None:
    code = (
        "import sys, imgtui.engine, imgtui.sandbox, imgtui.sandbox.seed, imgtui.sandbox.proxy, imgtui.cli\n"
        "import imgtui.registry, imgtui.registry.operations, imgtui.cleanup, imgtui.clean_cli\n"
        "import imgtui.fleet\n"
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "print(bad)\n"
        "raise SystemExit(1 if bad else 0)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, f"domain layer imported Textual: {result.stdout}{result.stderr}"


def _imports() -> dict[str, set[str]]:
    """module -> the imgtui modules it imports (at any depth of the file: lazy imports count too)."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    graph: dict[str, set[str]] = {}
    for path in (root / "imgtui").rglob("*.py"):
        parts = path.relative_to(root).with_suffix("").parts
        module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("imgtui"):
                found.add(node.module)
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
            elif isinstance(node, ast.Import):
                found.update(a.name for a in node.names if a.name.startswith("imgtui"))
        graph[module] = found
    return {m: {i for i in found if i in graph and i != m} for m, found in graph.items()}


def test_no_import_circles() -> None:
    """No module reaches itself through the modules it imports (a package's face, __init__, excepted as
    the target of its own submodules)."""
    graph = _imports()

    def reaches(start: str) -> list[str] | None:
        todo, seen = [(start, [start])], set()
        while todo:
            module, path = todo.pop()
            for nxt in graph.get(module, ()):
                if nxt == start and not start.endswith(("imgtui", ".engine", ".registry", ".sandbox")):
                    return [*path, nxt]
                if nxt not in seen and not (start.startswith(nxt + ".") or nxt == start):
                    seen.add(nxt)
                    todo.append((nxt, [*path, nxt]))
        return None

    circles = [c for c in (reaches(m) for m in graph if m.startswith("imgtui.ui")) if c]
    assert not circles, circles


def test_features_do_not_import_each_other_or_their_screen() -> None:
    """A feature reaches the images view through features.ImagesView only; screens never import features
    (but the images screen, which mounts them), and the domain layer imports nothing of the UI."""
    graph = _imports()
    features = {m for m in graph if m.startswith("imgtui.ui.features.")}
    for feature in features:
        wrong = {i for i in graph[feature] if i in features or i == "imgtui.ui.screens.images"}
        assert not wrong, f"{feature} imports {wrong}"
    for module, imported in graph.items():
        if module.startswith("imgtui.ui.screens.") and module != "imgtui.ui.screens.images":
            assert not {i for i in imported if i.startswith("imgtui.ui.features")}, module
        if module.startswith(("imgtui.engine", "imgtui.registry", "imgtui.sandbox")):
            assert not {i for i in imported if i.startswith("imgtui.ui")}, module


def test_the_first_screen_on_a_unix_socket_imports_no_docker_py(docker_host: str) -> None:
    """What a unix socket's first screen needs (connect, the image list, the first layers, the events) is
    asked with the standard library: docker-py, requests and urllib3 (about 0.1 s of imports) are not
    imported until something else is asked, and then work."""
    code = (
        "import sys, imgtui.cli, imgtui.ui.app\n"
        "from imgtui.engine import Engine\n"
        "engine = Engine.connect(sys.argv[1])\n"
        "images = engine.list_images()\n"
        "engine.history(images[0].id)\n"
        "engine.events().close()\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('docker', 'requests', 'urllib3'))\n"
        "print(heavy)\n"
        "assert engine.api.version()['ApiVersion'] and 'docker' in sys.modules\n"
        "raise SystemExit(1 if heavy else 0)\n"
    )
    result = subprocess.run([sys.executable, "-c", code, docker_host], capture_output=True, text=True)
    assert result.returncode == 0, f"imported before it was needed: {result.stdout}{result.stderr}"
