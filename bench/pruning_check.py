"""The per-epoch pruning check: tune's snapshot check against `trial.should_prune()`.

For each pruner, two studies on fresh SQLite stores (as `tune run` opens them) are fed the
same recorded learning curves, one asking `trial.should_prune()`, the other tune's
`PruneCheck`, alternately trial by trial so both see the same machine load. It prints the
median milliseconds of the check per epoch for each, their ratio, and whether every
decision was the same.

    .venv/bin/python bench/pruning_check.py [--trials 60] [--epochs 10]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
import warnings
from pathlib import Path

from _common import load_tune, report


def _value(number: int, step: int) -> float:
    """A recorded curve: a trial-dependent level, noise, and improvement with the step."""
    return random.Random(number * 1000 + step).random() * 0.5 + (number % 7) * 0.1 - step * 0.02


class Contender:
    """One study that asks its pruner one way, a trial at a time."""

    def __init__(self, folder: Path, pruner: str, snapshot: bool, epochs: int) -> None:
        import optuna

        from search.run._pruners import make_pruner
        from search.stores._storage import open_storage

        storage = open_storage(f"sqlite:///{folder}/optuna.db")
        self.study = optuna.create_study(
            study_name="s", storage=storage, pruner=make_pruner(pruner)
        )
        self.snapshot, self.epochs = snapshot, epochs
        self.seconds: list[float] = []
        self.decisions: list[bool] = []

    def trial(self) -> None:
        import optuna

        from search.run._pruning import PruneCheck

        trial = self.study.ask()
        check = PruneCheck(trial)
        for step in range(self.epochs):
            value = _value(trial.number, step)
            check.report(value, step) if self.snapshot else trial.report(value, step)
            started = time.perf_counter()
            pruned = check.should_prune() if self.snapshot else trial.should_prune()
            self.seconds.append(time.perf_counter() - started)
            self.decisions.append(pruned)
            if pruned:
                self.study.tell(trial, state=optuna.trial.TrialState.PRUNED)
                return
        self.study.tell(trial, _value(trial.number, self.epochs - 1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=60)
    parser.add_argument("--epochs", type=int, default=10)
    args = parser.parse_args()
    load_tune()
    warnings.filterwarnings("ignore", "Heartbeat of storage")  # trials asked by hand
    from search.run._pruners import PRUNERS

    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory() as root:
        for name in sorted(PRUNERS):
            pair = []
            for snapshot in (False, True):
                folder = Path(root, f"{name}-{snapshot}")
                folder.mkdir()
                pair.append(Contender(folder, name, snapshot, args.epochs))
            for _ in range(args.trials):
                for contender in pair:
                    contender.trial()
            optuna_ms, tune_ms = (1000 * statistics.median(c.seconds) for c in pair)
            same = pair[0].decisions == pair[1].decisions
            pruned = sum(pair[0].decisions)
            rows.append((name, f"{optuna_ms:6.3f}  {tune_ms:6.3f}  {optuna_ms / tune_ms:6.1f}x  "
                               f"{'same' if same else 'DIFFERENT'} ({pruned} pruned)"))  # fmt: skip
    title = (f"pruning check, ms per epoch (median), {args.trials} trials of {args.epochs} "
             "epochs on SQLite: should_prune  tune  ratio  decisions")  # fmt: skip
    report(title, rows)


if __name__ == "__main__":
    main()
