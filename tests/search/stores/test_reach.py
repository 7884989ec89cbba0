"""A store whose server is down, or never answers, is one line within seconds, naming which."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from search.stores._storage import CONNECT_TIMEOUT_S

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections (the kernel's backlog does) and never says a word."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    try:
        yield int(server.getsockname()[1])
    finally:
        server.close()


def _storage(port: int) -> str:
    return f"postgresql://tune:s3cret@127.0.0.1:{port}/optuna"


def _tracking(port: int) -> str:
    return f"http://tune:s3cret@127.0.0.1:{port}"


@pytest.mark.parametrize("silent", [False, True], ids=["closed-port", "silent-server"])
@pytest.mark.parametrize(
    ("flag", "url", "what"),
    [
        ("--storage", _storage, "the storage at postgresql://tune:***@127.0.0.1:"),
        ("--tracking-uri", _tracking, "the tracking store at http://tune:***@127.0.0.1:"),
    ],
    ids=["storage", "tracking"],
)
def test_an_unreachable_store_fails_fast_and_leaves_nothing(
    tune, tmp_path: Path, monkeypatch, silent_port: int, silent, flag, url, what
) -> None:
    monkeypatch.chdir(tmp_path)
    port = silent_port if silent else _free_port()

    started = time.monotonic()
    err = tune("run", "--data", "iris", flag, url(port), "--quiet", code=2).err
    took = time.monotonic() - started

    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: cannot reach {what}{port}")
    assert lines[0].endswith(f"Check {flag} and that the server is up.")
    assert "s3cret" not in err
    assert took < CONNECT_TIMEOUT_S + 5 < 10 + 5  # well within 10 s of the first try
    assert not (tmp_path / "mlruns").exists()  # neither default store was created
