"""One `tune run`, from a spec to a summary.

`_spec` (the settings), `_samplers` and `_pruners` (the registries), `_pruning` (the
per-epoch pruning check against a snapshot of the study), `_setup` (data, the
study's identity, opening the stores and the study), `_objective` (one trial), `_epochs`
and `_model_log` (what a trial logs to MLflow from Keras), `_guards`, `_interrupts` and
`_progress` (study callbacks), `_loop` (the in-process trial loop), `_helpers` (helper
processes started ahead, and the trial tickets every worker takes), `_worker` (one helper
process), `_launcher` (this process's trials beside the helpers'), `_runner` (a run end to
end) and `_summary` (what it prints).

Imports run downwards: `_runner` -> `_launcher` -> `_worker` -> `_loop` -> `_objective`. The
loop lives below both the runner and the worker process, so a worker never reaches back up
into what launched it.
"""
