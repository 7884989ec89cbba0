"""The preprocessor: imputation, standardisation, one-hot encoding, and its JSON form."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from objectives import Preprocessor
from objectives._preprocess import MAX_CATEGORIES, MAX_STANDARD_SCORE
from spaces import DataError


def _train() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "age": [20.0, 30.0, np.nan, 50.0, 40.0],
            "size": [1, 1, 1, 1, 1],
            "city": ["paris", "rome", "paris", None, "oslo"],
            "member": [True, False, True, True, False],
        }
    )


def test_numeric_columns_are_imputed_with_the_median_then_standardised() -> None:
    prep = Preprocessor.fit(_train())
    age = prep.numeric[0]
    assert age.name == "age"
    assert age.fill == 35.0  # median of 20, 30, 50, 40
    filled = np.array([20.0, 30.0, 35.0, 50.0, 40.0])
    assert age.mean == pytest.approx(filled.mean())
    assert age.scale == pytest.approx(filled.std())
    out = prep.transform(_train())
    np.testing.assert_allclose(out[:, 0], (filled - filled.mean()) / filled.std(), rtol=1e-6)


def test_a_constant_column_keeps_scale_one() -> None:
    prep = Preprocessor.fit(_train())
    size = prep.numeric[1]
    assert (size.mean, size.scale) == (1.0, 1.0)
    np.testing.assert_array_equal(prep.transform(_train())[:, 1], 0.0)


def test_an_all_missing_numeric_column_becomes_zeros() -> None:
    frame = pd.DataFrame({"x": [np.nan, np.nan], "y": [1.0, 2.0]})
    prep = Preprocessor.fit(frame)
    np.testing.assert_array_equal(prep.transform(frame)[:, 0], [0.0, 0.0])


def test_text_and_boolean_columns_are_one_hot_in_sorted_order() -> None:
    prep = Preprocessor.fit(_train())
    city, member = prep.categorical
    assert city.categories == ("oslo", "paris", "rome")
    assert city.fill == "paris"  # the mode fills a missing category
    assert member.categories == ("False", "True")
    assert prep.columns == ["age", "size", "city", "member"]
    assert prep.width == 2 + 3 + 2
    out = prep.transform(_train())
    np.testing.assert_array_equal(
        out[:, 2:5], [[0, 1, 0], [0, 0, 1], [0, 1, 0], [0, 1, 0], [1, 0, 0]]
    )
    np.testing.assert_array_equal(out[:, 5:], [[0, 1], [1, 0], [0, 1], [0, 1], [1, 0]])


def test_unknown_categories_encode_as_zeros() -> None:
    prep = Preprocessor.fit(_train())
    new = _train().iloc[:2].assign(city=["tokyo", "rome"])
    out = prep.transform(new)
    np.testing.assert_array_equal(out[:, 2:5], [[0, 0, 0], [0, 0, 1]])


def test_only_the_most_frequent_categories_are_kept() -> None:
    names = [f"c{i:02d}" for i in range(MAX_CATEGORIES + 8)]
    values = names * 2 + names[:MAX_CATEGORIES]  # the first MAX_CATEGORIES are most frequent
    prep = Preprocessor.fit(pd.DataFrame({"tag": values}))
    assert prep.categorical[0].categories == tuple(names[:MAX_CATEGORIES])
    assert prep.transform(pd.DataFrame({"tag": [names[-1]]})).sum() == 0.0


def test_transform_gives_float32_in_column_order() -> None:
    prep = Preprocessor.fit(_train())
    shuffled = _train()[["member", "city", "size", "age"]]
    out = prep.transform(shuffled)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, prep.transform(_train()))


def test_schema_names_each_input_kind() -> None:
    assert Preprocessor.fit(_train()).schema() == {
        "age": "numeric",
        "size": "numeric",
        "city": "categorical",
        "member": "categorical",
    }


def test_json_round_trip_gives_the_same_preprocessor() -> None:
    prep = Preprocessor.fit(_train())
    text = json.dumps(prep.to_dict(), allow_nan=False)
    again = Preprocessor.from_dict(json.loads(text))
    assert again == prep
    np.testing.assert_array_equal(again.transform(_train()), prep.transform(_train()))


def test_a_non_numeric_value_in_a_numeric_column_is_a_data_error() -> None:
    prep = Preprocessor.fit(_train())
    bad = _train().astype({"age": object})
    bad.loc[1, "age"] = "thirty"
    with pytest.raises(DataError) as info:
        prep.transform(bad)
    assert str(info.value) == (
        "column 'age' must be numeric, but holds 'thirty'; fix that value or drop the row."
    )


def test_numbers_given_as_text_are_accepted() -> None:
    prep = Preprocessor.fit(_train())
    as_text = _train().astype({"age": object})
    as_text["age"] = ["20", "30", None, "50", "40"]
    np.testing.assert_allclose(prep.transform(as_text), prep.transform(_train()))


def test_infinities_are_treated_as_missing() -> None:
    # An inf made the mean inf and every standardised value NaN, so every trial failed.
    frame = pd.DataFrame({"x": [1.0, 2.0, np.inf, 3.0, -np.inf]})
    prep = Preprocessor.fit(frame)
    column = prep.numeric[0]
    assert column.fill == 2.0
    assert np.isfinite([column.mean, column.scale]).all()
    out = prep.transform(frame)
    assert np.isfinite(out).all()
    assert out[2, 0] == out[4, 0] == out[1, 0]  # imputed like a missing value


def test_values_too_large_to_standardise_are_a_data_error() -> None:
    frame = pd.DataFrame({"huge": [1.7e308, -1.7e308, 1.7e308, 0.0]})
    with pytest.raises(DataError, match="column 'huge' holds values too large to standardise"):
        Preprocessor.fit(frame)


def test_a_wild_outlier_stays_finite_in_float32() -> None:
    prep = Preprocessor.fit(pd.DataFrame({"x": [0.0, 1e-3, 2e-3]}))
    out = prep.transform(pd.DataFrame({"x": [1e300, -1e300, 1e-3]}))
    assert np.isfinite(out).all()
    assert out[0, 0] == MAX_STANDARD_SCORE and out[1, 0] == -MAX_STANDARD_SCORE
    assert out[2, 0] == pytest.approx(0.0, abs=1e-6)
