"""Which family the data calls for: `--space auto`'s one rule, and the checks of an explicit one.

- a CSV or Parquet file, a built-in dataset, or an .npz whose x is 2-D: dense;
- a folder of images, or an .npz whose x is 4-D (N, H, W, C): cnn;
- an .npz whose x is 3-D: rnn, read as (N, T, F) sequences;
- with a base model, the family that reads what the base takes: images cnn, sequences rnn.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from objectives._arrays import npz_ndim
from objectives._sources import BUILTIN_IMAGES, BUILTINS
from spaces import FAMILY_BY_BASE_RANK, BaseModel, ConfigError

AUTO = "auto"
# An .npz's x by its dimensions: the family auto picks, and how that family reads it.
_SHAPES = {2: ("dense", "(N, features)"), 3: ("rnn", "(N, T, F)"), 4: ("cnn", "(N, H, W, C)")}
_UNREAD = "a file not read yet"


@dataclass(frozen=True)
class FamilyChoice:
    """The family a study searches, and why, in words for the terminal and the run's tags."""

    family: str
    reason: str


def choose_family(source: str, space: str, base: BaseModel | None = None) -> FamilyChoice:
    """Resolve `--space` (a family or auto) against the data and the base model.

    Raises:
        ConfigError: The family cannot read this data, or does not fit the base model.
    """
    if base is not None:
        return _for_base(base, space)
    kind, auto, ndim = _kind(source)
    if space == AUTO:
        return FamilyChoice(auto, f"auto: {kind}")
    if kind == _UNREAD:  # a missing or unreadable file: loading it says what is wrong
        return FamilyChoice(space, f"--space {space}")
    if space == "rnn" and ndim not in (2, 3):
        raise ConfigError(
            f"the rnn space needs sequences: give an .npz file whose x is (N, T, F) or (N, T); "
            f"'{source}' is {kind}. Use --space auto or dense."
        )
    if space == "cnn" and auto == "dense" and source not in BUILTIN_IMAGES:
        raise ConfigError(
            "the cnn space needs images: give a folder of images (one subfolder per class) "
            f"or an .npz file whose x holds images ('{source}' is {kind}), or use --space dense."
        )
    return FamilyChoice(space, f"--space {space}; the data is {kind}")


def _for_base(base: BaseModel, space: str) -> FamilyChoice:
    family = FAMILY_BY_BASE_RANK.get(len(base.input_shape))
    if family is None:
        raise ConfigError(
            f"base model '{base.path}' takes inputs of shape {base.input_shape}; use a base "
            "over images (height, width, channels) or sequences (steps, features)."
        )
    if space not in (AUTO, family):
        raise ConfigError(
            f"base model '{base.path}' takes inputs of shape {base.input_shape}, which the "
            f"{space} space cannot feed; drop --space or use --space {family}."
        )
    return FamilyChoice(family, f"the base model takes inputs of shape {base.input_shape}")


def _kind(source: str) -> tuple[str, str, int | None]:
    """The data in words, the family auto picks for it, and an .npz's x dimensions."""
    if source in BUILTINS:
        return f"the built-in dataset {source}, a table of rows", "dense", None
    path = Path(source)
    if path.is_dir():
        return "a folder of images", "cnn", None
    if not path.is_file():
        return _UNREAD, "dense", None
    if path.suffix.lower() != ".npz":
        return "a table of rows", "dense", None
    ndim = npz_ndim(path)
    if ndim not in _SHAPES:
        return _UNREAD, "dense", None
    return f"an .npz whose x is {ndim}-D {_SHAPES[ndim][1]}", _SHAPES[ndim][0], ndim
