r"""`tune run` side by side with KerasTuner and a hand-written Optuna loop, on a holdout.

Every contender runs as its own process, one after another, with the same wall budget per
dataset (each stops starting trials once it is spent, as `tune run --timeout` does):

- `tune` (the CLI, its defaults), `tune-w2` (`--workers 2`) and `tune-best`
  (`--keep-epoch best`: each trial keeps its best epoch, as KerasTuner's trials do);
- KerasTuner RandomSearch, Hyperband (max_epochs=30, factor=3) and BayesianOptimization
  over a fixed space (bench/contenders/fixed_space.py);
- `optuna-loop`: TPE, a MedianPruner and nested MLflow runs, written by hand.

Each dataset is split once, outside them all, into a pool (what they see) and a 20 % holdout.
Each contender's best-so-far models are scored on the holdout after its run; time to target is
when a contender's best-so-far model first scores at least the best KerasTuner contender's
final holdout score. Cells are appended to bench/compare/results.jsonl as they finish, with
the machine, the versions and tune's commit they ran on, and skipped when this machine has
recorded them, so the run can be split into parts; cells from another machine never mix with
this one's, in a run or in the report (timings from different machines do not compare).

    python bench/compare.py                                    # 6 datasets, 3 seeds, 120 s
    python bench/compare.py --seeds 0 --budget 60 --datasets digits wine hard_classes
    python bench/compare.py --report                           # RESULTS.md and PNGs only
    python bench/compare.py --seeds 0 --contenders tune kt-random kt-hyperband kt-bayesian \
        --report-to bench/compare/amd/RESULTS.md               # a side run, its own report

bench/RESULTS.md shows the budget and the machine with the most cells (or those of --budget
and --machine), so that a quick or side run does not replace the full run's report; a side
report (--report-to) written after a run shows this machine's cells.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from contenders.datasets import DATASETS, Split, write_split  # noqa: E402
from contenders.summary import MAIN_REPORT, cpu, versions, write_report  # noqa: E402

OUT = HERE / "compare"
RESULTS = OUT / "results.jsonl"
SEEDS = (0, 1, 2)
DEFAULT_BUDGET = 120.0
CONTENDERS = (
    "tune", "tune-w2", "tune-best", "kt-random", "kt-hyperband", "kt-bayesian", "optuna-loop",
)  # fmt: skip
# What each of tune's contenders adds to its defaults.
TUNE_FLAGS = {"tune": [], "tune-w2": ["--workers", "2"], "tune-best": ["--keep-epoch", "best"]}
INSTALL = "bench/compare.py needs KerasTuner and optuna-integration: pip install -e '.[bench]'"
BENCH_EXTRA = ("keras_tuner", "optuna_integration")


def command(contender: str, split: Split, seed: int, budget: float, work: Path) -> list[str]:
    """The contender's process (tune's own CLI; the others as modules of contenders/)."""
    args = [str(split.folder), str(seed), str(budget), str(work / "result.json")]
    if contender.startswith("kt-"):
        return [sys.executable, "-m", "contenders.kt_search", contender[3:], *args]
    if contender == "optuna-loop":
        return [sys.executable, "-m", "contenders.optuna_loop", *args]
    return [
        str(Path(sys.executable).parent / "tune"), "run", "--data", str(split.pool),
        "--target", "y", "--study", "bench", *_tune_stores(work), "--trials", "100000",
        "--timeout", str(budget), "--seed", str(seed), *TUNE_FLAGS[contender], "--quiet",
    ]  # fmt: skip


def _tune_stores(work: Path) -> list[str]:
    return [
        "--storage",
        f"sqlite:///{work}/optuna.db",
        "--tracking-uri",
        f"sqlite:///{work}/mlflow.db",
    ]


class PeakRss:
    """The peak resident memory of a process and all its children, sampled twice a second."""

    def __init__(self, pid: int) -> None:
        self.peak = 0.0
        self._root = psutil.Process(pid)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.wait(0.5):
            try:
                tree = [self._root, *self._root.children(recursive=True)]
                total = sum(_rss(p) for p in tree)
            except psutil.NoSuchProcess:
                continue
            self.peak = max(self.peak, total / 2**20)

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak


def _rss(process: psutil.Process) -> int:
    try:
        return int(process.memory_info().rss)
    except psutil.NoSuchProcess:  # a worker that ended between listing and reading
        return 0


def _environment() -> dict[str, str]:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", MLFLOW_DISABLE_TELEMETRY="true")
    env["PYTHONPATH"] = os.pathsep.join([str(HERE), str(HERE.parent)])
    return env


def _launch(cmd: list[str], work: Path, limit: float) -> tuple[float, float, float]:
    """Run a process to its end; (launch time, exit time, peak RSS MB). Raises on failure."""
    log = work / f"{Path(cmd[0]).name}-{len(list(work.glob('*.log')))}.log"
    with log.open("w") as sink:
        launched = time.time()
        process = subprocess.Popen(cmd, cwd=work, env=_environment(), stdout=sink, stderr=sink)
        watch = PeakRss(process.pid)
        try:
            code = process.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            code = -9
        exited = time.time()
        peak = watch.stop()
    if code != 0:
        raise RuntimeError(f"exit {code}: {_last_line(log)}")
    return launched, exited, peak


def _last_line(log: Path) -> str:
    lines = [line.strip() for line in log.read_text(errors="replace").splitlines() if line.strip()]
    return lines[-1][:300] if lines else "no output"


def run_cell(contender: str, split: Split, seed: int, budget: float, work: Path) -> dict[str, Any]:
    """One contender on one dataset and seed: its curve and costs, or why it failed."""
    cell: dict[str, Any] = {"contender": contender, "seed": seed, "budget_s": budget}
    result = work / "result.json"
    # A process still running at three budgets (and two minutes) is stuck, not slow.
    limit = 3 * budget + 120
    try:
        launched, exited, peak = _launch(command(contender, split, seed, budget, work), work, limit)
        if contender.startswith("tune"):
            score = [sys.executable, "-m", "contenders.tune_models", str(split.folder), str(seed)]
            stores = [f"sqlite:///{work}/optuna.db", f"sqlite:///{work}/mlflow.db"]
            _launch([*score, "bench", *stores, str(result)], work, limit)
        found = json.loads(result.read_text())
    except Exception as exc:  # a crashing contender is a result too; the run goes on
        return {**cell, "status": "failed", "reason": str(exc)}
    ended = found.get("ended", exited)
    wall = ended - launched
    return {
        **cell, "status": "ok", "wall_s": wall, "peak_rss_mb": peak,
        "startup_s": found["started"] - launched if found.get("started") else None,
        "trials": found["trials"], "fits": found["fits"],
        "fits_per_min": found["fits"] / wall * 60 if wall > 0 else 0.0,
        "curve": [[stamp - launched, value] for stamp, value in found["curve"]],
    }  # fmt: skip


def recorded() -> list[dict[str, Any]]:
    """Every cell recorded so far."""
    if not RESULTS.is_file():
        return []
    return [json.loads(line) for line in RESULTS.read_text().splitlines() if line.strip()]


def pending(
    cells: list[dict[str, Any]],
    datasets: list[str],
    seeds: list[int],
    budget: float,
    machine: str,
    contenders: list[str] | None = None,
) -> list[tuple[str, int, str]]:
    """The (dataset, seed, contender) cells not yet recorded at this budget on `machine`, in
    run order (every contender unless `contenders` names some)."""
    done = {(c["dataset"], c["seed"], c["contender"]) for c in on(cells, budget, machine)}
    chosen = [c for c in CONTENDERS if contenders is None or c in contenders]
    wanted = [(d, s, c) for s in seeds for d in datasets for c in chosen]
    return [cell for cell in wanted if cell not in done]


def on(cells: list[dict[str, Any]], budget: float, machine: str | None) -> list[dict[str, Any]]:
    """The cells recorded at `budget` on `machine` (None: cells that did not record one)."""
    return [c for c in cells if c["budget_s"] == budget and c.get("machine") == machine]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--budget", type=float, help="seconds per contender (default 120)")
    parser.add_argument("--seeds", type=int, nargs="*", default=list(SEEDS))
    parser.add_argument("--datasets", nargs="*", default=list(DATASETS), choices=DATASETS)
    parser.add_argument("--contenders", nargs="*", default=list(CONTENDERS), choices=CONTENDERS)
    parser.add_argument("--report", action="store_true", help="only write the report")
    parser.add_argument(
        "--machine", help="report the cells of the machine whose name contains this"
    )
    parser.add_argument(
        "--report-to", type=Path, default=MAIN_REPORT, help="the report's path (PNGs beside it)"
    )
    args = parser.parse_args()
    if not args.report and any(importlib.util.find_spec(m) is None for m in BENCH_EXTRA):
        print(INSTALL, file=sys.stderr)
        return 1
    report = args.report_to.resolve()
    machine: str | None = None
    if not args.report:
        here = cpu()
        _run(args.datasets, args.seeds, args.budget or DEFAULT_BUDGET, here, args.contenders)
        if report != MAIN_REPORT:
            machine = here  # a side run reports its own cells
    cells = recorded()
    if args.machine:
        machine = _machine_named(cells, args.machine)
    pngs = OUT if report == MAIN_REPORT else report.with_suffix("")
    print(write_report(reported(cells, args.budget, machine), pngs, report, report == MAIN_REPORT))
    return 0


def _machine_named(cells: list[dict[str, Any]], part: str) -> str:
    names = list(dict.fromkeys(str(c["machine"]) for c in cells if "machine" in c))
    found = [name for name in names if part.lower() in name.lower()]
    if len(found) != 1:
        sys.exit(f"--machine {part!r} names {len(found)} of the machines recorded: {names}")
    return found[0]


def reported(
    cells: list[dict[str, Any]], budget: float | None, machine: str | None
) -> list[dict[str, Any]]:
    """The cells a report shows: one budget on one machine, those given, else those with the
    most cells (the one recorded last among equals), so that a quick or side run does not
    take the full run's report over."""
    if budget is None:
        budget = _most([c["budget_s"] for c in cells if machine in (None, c.get("machine"))])
    at_budget = [c for c in cells if c["budget_s"] == budget]
    if machine is None:
        machine = _most([c.get("machine") for c in at_budget])
    return on(at_budget, budget or DEFAULT_BUDGET, machine)


def _most(values: list[Any]) -> Any:
    """The most frequent value, the latest among equals; None for no values."""
    counts: dict[Any, int] = {}
    for value in reversed(values):  # dicts keep order: among equals, max takes the latest
        counts[value] = counts.get(value, 0) + 1
    return max(counts, key=lambda value: counts[value]) if counts else None


def _run(
    datasets: list[str], seeds: list[int], budget: float, machine: str, contenders: list[str]
) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    where = {"machine": machine, "versions": versions(), "commit": _commit()}
    left = pending(recorded(), datasets, seeds, budget, machine, contenders)
    with tempfile.TemporaryDirectory(prefix="tune-compare-") as root:
        for dataset, seed, contender in left:
            split = write_split(dataset, seed, Path(root))
            work = Path(root) / f"{dataset}-{seed}-{contender}"
            work.mkdir()
            cell = {"dataset": dataset, "metric": split.metric, "holdout_rows": _rows(split)}
            cell.update(where)
            cell.update(run_cell(contender, split, seed, budget, work))
            with RESULTS.open("a") as out:
                out.write(json.dumps(cell) + "\n")
            print(json.dumps({k: v for k, v in cell.items() if k != "curve"}), flush=True)


def _commit() -> str | None:
    """tune's commit, with "+changes" when its code differs from it (None outside a git
    checkout); the results this run writes are not code."""
    try:
        head = _git("rev-parse", "--short", "HEAD")
        changed = _git("status", "--porcelain", "--untracked-files=no", "--", ".",
                       ":(exclude)bench/compare", ":(exclude)bench/RESULTS.md")  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return None
    return f"{head}+changes" if changed else head


def _git(*args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=HERE.parent, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def _rows(split: Split) -> int:
    return sum(1 for _ in split.holdout.open()) - 1


if __name__ == "__main__":
    sys.exit(main())
