"""The registered model's signature: raw columns (or the image tensor) in, labels out."""

from __future__ import annotations

from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest

from objectives import Preprocessor
from search.ship._signature import input_example, raw_signature
from tests.objectives.images import digit_images, digits_folder


def _meta(frame: pd.DataFrame, task: str, target: list[str], classes: list) -> dict:
    return {
        "task": task,
        "target": target,
        "classes": classes,
        "preprocessor": Preprocessor.fit(frame).to_dict(),
    }


def test_table_inputs_are_optional_doubles_and_strings() -> None:
    frame = pd.DataFrame({"age": [30, 40, 50], "height": [1.7, None, 1.8], "city": list("abc")})

    signature = raw_signature(_meta(frame, "binary", ["sick"], [0, 1]))

    kinds = {s.name: (s.type.name, s.required) for s in signature.inputs.inputs}
    assert kinds == {
        "age": ("double", False),
        "height": ("double", False),
        "city": ("string", False),
    }
    assert signature.outputs.input_names() == ["sick", "proba_0", "proba_1"]
    assert signature.outputs.inputs[0].type.name == "long"


@pytest.mark.parametrize(
    ("task", "target", "classes", "names", "first"),
    [
        ("regression", ["price"], [], ["price"], "double"),
        (
            "multiclass",
            ["kind"],
            ["a", "b", "c"],
            ["kind", "proba_a", "proba_b", "proba_c"],
            "string",
        ),
        ("multilabel", ["x", "y"], [], ["x", "y", "proba_x", "proba_y"], "long"),
    ],
)
def test_outputs_follow_the_task(task, target, classes, names, first) -> None:
    frame = pd.DataFrame({"f": [1.0, 2.0, 3.0]})

    outputs = raw_signature(_meta(frame, task, target, classes)).outputs

    assert outputs.input_names() == names
    assert outputs.inputs[0].type.name == first


def test_images_are_one_tensor_in_their_shape() -> None:
    images, _ = digit_images(per_class=2)
    frame = pd.DataFrame(images.reshape(len(images), -1), columns=_pixels((8, 8, 1)))
    meta = _meta(frame, "multiclass", ["label"], ["digit_0", "digit_1", "digit_2"])

    (spec,) = raw_signature(meta).inputs.inputs
    example = input_example(meta, frame.head(3))

    assert spec.shape == (-1, 8, 8, 1) and spec.type == np.dtype(np.float32)
    assert example.shape == (3, 8, 8, 1) and example.dtype == np.float32
    np.testing.assert_array_equal(example[:, :, :, 0], images[:3])


def _pixels(shape: tuple[int, int, int]) -> list[str]:
    from objectives._images import pixel_columns

    return pixel_columns(shape)


@pytest.mark.slow
def test_a_registered_image_model_predicts_an_image_tensor(tune, stores, tmp_path: Path) -> None:
    folder = digits_folder(tmp_path / "digits")
    tune("run", "--data", str(folder), "--trials", "2", "--max-epochs", "2",
         "--quiet", "--no-report", *stores.flags())  # fmt: skip
    out = tmp_path / "export"
    tune("export", "digits", "--out", str(out), "--register", "digits-model", *stores.flags())
    mlflow.set_tracking_uri(stores.tracking_uri)
    model = mlflow.pyfunc.load_model("models:/digits-model@champion")
    images, _ = digit_images(per_class=2)

    from_tensor = model.predict(images[..., np.newaxis].astype(np.float32))

    from_files = pd.read_csv(
        __import__("io").StringIO(tune("predict", str(out), "--data", str(folder / "digit_1")).out)
    )
    assert list(from_tensor.columns) == ["label", "proba_digit_0", "proba_digit_1", "proba_digit_2"]
    assert len(from_tensor) == len(images)
    # digit_1's first two images are the tensor's rows 2 and 3 (two images a class).
    np.testing.assert_allclose(
        from_tensor.iloc[2:4, 1:].to_numpy(), from_files.iloc[:2, 2:].to_numpy(), atol=1e-5
    )
    with pytest.raises(Exception, match="shape"):
        model.predict(np.zeros((2, 9, 9, 1), dtype=np.float32))


def test_sequences_are_one_tensor_of_steps_and_features() -> None:
    from objectives._sequences import sequence_columns

    x = np.arange(3 * 4 * 2, dtype=np.float64).reshape(3, 4, 2)
    frame = pd.DataFrame(x.reshape(3, -1), columns=sequence_columns((4, 2)))
    meta = _meta(frame, "binary", ["target"], [1, 2])

    (spec,) = raw_signature(meta).inputs.inputs
    example = input_example(meta, frame)

    assert spec.shape == (-1, 4, 2) and spec.type == np.dtype(np.float32)
    np.testing.assert_array_equal(example, x.astype(np.float32))


@pytest.mark.slow
def test_a_registered_sequence_model_predicts_a_sequence_tensor(
    tune, stores, tmp_path: Path
) -> None:
    from tests.search.run.families import sequences_npz

    data = sequences_npz(tmp_path / "waves.npz")
    tune("run", "--data", str(data), "--trials", "1", "--max-epochs", "1",
         "--quiet", "--no-report", *stores.flags())  # fmt: skip
    out = tmp_path / "export"
    tune("export", "waves", "--out", str(out), "--register", "waves-model", *stores.flags())
    mlflow.set_tracking_uri(stores.tracking_uri)
    model = mlflow.pyfunc.load_model("models:/waves-model@champion")
    (spec,) = model.metadata.get_input_schema().inputs
    assert spec.shape == (-1, 6, 2)
    with np.load(data) as arrays:
        x = arrays["x"]

    from_tensor = model.predict(x.astype(np.float32))

    from_file = pd.read_csv(
        __import__("io").StringIO(tune("predict", str(out), "--data", str(data)).out)
    )
    assert set(from_tensor["target"]) <= {1, 2}
    np.testing.assert_allclose(
        from_tensor[["proba_1", "proba_2"]].to_numpy(),
        from_file[["proba_1", "proba_2"]].to_numpy(),
        atol=1e-5,
    )
