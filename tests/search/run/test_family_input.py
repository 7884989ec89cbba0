"""Bad input for the families: one `error:` line naming the fix, a non-zero exit, empty stores."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from search.run._setup import make_setup
from search.run._spec import build_spec
from tests.objectives.images import digits_folder
from tests.search.run.families import base_model, sequences_npz
from tests.search.run.test_bad_input import clean_error, stores_are_empty

Fails = Callable[..., str]


@pytest.fixture
def fails(tune: Callable[..., Any], stores: Any) -> Fails:
    """Run `tune run ARGS` on the test's stores, expect `code`; return the error line."""

    def run(*args: str, code: int) -> str:
        result = tune("run", "--quiet", *args, *stores.flags(), code=code)
        line = clean_error(result.err, result.out)
        stores_are_empty(stores.storage, stores.tracking_uri)
        return line

    return run


def _csv(tmp_path: Path) -> str:
    frame = pd.DataFrame({"a": np.arange(30.0), "label": ["x", "y", "z"] * 10})
    path = tmp_path / "table.csv"
    frame.to_csv(path, index=False)
    return str(path)


def test_the_rnn_space_on_a_csv(fails: Fails, tmp_path: Path) -> None:
    line = fails("--data", _csv(tmp_path), "--space", "rnn", code=2)
    assert line.startswith("error: the rnn space needs sequences: give an .npz file whose x is")
    assert "Use --space auto or dense." in line


def test_the_rnn_space_on_an_image_folder(fails: Fails, tmp_path: Path) -> None:
    folder = digits_folder(tmp_path / "digits", per_class=5)
    line = fails("--data", str(folder), "--space", "rnn", code=2)
    assert "the rnn space needs sequences" in line and "is a folder of images" in line


def test_the_cnn_space_on_a_csv(fails: Fails, tmp_path: Path) -> None:
    line = fails("--data", _csv(tmp_path), "--space", "cnn", code=2)
    assert line.startswith("error: the cnn space needs images: give a folder of images")
    assert line.endswith("or use --space dense.")


def test_the_cnn_space_on_a_2d_x(fails: Fails, tmp_path: Path) -> None:
    path = tmp_path / "rows.npz"
    np.savez(path, x=np.zeros((30, 5)), y=np.arange(30) % 2)
    line = fails("--data", str(path), "--space", "cnn", code=2)
    assert "the cnn space needs images" in line and "an .npz whose x is 2-D" in line


def test_sequences_whose_x_and_y_lengths_differ(fails: Fails, tmp_path: Path) -> None:
    path = tmp_path / "short.npz"
    np.savez(path, x=np.zeros((30, 6, 2)), y=np.arange(29) % 2)
    line = fails("--data", str(path), code=1)
    assert "x has shape (30, 6, 2) and y (29,)" in line and "as many rows" in line


def test_sequences_holding_nan(fails: Fails, tmp_path: Path) -> None:
    x = np.zeros((30, 6, 2))
    x[[4, 9], 2, 1] = np.nan
    path = tmp_path / "holes.npz"
    np.savez(path, x=x, y=np.arange(30) % 2)
    line = fails("--data", str(path), code=1)
    assert "x holds NaN or infinite values in 2 sequence(s), the first at row 4" in line
    assert line.endswith("fill or drop those sequences.")


def test_a_missing_base_model(fails: Fails, tmp_path: Path) -> None:
    data = str(sequences_npz(tmp_path / "waves.npz"))
    line = fails("--data", data, "--base-model", str(tmp_path / "nope.keras"), code=2)
    assert line == (
        f"error: base model '{tmp_path / 'nope.keras'}' does not exist; give a .keras file "
        "saved with model.save()."
    )


def test_a_base_model_that_is_no_keras_file(fails: Fails, tmp_path: Path) -> None:
    data = str(sequences_npz(tmp_path / "waves.npz"))
    fake = tmp_path / "fake.keras"
    fake.write_text("not a model")
    line = fails("--data", data, "--base-model", str(fake), code=2)
    assert line.startswith(f"error: cannot load base model '{fake}': ")
    assert line.endswith("Give a .keras file saved with model.save().")


def test_a_base_model_of_another_input_shape(fails: Fails, tmp_path: Path) -> None:
    data = str(sequences_npz(tmp_path / "waves.npz", steps=6, features=2))
    base = str(base_model(tmp_path / "base.keras", (5, 2)))
    line = fails("--data", data, "--base-model", base, code=2)
    assert "takes inputs of shape (5, 2), but the data gives (6, 2)" in line
    assert line.endswith("use a base trained on inputs of the data's shape.")


def test_a_base_model_with_another_space(fails: Fails, tmp_path: Path) -> None:
    data = str(sequences_npz(tmp_path / "waves.npz"))
    base = str(base_model(tmp_path / "base.keras", (6, 2)))
    line = fails("--data", data, "--base-model", base, "--space", "dense", code=2)
    assert "which the dense space cannot feed; drop --space or use --space rnn." in line


def test_another_familys_table_is_a_warning(tmp_path: Path) -> None:
    config = tmp_path / "study.toml"
    config.write_text("[study]\ndata = 'iris'\n[space.rnn]\nlayers = [1, 1]\n[space.cnn]\n")
    setup = make_setup(build_spec({}, config))
    assert setup.choice.family == "dense"
    assert setup.warnings == (
        "[space.cnn] is set, but the dense family is searched without a base model; "
        "its keys are ignored",
        "[space.rnn] is set, but the dense family is searched without a base model; "
        "its keys are ignored",
    )


def test_flat_cnn_keys_are_read_with_a_note(tmp_path: Path) -> None:
    config = tmp_path / "study.toml"
    config.write_text("[study]\ndata = 'digits'\nspace = 'cnn'\n[space]\nfilters = [8, 16]\n")
    setup = make_setup(build_spec({}, config))
    assert setup.spec.space_config.cnn.filters == (8, 16)
    assert setup.notes == ("[space] filters now belongs in [space.cnn]; it was read from [space]",)
    assert not setup.warnings


@pytest.mark.parametrize("space", ["auto", "dense"])
def test_dense_reads_any_array_as_rows(tmp_path: Path, space: str) -> None:
    data = str(sequences_npz(tmp_path / "waves.npz"))
    setup = make_setup(build_spec({"data": data, "space": space}))
    expected = "rnn" if space == "auto" else "dense"
    assert setup.choice.family == expected
    assert setup.data.problem.n_inputs == 12
