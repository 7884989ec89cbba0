"""Image folders as rows of pixels: labels from class folders, shapes, conversions, bad files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from objectives import image_shape, load_frame, prepare
from objectives._images import FILES_ATTR, LABEL_COLUMN, MAX_INPUTS, pixel_columns
from spaces import DataError
from tests.objectives.images import digit_images, digits_folder


def test_class_folders_become_labels_and_pixels_become_columns(tmp_path: Path) -> None:
    frame = load_frame(str(digits_folder(tmp_path / "digits")))
    images, labels = digit_images()
    assert list(frame.columns) == [*pixel_columns((8, 8, 1)), LABEL_COLUMN]
    assert list(frame[LABEL_COLUMN]) == [f"digit_{n}" for n in labels]
    np.testing.assert_array_equal(
        frame.drop(columns=LABEL_COLUMN).to_numpy(), images.reshape(90, 64)
    )
    assert frame.attrs[FILES_ATTR][:2] == ["digit_0/000.png", "digit_0/001.png"]


def test_a_folder_of_images_alone_has_no_target(tmp_path: Path) -> None:
    for i, image in enumerate(digit_images(per_class=2)[0]):
        Image.fromarray(image, mode="L").save(tmp_path / f"{i}.png")
    (tmp_path / "notes.txt").write_text("not an image")
    frame = load_frame(str(tmp_path))
    assert frame.shape == (6, 64)
    assert LABEL_COLUMN not in frame.columns


def test_images_take_the_most_common_size_and_color_if_any_is_color(tmp_path: Path) -> None:
    folder = digits_folder(tmp_path / "digits", per_class=4)
    Image.new("RGB", (16, 12), (255, 0, 0)).save(folder / "digit_0" / "red.png")
    frame = load_frame(str(folder))
    assert image_shape([str(c) for c in frame.columns[:-1]]) == (8, 8, 3)
    red = frame.iloc[list(frame.attrs[FILES_ATTR]).index("digit_0/red.png"), :-1]
    assert list(red[:3]) == [255, 0, 0]  # resized, still red
    gray = frame.iloc[0, :-1].to_numpy().reshape(8, 8, 3)
    assert (gray[..., 0] == gray[..., 1]).all()  # grayscale images become equal channels


def test_a_given_shape_resizes_every_image(tmp_path: Path) -> None:
    folder = digits_folder(tmp_path / "digits", per_class=2)
    frame = load_frame(str(folder), image_shape=(4, 6, 1))
    assert list(frame.columns[:-1]) == pixel_columns((4, 6, 1))


@pytest.mark.parametrize(
    ("names", "shape"),
    [
        (pixel_columns((28, 28, 1)), (28, 28, 1)),
        (pixel_columns((2, 3, 3)), (2, 3, 3)),
        (pixel_columns((2, 2, 1))[:-1], None),  # a column missing
        (["age", "income"], None),
        ([], None),
    ],
)
def test_image_shape_is_read_back_from_the_columns(names: list[str], shape: object) -> None:
    assert image_shape(names) == shape


def test_an_empty_folder_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "cats").mkdir()
    with pytest.raises(DataError, match=r"has no images \(.bmp, .gif.*one subfolder per class"):
        load_frame(str(tmp_path))


def test_a_broken_image_names_the_file(tmp_path: Path) -> None:
    folder = digits_folder(tmp_path / "digits", per_class=2)
    (folder / "digit_1" / "broken.png").write_bytes(b"not a png")
    with pytest.raises(DataError, match=r"cannot read image '.*broken.png'.*Remove or replace it"):
        load_frame(str(folder))


def test_a_truncated_image_names_the_file(tmp_path: Path) -> None:
    folder = digits_folder(tmp_path / "digits", per_class=2)
    whole = tmp_path / "whole.png"
    Image.new("L", (8, 8), 7).save(whole)
    (folder / "digit_1" / "cut.png").write_bytes(whole.read_bytes()[:40])
    with pytest.raises(DataError, match=r"cannot read image '.*cut.png'"):
        load_frame(str(folder))


def test_images_too_large_for_a_dense_network_are_refused(tmp_path: Path) -> None:
    side = int((MAX_INPUTS / 3) ** 0.5) + 1
    for label in ("a", "b"):
        (tmp_path / label).mkdir()
        Image.new("RGB", (side, side)).save(tmp_path / label / "x.png")
    with pytest.raises(DataError, match=r"more than \d+ inputs for a dense network; resize"):
        load_frame(str(tmp_path))


def test_one_image_file_is_one_row_to_predict(tmp_path: Path) -> None:
    image = digit_images(per_class=1)[0][0]
    Image.fromarray(image, mode="L").save(tmp_path / "seven.png")
    frame = load_frame(str(tmp_path / "seven.png"), image_shape=(8, 8, 1))
    np.testing.assert_array_equal(frame.to_numpy(), image.reshape(1, 64))
    assert frame.attrs[FILES_ATTR] == ["seven.png"]


def test_one_image_file_is_no_data_to_search(tmp_path: Path) -> None:
    Image.new("L", (8, 8)).save(tmp_path / "one.png")
    with pytest.raises(DataError, match=r"is one image, something to predict; to search, give a"):
        prepare(str(tmp_path / "one.png"))
