"""The Optuna and MLflow stores: where studies and runs live, and how tune reads and writes them.

- `_names`: the keys tune stores under, and the default local store URLs;
- `_storage`: store URLs, Optuna's RDB storage with heartbeats, and password masking;
- `_records`: what a trial's MLflow run records, as the calls that write it;
- `_writer`: the writer process that applies those records beside the training;
- `_ahead`: the writer process's head start: a new store and MLflow's package map;
- `_tracking`: the study's parent run and its trials' child runs (no Keras here);
- `_recovery`: closing what dead workers left running;
- `_lookup`: a stored study looked up: best trial, baseline, parameters, latest parent run.

Imports only `spaces` (for the error tree) and the engines; nothing here loads Keras, so the
writer process and the inspection commands start in seconds.
"""
