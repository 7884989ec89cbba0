"""Data sources: the bundled datasets, CSV, Parquet and .npz files, and every way one is wrong."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from objectives import BUILTINS, image_shape, load_frame, target_columns
from spaces import ConfigError, DataError
from tests.conftest import obeying_file_modes
from tests.objectives.tiny import Write, tiny_frame

SHAPES = {
    "breast_cancer": (569, 31),
    "digits": (1797, 65),
    "wine": (178, 14),
    "iris": (150, 5),
    "diabetes": (442, 11),
}


def test_the_builtins_are_the_five_of_the_issue() -> None:
    assert set(BUILTINS) == set(SHAPES)


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_builtins_load_with_target_last(name: str) -> None:
    frame = load_frame(name)
    assert frame.shape == SHAPES[name]
    assert frame.columns[-1] == "target"
    assert not frame.isna().any().any()


def test_csv_is_read_as_written(write: Write) -> None:
    original = tiny_frame(12)
    frame = load_frame(write(original, "tiny.csv"))
    pd.testing.assert_frame_equal(frame, original)


@pytest.mark.parametrize("suffix", [".parquet", ".pq", ".PARQUET"])
def test_parquet_is_read_as_written(write: Write, suffix: str) -> None:
    original = tiny_frame(12)
    frame = load_frame(write(original, f"tiny{suffix}"))
    pd.testing.assert_frame_equal(frame, original)


def test_a_restored_parquet_index_is_dropped(write: Write) -> None:
    # pandas restores a stored index; repeated labels made the splits pick rows twice.
    original = tiny_frame(12).set_axis([7] * 12)
    frame = load_frame(write(original, "dup.parquet"))
    assert list(frame.index) == list(range(12))


def test_missing_file(tmp_path: Path) -> None:
    source = str(tmp_path / "nope.csv")
    with pytest.raises(DataError) as info:
        load_frame(source)
    assert (
        str(info.value) == f"data file '{source}' does not exist; check the path given to --data."
    )


def test_empty_csv(write: Write) -> None:
    with pytest.raises(DataError, match=r"is empty; give a file with a header and data\.$"):
        load_frame(write(b""))


def test_csv_with_a_header_and_no_rows(write: Write) -> None:
    with pytest.raises(DataError, match=r"has no rows; give a file with a header and data\.$"):
        load_frame(write("a,b,target\n"))


@pytest.mark.parametrize("name", ["data.txt", "data.json", "data.xlsx", "data.csv.gz"])
def test_unsupported_suffix(write: Write, name: str) -> None:
    source = write("a,b\n1,2\n", name)
    with pytest.raises(ConfigError) as info:
        load_frame(source)
    message = str(info.value)
    assert f"unsupported file type '{Path(name).suffix}'" in message
    assert message.endswith(
        "Use a file ending in .csv, .npz, .parquet, .pq, an image or a folder of images."
    )


@pytest.mark.parametrize("name", ["iris2", "Iris", "mnist"])
def test_unknown_builtin_lists_the_builtins(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as info:
        load_frame(name)
    assert str(info.value) == (
        f"unknown built-in dataset '{name}'. Use one of: breast_cancer, diabetes, digits, "
        "iris, wine, a path to a .csv, .parquet or .npz file, or a folder of images."
    )


@pytest.mark.parametrize("source", ["", "  "])
def test_blank_source(source: str) -> None:
    with pytest.raises(ConfigError, match="data must be a built-in dataset name or a file path"):
        load_frame(source)


def test_binary_garbage_in_a_csv_is_a_data_error(write: Write) -> None:
    source = write(bytes(range(256)) * 4)
    with pytest.raises(
        DataError, match=rf"^cannot read data file '{source}': .*\. Check its format\.$"
    ):
        load_frame(source)


def test_corrupt_parquet_is_a_data_error(write: Write) -> None:
    source = write(b"PAR1 this is not parquet", "bad.parquet")
    with pytest.raises(DataError, match=rf"^cannot read data file '{source}'"):
        load_frame(source)


def test_a_directory_is_read_as_an_image_folder_whatever_its_name(tmp_path: Path) -> None:
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    with pytest.raises(DataError, match=r"folder '.*folder\.csv' has no images"):
        load_frame(str(folder))


def test_a_file_without_read_permission(write: Write) -> None:
    source = write(tiny_frame(12))
    os.chmod(source, 0)
    # In a process of its own, which obeys the file's mode even where the tests run as root.
    script = (
        "import sys; from objectives import load_frame; from spaces import DataError\n"
        "try: load_frame(sys.argv[1])\nexcept DataError as e: print(e)"
    )
    done = subprocess.run(
        [*obeying_file_modes(), sys.executable, "-c", script, source],
        capture_output=True, text=True, timeout=120, cwd=Path(__file__).parents[2],
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert re.fullmatch(r"cannot read data file .*Permission denied.*\n", done.stdout)


def test_messages_are_one_line(write: Write, tmp_path: Path) -> None:
    sources = [write(b"\xff\xfe\x00" * 50), write(b"PAR1", "x.parquet"), str(tmp_path / "n.csv")]
    sources.append(write('a,b\n1,"2\n3,4\n', "quote.csv"))
    for source in sources:
        with pytest.raises(DataError) as info:
            load_frame(source)
        assert "\n" not in str(info.value)


def test_numbers_stay_numbers(write: Write) -> None:
    frame = load_frame(write("a,b,c\n1,2.5,x\n3,,y\n"))
    assert frame["a"].dtype == np.int64
    assert frame["b"].isna().tolist() == [False, True]
    assert list(frame["c"]) == ["x", "y"]


def _npz(tmp_path: Path, **arrays: np.ndarray) -> str:
    path = tmp_path / "data.npz"
    np.savez(path, **arrays)
    return str(path)


def test_npz_inputs_become_columns_and_y_the_target(tmp_path: Path) -> None:
    x = np.arange(12, dtype="float32").reshape(4, 3)
    frame = load_frame(_npz(tmp_path, x=x, y=np.array([0, 1, 0, 1])))
    assert list(frame.columns) == ["x0", "x1", "x2", "target"]
    np.testing.assert_array_equal(frame[["x0", "x1", "x2"]].to_numpy(), x)
    assert target_columns(frame, None) == ["target"]


def test_npz_images_are_flattened_and_label_columns_are_the_default_targets(
    tmp_path: Path,
) -> None:
    x = np.random.default_rng(0).random((5, 2, 3, 1))  # five tiny 2x3 grey images
    y = np.eye(3, dtype="int64")[[0, 1, 2, 0, 1]]
    frame = load_frame(_npz(tmp_path, X=x, Y=y))
    assert frame.shape == (5, 6 + 3)
    np.testing.assert_array_equal(frame.iloc[:, :6].to_numpy(), x.reshape(5, -1))
    assert target_columns(frame, None) == ["target_0", "target_1", "target_2"]
    assert target_columns(frame, "target_1") == ["target_1"]
    assert image_shape(list(frame.columns[:6])) == (2, 3, 1)  # kept for the cnn family


@pytest.mark.parametrize(
    ("shape", "image"),
    [((4, 5, 6), (5, 6, 1)), ((4, 2, 2, 3), (2, 2, 3)), ((4, 2, 2, 5), None), ((4, 3), None)],
)
def test_npz_inputs_keep_their_image_shape_if_they_are_images(
    tmp_path: Path, shape: tuple[int, ...], image: tuple[int, int, int] | None
) -> None:
    frame = load_frame(_npz(tmp_path, x=np.zeros(shape), y=np.arange(4)))
    assert image_shape([str(c) for c in frame.columns[:-1]]) == image


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"features": np.zeros((3, 2)), "y": np.zeros(3)}, r"holds arrays \['features', 'y'\]"),
        ({"x": np.zeros((3, 2)), "y": np.zeros(4)}, r"x has shape \(3, 2\) and y \(4,\)"),
        ({"x": np.zeros((3, 2)), "y": np.zeros((3, 1, 1))}, r"y \(3, 1, 1\); give x"),
        ({"x": np.float64(1.0), "y": np.zeros(3)}, r"x has shape \(\) and y"),
    ],
)
def test_npz_without_matching_x_and_y_is_one_clear_line(
    tmp_path: Path, arrays: dict[str, np.ndarray], message: str
) -> None:
    with pytest.raises(DataError, match=message) as info:
        load_frame(_npz(tmp_path, **arrays))
    assert "\n" not in str(info.value)


def test_npz_with_python_objects_is_refused_without_unpickling(tmp_path: Path) -> None:
    source = _npz(tmp_path, x=np.array([{"a": 1}, None], dtype=object), y=np.zeros(2))
    with pytest.raises(DataError, match=rf"^cannot read data file '{source}': .*allow_pickle"):
        load_frame(source)
