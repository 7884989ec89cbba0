"""`tune --help` and the commands' help never import Keras, TensorFlow or MLflow (help stays fast)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("keras", "tensorflow", "mlflow")

# Run in a fresh interpreter: this test process has long imported everything.
PROBE = f"""
import json, sys
from search.cli import main
code = main(sys.argv[1:])
heavy = sorted(name for name in {HEAVY!r} if name in sys.modules)
print("HEAVY", json.dumps(heavy))
sys.exit(code)
"""


def _heavy_modules(stdout: str) -> list[str]:
    """The heavy modules the probe reported on its last `HEAVY` line."""
    lines = [line for line in stdout.splitlines() if line.startswith("HEAVY ")]
    assert lines, f"the probe printed no HEAVY line:\n{stdout}"
    heavy: list[str] = json.loads(lines[-1].removeprefix("HEAVY "))
    return heavy


@pytest.mark.parametrize(
    "args", [["--help"], ["run", "--help"], ["export", "--help"]], ids=" ".join
)
def test_help_imports_nothing_heavy(args: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Usage: tune" in done.stdout
    assert _heavy_modules(done.stdout) == [], f"tune {' '.join(args)} imported heavy modules"
