"""bench/RESULTS.md and one PNG per dataset from the cells bench/compare.py recorded.

Pure functions over the recorded cells, apart from the writing at the end, so that the
arithmetic (targets, time to target, spreads) is tested without running anything.
"""

from __future__ import annotations

import platform
import statistics
from importlib import metadata
from pathlib import Path
from typing import Any

Cell = dict[str, Any]
KERASTUNER = ("kt-random", "kt-hyperband", "kt-bayesian")
ORDER = ("tune", "tune-w2", "kt-random", "kt-hyperband", "kt-bayesian", "optuna-loop")


def higher_is_better(metric: str) -> bool:
    return metric != "rmse"


def at_least(score: float, target: float, metric: str) -> bool:
    """Whether a score reaches a target, in the metric's direction."""
    return score >= target if higher_is_better(metric) else score <= target


def final(cell: Cell) -> float | None:
    """The holdout score of the contender's final best model (its last improvement)."""
    curve = cell.get("curve") or []
    return float(curve[-1][1]) if cell.get("status") == "ok" and curve else None


def target(cells: list[Cell], dataset: str, seed: int) -> float | None:
    """The best KerasTuner contender's final holdout score on one dataset and seed."""
    finals = [
        (score, c["metric"])
        for c in cells
        if c["dataset"] == dataset and c["seed"] == seed and c["contender"] in KERASTUNER
        and (score := final(c)) is not None
    ]  # fmt: skip
    if not finals:
        return None
    scores = [score for score, _ in finals]
    return max(scores) if higher_is_better(finals[0][1]) else min(scores)


def time_to_target(curve: list[list[float]], goal: float, metric: str) -> float | None:
    """The wall time at which the best-so-far model first reaches the goal; None if never."""
    for seconds, score in curve:
        if at_least(score, goal, metric):
            return float(seconds)
    return None


def _spread(values: list[float], digits: int = 4) -> str:
    if not values:
        return "-"
    sd = statistics.pstdev(values) if len(values) > 1 else 0.0
    return f"{statistics.fmean(values):.{digits}f} ± {sd:.{digits}f}"


def row(cells: list[Cell], every: list[Cell], dataset: str, contender: str) -> str:
    """One table row: mean ± spread over the seeds of a dataset and contender."""
    ok = [c for c in cells if c["status"] == "ok"]
    failed = [c for c in cells if c["status"] != "ok"]
    scores = [s for c in ok if (s := final(c)) is not None]
    times, never = [], 0
    for c in ok:
        goal = target(every, dataset, c["seed"])
        reached = None if goal is None else time_to_target(c["curve"], goal, c["metric"])
        if reached is None:
            never += 1
        else:
            times.append(reached)
    ttt = _spread(times, 1) if times else "never"
    if times and never:
        ttt += f" ({never} never)"
    failures = f" ({len(failed)} failed: {failed[0].get('reason', '')[:80]})" if failed else ""
    return (
        f"| {contender}{failures} | {len(ok)} | {_spread(scores)} | {ttt} | "
        f"{_spread([float(c['trials']) for c in ok], 1)} | "
        f"{_spread([c['fits_per_min'] for c in ok], 1)} | "
        f"{_spread([c['peak_rss_mb'] for c in ok], 0)} |"
    )


def table(every: list[Cell], dataset: str) -> list[str]:
    """The table of one dataset."""
    cells = [c for c in every if c["dataset"] == dataset]
    metric = cells[0]["metric"]
    lines = [
        f"### {dataset} (holdout {metric}, {cells[0]['holdout_rows']} rows)",
        "",
        f"| contender | seeds | holdout {metric} | time to target (s) | trials | fits/min "
        "| peak RSS (MB) |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for contender in ORDER:
        mine = [c for c in cells if c["contender"] == contender]
        if mine:
            lines.append(row(mine, every, dataset, contender))
    return lines


def headline(every: list[Cell], datasets: list[str]) -> list[str]:
    """tune against the best KerasTuner contender: holdout (a one-row difference ties), time."""
    lines = []
    for dataset in datasets:
        cells = [c for c in every if c["dataset"] == dataset]
        seeds = sorted({c["seed"] for c in cells})
        tune = [c for c in cells if c["contender"] == "tune" and final(c) is not None]
        goals = [g for s in seeds if (g := target(cells, dataset, s)) is not None]
        if not tune or not goals:
            continue
        metric, rows = cells[0]["metric"], cells[0]["holdout_rows"]
        mine = statistics.fmean(final(c) or 0.0 for c in tune)
        theirs = statistics.fmean(goals)
        tie = 1 / rows if higher_is_better(metric) else 0.0
        verdict = (
            "win or tie"
            if at_least(mine + (tie if higher_is_better(metric) else 0), theirs, metric)
            else "loss"
        )
        times = [
            time_to_target(c["curve"], target(cells, dataset, c["seed"]) or 0, metric) for c in tune
        ]
        reached = [t for t in times if t is not None]
        shown = f"{statistics.fmean(reached):.0f} s" if reached else "never"
        lines.append(
            f"- {dataset}: tune {mine:.4f} against the best KerasTuner's {theirs:.4f} ({verdict}); "
            f"tune reached that score in {shown} ({len(reached)} of {len(tune)} seeds)."
        )
    return lines


def plot(every: list[Cell], dataset: str, path: Path) -> None:
    """Best-so-far holdout score against wall time, every contender on the same axes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cells = [c for c in every if c["dataset"] == dataset and c["status"] == "ok"]
    figure, axes = plt.subplots(figsize=(7, 4.2))
    colours = {name: f"C{i}" for i, name in enumerate(ORDER)}
    for contender in ORDER:
        for i, cell in enumerate(c for c in cells if c["contender"] == contender):
            curve = cell["curve"]
            if not curve:
                continue
            xs = [t for t, _ in curve] + [cell["wall_s"]]
            ys = [s for _, s in curve] + [curve[-1][1]]
            label = contender if i == 0 else None
            axes.step(xs, ys, where="post", color=colours[contender], label=label, alpha=0.85)
    metric = cells[0]["metric"] if cells else "score"
    axes.set_xlabel("wall time since launch (s), start-up included")
    axes.set_ylabel(f"best-so-far holdout {metric}")
    axes.set_title(dataset)
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)


def machine() -> str:
    """The machine and the versions, for the report."""
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        names = [line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines()
                 if line.startswith("model name")]  # fmt: skip
        cpu = f"{names[0]}, {len(names)} cores" if names else cpu
    versions = []
    for name in ("keras", "tensorflow", "tensorflow-cpu", "keras-tuner", "optuna", "mlflow"):
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            continue
    return f"{cpu}; Python {platform.python_version()}; " + ", ".join(versions)


def write_report(every: list[Cell], folder: Path, results: Path, command: str) -> str:
    """Write the tables and the PNGs; returns the markdown."""
    datasets = [d for d in dict.fromkeys(c["dataset"] for c in every)]
    budgets = sorted({c["budget_s"] for c in every})
    seeds = sorted({c["seed"] for c in every})
    lines = [
        "# tune against KerasTuner and a hand-written Optuna loop",
        "",
        f"Written by `{command}` from `bench/compare/results.jsonl` "
        f"(budget {', '.join(f'{b:.0f}' for b in budgets)} s per contender, seeds "
        f"{', '.join(map(str, seeds))}). Machine: {machine()}.",
        "",
        "Holdout: 20 % of each dataset, split once outside every contender. Time to target: "
        "the wall time since the contender's launch (start-up included) at which its "
        "best-so-far model first scores at least the best KerasTuner contender's final holdout "
        "score on the same seed. Mean ± standard deviation over seeds. Fits per minute: "
        "models trained (complete and pruned trials, times folds) per minute of wall time.",
        "",
        "## Headline",
        "",
        *headline(every, datasets),
        "",
    ]
    folder.mkdir(parents=True, exist_ok=True)
    for dataset in datasets:
        lines += table(every, dataset)
        plot(every, dataset, folder / f"{dataset}.png")
        lines += ["", f"![{dataset}](compare/{dataset}.png)", ""]
    text = "\n".join(lines)
    results.write_text(text + "\n")
    return text
