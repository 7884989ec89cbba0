"""Studies, samplers, pruners, storage, MLflow tracking, export and the `tune` command line.

Four wings, each a package whose face imports nothing heavy, so `tune --help` stays fast:

- `stores/`: the Optuna and MLflow stores (storage, records, the writer process, recovery,
  Keras-free tracking, and looking a stored study up);
- `run/`: one `tune run` (spec, samplers, pruners, set-up, the objective, the trial loop,
  worker processes, the runner and its summary);
- `view/`: looking at results (tables, the HTML report, PNGs, `tune ui`);
- `ship/`: using the best model (export, predict, the registered pyfunc model).

Imports run one way: `cli` -> `_commands` -> `run`, `view`, `ship` -> `stores` -> `spaces`,
`objectives`; `run` also uses `view` for the plots it logs at the end.
"""

__all__ = ["cli"]
