"""The link `tune ui` prints, opened in a real headless Chromium against a real MLflow server."""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Stores
from tests.search.built import built_study
from tests.search.stores_view import runs
from tests.search.view.test_ui import free_port, tune_server

BROWSERS = ("chromium", "chromium-browser")
# Sidebar entries that only MLflow's GenAI view has; the model-training view has none of them.
GENAI_MARKERS = ("Observability", "Evaluation runs", "Judges")
TEXT_SHOWN = 3000  # characters of the page's text that a failure shows


@pytest.fixture(scope="module")
def iris(tmp_path_factory: pytest.TempPathFactory, migrated_mlflow_db: Path) -> Iterator[Stores]:
    with built_study(tmp_path_factory, migrated_mlflow_db, "--data", "iris") as stores:
        yield stores


def _browser() -> str:
    found = next((path for name in BROWSERS if (path := shutil.which(name))), None)
    if found is None:
        reason = "no chromium or chromium-browser on PATH: apt-get install chromium"
        if os.environ.get("TUNE_REQUIRE_BROWSER"):  # set in CI: a missing browser fails
            pytest.fail(reason)
        pytest.skip(reason)
    return found


def _render(browser: str, url: str, profile: Path) -> str:
    """The page's DOM once its scripts have run (up to 15 s of the page's own time)."""
    command = [
        browser, "--headless", "--no-sandbox", "--disable-gpu",
        f"--user-data-dir={profile}",
        "--window-size=1400,900",
        "--virtual-time-budget=15000",
        "--dump-dom", url,
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"chromium failed ({done.returncode}):\n{done.stderr[-2000:]}"
    return done.stdout


def _visible_text(dom: str) -> str:
    without_code = re.sub(r"<(script|style)\b.*?</\1>", " ", dom, flags=re.S)
    text = html.unescape(re.sub(r"<[^>]+>", " ", without_code))
    return re.sub(r"\s+", " ", text).strip()


def _row_order(dom: str) -> list[str]:
    """The run ids of the runs table's rows, in the order the table shows them.

    The table (ag-grid) gives each row `row-index` (its place) and `row-id` (the run id), and
    repeats a row once per column block, so rows are keyed by their place.
    """
    rows: dict[int, str] = {}
    for tag in re.findall(r"<div\b[^>]*\brow-index=[^>]*>", dom):
        index = re.search(r'\brow-index="(\d+)"', tag)
        run_id = re.search(r'\brow-id="([^"]+)"', tag)
        if index and run_id:
            rows[int(index.group(1))] = run_id.group(1)
    return [rows[i] for i in sorted(rows)]


@pytest.mark.slow
@pytest.mark.processes
def test_the_printed_link_shows_the_trials_best_first(iris, tmp_path: Path) -> None:
    browser = _browser()
    port = free_port()
    args = ["ui", "--port", str(port), "--tracking-uri", iris.tracking_uri]
    with tune_server(args, tmp_path, f"http://127.0.0.1:{port}/health") as log:
        printed = re.search(r"study iris: (\S+)", log.read_text())
        assert printed, log.read_text()
        dom = _render(browser, printed.group(1), tmp_path / "profile")
    text = _visible_text(dom)
    page = f"the page's text:\n{text[:TEXT_SHOWN]}"

    trials = runs(iris.tracking_uri, "iris", "trial")
    missing = sorted(run.info.run_name for run in trials if run.info.run_name not in text)
    assert len(trials) == 3 and not missing, f"trial runs {missing} not shown; {page}"
    assert not [m for m in GENAI_MARKERS if m in text], f"the GenAI view opened; {page}"
    assert 'col-id="metrics.`value`"' in dom, f"no `value` column; {page}"

    # The rows are the trial runs (the parent run is filtered out), best value first. The
    # sort menu's label names the key too: a 3-trial study may improve at every trial, and
    # then "newest first" (the UI's default) puts the same runs in the same order.
    assert "Sort: value" in text, f"not sorted by value; {page}"
    values = {run.info.run_id: run.data.metrics["value"] for run in trials}
    order = _row_order(dom)
    assert sorted(order) == sorted(values), f"rows {order} are not the trials; {page}"
    shown = [values[run_id] for run_id in order]
    assert shown == sorted(shown, reverse=True), f"values {shown} not best first; {page}"
