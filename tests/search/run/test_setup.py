"""Opening a study: identity recorded once, and the textbook trial enqueued once."""

from __future__ import annotations

from dataclasses import replace

from search.run._setup import make_setup, open_study
from search.run._spec import StudySpec
from search.stores._names import BASELINE_ATTR
from search.stores._storage import open_storage


def test_a_new_study_records_its_identity_and_enqueues_the_baseline(stores) -> None:
    setup = make_setup(StudySpec(data="iris", storage=stores.storage))

    study = open_study(setup, open_storage(setup.storage_url))

    (baseline,) = study.get_trials()
    assert baseline.system_attrs["fixed_params"] == setup.baseline  # waiting, not yet run
    assert baseline.user_attrs[BASELINE_ATTR]
    assert study.user_attrs["data_digest"] == setup.data.fingerprint.digest
    assert {"data", "target", "task", "metric", "space", "seed"} <= set(study.user_attrs)


def test_a_study_keeps_the_baseline_it_stored(stores) -> None:
    # As if the study was made when a rule of thumb gave other widths: a rerun must not
    # enqueue a second textbook trial with today's.
    setup = make_setup(StudySpec(data="iris", storage=stores.storage))
    storage = open_storage(setup.storage_url)
    earlier = {**setup.baseline, "log2_units_0": 4, "log2_units_1": 4}
    open_study(replace(setup, baseline=earlier), storage)

    study = open_study(setup, storage)

    baselines = [t for t in study.get_trials() if t.user_attrs.get(BASELINE_ATTR)]
    assert [t.system_attrs["fixed_params"] for t in baselines] == [earlier]
    assert len(study.get_trials()) == 1
