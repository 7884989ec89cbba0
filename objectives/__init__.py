"""Data loading and preprocessing, Keras model building, and training.

Building (`build_model`) is kept apart from training (`train_model`), so each can be tested alone.
"""

from objectives._average import average_models
from objectives._build import BUILDERS, OPTIMIZERS, build_model, make_optimizer
from objectives._data import PreparedData, Splits, prepare, target_columns
from objectives._draws import DRAWS, train_draws
from objectives._fingerprint import DataFingerprint, data_digest
from objectives._images import image_shape
from objectives._layout import AUTO, FamilyChoice, choose_family
from objectives._metrics import DEFAULT_METRIC, METRICS, Metric, get_metric
from objectives._preprocess import Preprocessor
from objectives._sequences import sequence_shape
from objectives._session import forget_traced_gradients, fresh_session
from objectives._sources import BUILTINS, load_frame
from objectives._task import TargetEncoding, infer_task
from objectives._train import (
    Trained,
    predict,
    score,
    train_model,
    training_batches,
)
from objectives._transfer import load_base

__all__ = [
    "AUTO",
    "BUILDERS",
    "BUILTINS",
    "DEFAULT_METRIC",
    "DRAWS",
    "METRICS",
    "OPTIMIZERS",
    "DataFingerprint",
    "FamilyChoice",
    "Metric",
    "PreparedData",
    "Preprocessor",
    "Splits",
    "TargetEncoding",
    "Trained",
    "average_models",
    "build_model",
    "choose_family",
    "data_digest",
    "forget_traced_gradients",
    "fresh_session",
    "get_metric",
    "image_shape",
    "infer_task",
    "load_base",
    "load_frame",
    "make_optimizer",
    "predict",
    "prepare",
    "score",
    "sequence_shape",
    "target_columns",
    "train_draws",
    "train_model",
    "training_batches",
]
