"""Sequences: .npz arrays read as a family reads them, per-feature standardisation, auto's rule."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from objectives import choose_family, load_frame, prepare, sequence_shape
from objectives._folds import cv_folds
from objectives._preprocess import Preprocessor
from objectives._sequences import sequence_columns
from spaces import ConfigError
from tests.objectives.images import digits_folder


def _npz(path: Path, x: np.ndarray, y: np.ndarray | None = None) -> str:
    np.savez(path, x=x, y=np.arange(len(x)) % 2 if y is None else y)
    return str(path)


@pytest.mark.parametrize(
    ("shape", "layout", "columns"),
    [
        ((5, 4, 2), "sequences", "seq4x2_0"),
        ((5, 4), "sequences", "seq4x1_0"),  # univariate: (N, T) is (N, T, 1)
        ((5, 4, 2), "images", "img4x2x1_0"),  # grayscale (N, H, W)
        ((5, 4, 2), None, "img4x2x1_0"),  # rows: as before families chose a reading
        ((5, 4), None, "x0"),
    ],
)
def test_an_npz_is_read_as_the_family_reads_it(
    tmp_path: Path, shape: tuple[int, ...], layout: str | None, columns: str
) -> None:
    frame = load_frame(_npz(tmp_path / "a.npz", np.ones(shape)), layout=layout)
    assert frame.columns[0] == columns and frame.shape == (5, int(np.prod(shape[1:])) + 1)


def test_sequences_are_standardised_per_feature_on_the_rows_given() -> None:
    x = np.stack([np.arange(6.0).reshape(3, 2) * [1, 100]] * 4)  # feature 1 is 100x feature 0
    frame = pd.DataFrame(x.reshape(4, -1), columns=sequence_columns((3, 2)))
    fitted = Preprocessor.fit(frame)
    means = {c.name: c.mean for c in fitted.numeric}
    assert means["seq3x2_0"] == means["seq3x2_2"] == means["seq3x2_4"] == pytest.approx(2.0)
    assert means["seq3x2_1"] == means["seq3x2_5"] == pytest.approx(300.0)
    scaled = fitted.transform(frame).reshape(4, 3, 2)
    # Standardised per feature, steps keep their order: rising stays rising.
    assert np.all(np.diff(scaled[0, :, 0]) > 0)
    np.testing.assert_allclose(scaled[0, :, 0], scaled[0, :, 1])


def test_folds_refit_the_per_feature_standardisation(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    data = prepare(_npz(tmp_path / "s.npz", rng.normal(size=(40, 5, 2))), layout="sequences")
    assert data.problem.sequence_shape == (5, 2) and data.problem.n_inputs == 10
    folds = cv_folds(data, 2, seed=0)
    assert all(f.problem.sequence_shape == (5, 2) for f in folds)
    assert folds[0].preprocessor != folds[1].preprocessor  # each fitted on its own rows
    assert sequence_shape(folds[0].preprocessor.columns) == (5, 2)


def test_labels_keep_their_own_values(tmp_path: Path) -> None:
    x = np.random.default_rng(0).normal(size=(30, 4, 1))
    data = prepare(_npz(tmp_path / "s.npz", x, np.array([1, 2] * 15)), layout="sequences")
    assert data.encoding.task == "binary" and list(data.encoding.classes) == [1, 2]


def test_the_auto_rule(tmp_path: Path) -> None:
    csv = tmp_path / "t.csv"
    pd.DataFrame({"a": [1, 2]}).to_csv(csv, index=False)
    folder = digits_folder(tmp_path / "digits", per_class=3)
    cases = {
        "iris": "dense",
        str(csv): "dense",
        str(folder): "cnn",
        _npz(tmp_path / "2d.npz", np.ones((4, 3))): "dense",
        _npz(tmp_path / "3d.npz", np.ones((4, 3, 2))): "rnn",
        _npz(tmp_path / "4d.npz", np.ones((4, 3, 3, 1))): "cnn",
    }
    for source, family in cases.items():
        assert choose_family(source, "auto").family == family, source
    assert choose_family("digits", "cnn").family == "cnn"  # rows that know their images
    with pytest.raises(ConfigError, match=r"^the rnn space needs sequences"):
        choose_family(_npz(tmp_path / "4d.npz", np.ones((4, 3, 3, 1))), "rnn")
    assert choose_family(_npz(tmp_path / "2d.npz", np.ones((4, 3))), "rnn").family == "rnn"
