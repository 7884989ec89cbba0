"""Credentials in storage and tracking URLs never reach the screen, MLflow or reports."""

from __future__ import annotations

import pytest

from search.stores._storage import mask_text, mask_url


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        (
            "postgresql://user:s3cret@db.example:5432/tune",
            "postgresql://user:***@db.example:5432/tune",
        ),
        ("postgresql+psycopg2://u:p%40ss@host/db", "postgresql+psycopg2://u:***@host/db"),
        (
            "mysql://root:pw@localhost/optuna?charset=utf8",
            "mysql://root:***@localhost/optuna?charset=utf8",
        ),
        ("http://alice:token@mlflow:5000", "http://alice:***@mlflow:5000"),
        ("postgresql://user@host/db", "postgresql://user@host/db"),
        ("sqlite:///mlruns/optuna.db", "sqlite:///mlruns/optuna.db"),
    ],
)
def test_mask_url_hides_only_the_password(url: str, masked: str) -> None:
    assert mask_url(url) == masked


def test_mask_text_removes_the_password_wherever_it_appears() -> None:
    url = "postgresql://tune:hunter2@db/tune"
    text = f"could not connect to {url} (password hunter2 rejected)"
    assert "hunter2" not in mask_text(text, url)
    assert "postgresql://tune:***@db/tune" in mask_text(text, url)


def test_an_unreachable_storage_is_reported_without_its_password(tune, stores) -> None:
    secret = "n0t-f0r-y0ur-eyes"
    url = f"postgresql+psycopg2://tune:{secret}@127.0.0.1:1/tune"
    result = tune("run", "--data", "iris", "--storage", url, "--tracking-uri", stores.tracking_uri,
                  "--quiet", code=2)  # fmt: skip
    assert secret not in result.out + result.err
    assert "tune:***@127.0.0.1:1/tune" in result.err
    assert result.err.strip().startswith("error: cannot reach the storage at postgresql+psycopg2")


def test_an_unreachable_tracking_store_is_reported_without_its_password(tune, stores) -> None:
    secret = "An0ther-s3cret"
    url = f"postgresql+psycopg2://tune:{secret}@127.0.0.1:1/mlflow"
    result = tune("run", "--data", "iris", "--storage", stores.storage, "--tracking-uri", url,
                  "--quiet", code=2)  # fmt: skip
    assert secret not in result.out + result.err
    assert result.err.strip().startswith("error: cannot reach the tracking store at postgresql")
