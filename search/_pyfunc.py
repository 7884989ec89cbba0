"""Where registered models made before `search/` was regrouped find their class (pickled by path)."""

from search.ship._pyfunc import TuneModel

__all__ = ["TuneModel"]
