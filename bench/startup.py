"""Start-up: from the command to the first trial, against a bare `import keras`.

Interleaved, REPEATS times: `python -c "import keras"`; `tune run` on digits (one trial, one
epoch) in a fresh folder, so its stores are created; and the same command again in that
folder, so they only open. The first trial's start is Optuna's stamp on it (`datetime_start`,
taken as the trial is created, some 50 ms before its `fit`), against the moment the command
was launched. Prints medians and the gap issue #16 targets: first trial minus bare import.

    .venv/bin/python bench/startup.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import median, report

TUNE = [sys.executable, "-m", "search", "run", "--data", "digits", "--trials", "1",
        "--max-epochs", "1", "--quiet", "--no-report"]  # fmt: skip
ROOT = Path(__file__).resolve().parents[1]


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}


def bare_import() -> float:
    """Seconds of `python -c "import keras"` (TensorFlow backend)."""
    started = time.time()
    subprocess.run([sys.executable, "-c", "import keras"], env=_env(), check=True)
    return time.time() - started


def to_first_trial(folder: Path) -> tuple[float, float]:
    """(seconds from launch to the first trial this command ran, seconds of the command)."""
    import optuna

    started = time.time()
    subprocess.run(TUNE, cwd=folder, env=_env(), check=True, capture_output=True)
    ended = time.time()
    study = optuna.load_study(study_name="digits", storage=f"sqlite:///{folder}/mlruns/optuna.db")
    last = study.trials[-1].datetime_start
    assert last is not None
    return last.timestamp() - started, ended - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    imports, fresh, again, fresh_all, again_all = [], [], [], [], []
    for _ in range(args.repeats):
        imports.append(bare_import())
        with tempfile.TemporaryDirectory(prefix="tune-startup-") as root:
            first, whole = to_first_trial(Path(root))
            fresh.append(first)
            fresh_all.append(whole)
            first, whole = to_first_trial(Path(root))
            again.append(first)
            again_all.append(whole)
    rows = [
        ("python -c 'import keras' (s)", median(imports)),
        ("tune run, fresh folder: to the first trial (s)", median(fresh)),
        ("  the whole command (s)", median(fresh_all)),
        ("  first trial minus the bare import (s)", median(fresh) - median(imports)),
        ("tune run, stores exist: to the first trial (s)", median(again)),
        ("  the whole command (s)", median(again_all)),
        ("  first trial minus the bare import (s)", median(again) - median(imports)),
    ]
    report(f"start-up, digits, median of {args.repeats} (interleaved)", rows)


if __name__ == "__main__":
    main()
