"""The store options: flags, or TUNE_STORAGE and TUNE_TRACKING_URI in the environment."""

from __future__ import annotations

import os
import stat
from urllib.parse import urlsplit, urlunsplit

import optuna
import pytest

pytestmark = pytest.mark.slow


def test_environment_variables_stand_in_for_the_store_flags(
    tune, stores, tiny_config, monkeypatch
) -> None:
    monkeypatch.setenv("TUNE_STORAGE", stores.storage)
    monkeypatch.setenv("TUNE_TRACKING_URI", stores.tracking_uri)

    tune("run", "--config", str(tiny_config), "--trials", "1", "--quiet", "--no-report")

    assert len(optuna.load_study(study_name="iris", storage=stores.storage).trials) == 1
    assert "iris" in tune("studies").out  # the light commands read them too


def test_a_flag_wins_over_its_environment_variable(tune, stores, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("TUNE_STORAGE", f"sqlite:///{tmp_path / 'elsewhere' / 'optuna.db'}")

    err = tune("trials", "iris", "--storage", stores.storage, code=2).err

    assert err.startswith("error: no study store at")
    assert str(stores.root / "optuna.db") in err and "elsewhere" not in err


@pytest.mark.postgres
def test_a_postgresql_url_without_its_password_uses_pgpassfile(
    tune, postgres_databases, tiny_config, tmp_path, monkeypatch
) -> None:
    storage, tracking = postgres_databases
    parts = urlsplit(storage)
    passfile = tmp_path / "pgpass"
    passfile.write_text(f"{parts.hostname}:{parts.port}:*:{parts.username}:{parts.password}\n")
    os.chmod(passfile, stat.S_IRUSR | stat.S_IWUSR)  # libpq ignores a file others can read
    monkeypatch.setenv("PGPASSFILE", str(passfile))
    bare = urlunsplit(parts._replace(netloc=f"{parts.username}@{parts.hostname}:{parts.port}"))

    tune("run", "--config", str(tiny_config), "--trials", "1", "--quiet", "--no-report",
         "--storage", bare, "--tracking-uri", tracking)  # fmt: skip

    assert len(optuna.load_study(study_name="iris", storage=storage).trials) == 1
