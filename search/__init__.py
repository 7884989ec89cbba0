"""Study orchestration: samplers, pruners, storage, MLflow tracking, export and the CLI.

Heavy imports (TensorFlow, MLflow) happen inside the submodules, so `tune --help` stays fast.
"""

__all__ = ["cli"]
