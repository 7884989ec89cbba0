"""Start-up: from the command to the first trial, against a bare `import keras`.

Interleaved, REPEATS times: `python -c "import keras"`; `tune run` on digits (one trial, one
epoch) in a fresh folder, so its stores are created; and the same command again in that
folder, so they only open. The first trial's start is Optuna's stamp on it (`datetime_start`,
taken as the trial is created, some 50 ms before its `fit`), against the moment the command
was launched. Prints medians and the gap issue #16 targets: first trial minus bare import.
With `--against REV`, the commands also run with the code of that commit, interleaved.

    .venv/bin/python bench/startup.py [--repeats 3] [--against REV]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from _common import median, report, worktree

TUNE = [sys.executable, "-m", "search", "run", "--data", "digits", "--trials", "1",
        "--max-epochs", "1", "--quiet", "--no-report"]  # fmt: skip
ROOT = Path(__file__).resolve().parents[1]


def _env(code: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(code), "TF_CPP_MIN_LOG_LEVEL": "3"}


def bare_import() -> float:
    """Seconds of `python -c "import keras"` (TensorFlow backend)."""
    started = time.time()
    subprocess.run([sys.executable, "-c", "import keras"], env=_env(ROOT), check=True)
    return time.time() - started


def to_first_trial(folder: Path, code: Path) -> tuple[float, float]:
    """(seconds from launch to the first trial this command ran, seconds of the command)."""
    import optuna

    started = time.time()
    subprocess.run(TUNE, cwd=folder, env=_env(code), check=True, capture_output=True)
    ended = time.time()
    study = optuna.load_study(study_name="digits", storage=f"sqlite:///{folder}/mlruns/optuna.db")
    last = study.trials[-1].datetime_start
    assert last is not None
    return last.timestamp() - started, ended - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--against", metavar="REV", help="also run the code of this commit")
    args = parser.parse_args()
    imports: list[float] = []
    with ExitStack() as stack:
        codes = {"now": ROOT}
        if args.against:
            codes[args.against] = worktree(stack, args.against)
        runs: dict[str, dict[str, list[float]]] = {label: {} for label in codes}
        for _ in range(args.repeats):
            imports.append(bare_import())
            for label, code in codes.items():
                for part, value in _fresh_then_again(code).items():
                    runs[label].setdefault(part, []).append(value)
    bare = median(imports)
    rows: list[tuple[str, object]] = [("python -c 'import keras' (s)", bare)]
    for label, parts in runs.items():
        for stores in ("fresh folder", "stores exist"):
            first = median(parts[f"{stores}, first"])
            rows += [
                (f"{label}, {stores}: to the first trial (s)", first),
                ("  the whole command (s)", median(parts[f"{stores}, whole"])),
                ("  first trial minus the bare import (s)", first - bare),
            ]
    rows.append(("target", "first trial <= 1 s after the bare import"))
    report(f"start-up, digits, median of {args.repeats} (interleaved)", rows)


def _fresh_then_again(code: Path) -> dict[str, float]:
    """One command in a new folder (its stores created), then again there (they only open)."""
    measured: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="tune-startup-") as root:
        for stores in ("fresh folder", "stores exist"):
            first, whole = to_first_trial(Path(root), code)
            measured[f"{stores}, first"] = first
            measured[f"{stores}, whole"] = whole
    return measured


if __name__ == "__main__":
    main()
