"""The domain layer (engine access, sandbox, records) must not drag Textual in."""

import subprocess
import sys


def test_domain_layer_imports_no_textual() -> None:
    code = (
        "import sys, imgtui.engine, imgtui.sandbox, imgtui.sandbox.seed, imgtui.sandbox.proxy, imgtui.cli\n"
        "import imgtui.registry, imgtui.registry.operations\n"
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "print(bad)\n"
        "raise SystemExit(1 if bad else 0)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, f"domain layer imported Textual: {result.stdout}{result.stderr}"
