"""Two-arm study benchmarks: for each dataset and seed, one study per arm (a setting of tune
against another), and a report of the arms' test scores, paired per seed.

bench/best_epoch.py and bench/tpe_group.py are such benchmarks; each names its arms, what it
records of a study beyond its trials and shipped score, and its report's own columns.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _common import tally
from refit import DATASETS, Searched, searched


def paired_cell(
    dataset: str,
    seed: int,
    budget: float,
    folder: Path,
    arms: Mapping[str, Mapping[str, Any]],
    record: Callable[[Searched], dict[str, Any]],
) -> dict[str, Any]:
    """One study per arm (its StudySpec settings) on one dataset and seed: each arm's trials,
    shipped test score and what `record` takes from its study."""
    cell: dict[str, Any] = {"dataset": dataset, "seed": seed, "budget_s": budget}
    for arm, settings in arms.items():
        with searched(dataset, seed, budget, folder, **settings) as found:
            cell[arm] = {
                "trials": len(found.study.trials),
                "shipped": found.result.test_score,
                **record(found),
            }
            cell.update(
                metric=found.metric.name, test_rows=len(found.prepared.splits.x_test),
                higher_is_better=found.metric.direction == "maximize",
            )  # fmt: skip
    return cell


@dataclass(frozen=True)
class Pair:
    """One dataset's cells, `base` against `candidate`."""

    rows: list[dict[str, Any]]
    base: str
    candidate: str

    def mean(self, arm: str, key: str) -> float:
        return statistics.fmean(c[arm][key] for c in self.rows)

    @property
    def sign(self) -> float:
        """+1 where a higher score is better, -1 where lower is: gains are signed by it."""
        return 1.0 if self.rows[0]["higher_is_better"] else -1.0

    @property
    def tie(self) -> float:
        """One test row of accuracy; nothing on a regression metric."""
        return 1 / self.rows[0]["test_rows"] if self.rows[0]["higher_is_better"] else 0.0

    def tally(self) -> str:
        """Seeds on which the candidate shipped better, within half a test row, or worse."""
        gains = [
            self.sign * (c[self.candidate]["shipped"] - c[self.base]["shipped"]) for c in self.rows
        ]
        return tally(gains, self.tie / 2)

    def held(self) -> bool:
        """The candidate's mean shipped score at least the base's, within one test row."""
        gain = self.mean(self.candidate, "shipped") - self.mean(self.base, "shipped")
        return self.sign * gain >= -self.tie


def paired_report(
    cells: list[dict[str, Any]],
    arms: tuple[str, str],
    labels: tuple[str, str],
    extra: tuple[str, Callable[[Pair], str]],
    claim: str,
) -> str:
    """Per dataset: trials, mean shipped test score of each arm (base first) and the paired
    tally, then the `extra` columns (their header, and a row's cells); and the count of
    datasets on which the candidate held, worded by `claim`."""
    (base, candidate), (base_label, label) = arms, labels
    header, columns = extra
    width = 7 + header.count("|") + 1
    lines = [
        f"| dataset | metric | seeds | trials ({base_label} / {label}) | shipped, {base_label} "
        f"| shipped, {label} | {label} ahead / level / behind | {header} |",
        "| " + " | ".join(["---"] * width) + " |",
    ]
    held = 0
    shown = [d for d in DATASETS if any(c["dataset"] == d for c in cells)]
    for dataset in shown:
        pair = Pair([c for c in cells if c["dataset"] == dataset], base, candidate)
        held += pair.held()
        lines.append(
            f"| {dataset} | {pair.rows[0]['metric']} | {len(pair.rows)} | "
            f"{pair.mean(base, 'trials'):.0f} / {pair.mean(candidate, 'trials'):.0f} | "
            f"{pair.mean(base, 'shipped'):.4f} | {pair.mean(candidate, 'shipped'):.4f} | "
            f"{pair.tally()} | {columns(pair)} |"
        )
    lines += [
        "",
        f"Mean shipped test score with {claim} (within one test row): {held} of {len(shown)} "
        "datasets.",
    ]
    return "\n".join(lines)
