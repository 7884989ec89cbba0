"""One helper process of `tune run --workers N`: join the study, run trials, exit.

The helper pool (search/run/_helpers.py) spawns `helper_main`; this module imports nothing
heavy at its top, so a helper limits its threads before TensorFlow loads. It runs its trials
through the same loop as the runner (search/run/_loop.py), never the runner.
"""

from __future__ import annotations

import gc
import os
import sys
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

from search.run._spec import StudySpec

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

    import optuna

    from search.run._helpers import Tickets
    from search.run._setup import Setup
    from search.stores._tracking import StudyRun

EXIT_TOO_MANY_FAILURES = 3
EXIT_INTERRUPTED = 130
EXIT_CRASHED = 1


@dataclass(frozen=True)
class WorkerJob:
    """What one worker process is asked to do, handed over once the study is open."""

    spec: StudySpec
    study_name: str
    experiment_id: str
    parent_run_id: str
    quota: int
    token: str
    seed: int
    deadline: float | None


def helper_main(pipe: Connection, tickets: Tickets, backend: str, threads: int) -> None:
    """Entry point of a helper process: load the libraries, then wait for the job."""
    from search.run._interrupts import ctrl_c_pressed, remembering_ctrl_c

    with remembering_ctrl_c():  # also a Ctrl-C that Python swallows while Keras loads
        try:
            _prepare(backend, threads)
            job = pipe.recv()
        except EOFError:  # the run was refused or stopped before it needed this helper
            raise SystemExit(0) from None
        except KeyboardInterrupt:  # Ctrl-C reaches every process; the launcher says it once
            raise SystemExit(EXIT_INTERRUPTED) from None
        finally:
            pipe.close()
        if ctrl_c_pressed():
            raise SystemExit(EXIT_INTERRUPTED)
        raise SystemExit(_serve_or_say_why(job, tickets))


def _serve_or_say_why(job: WorkerJob, tickets: Tickets) -> int:
    try:
        return serve(job, tickets)
    except Exception as exc:  # one line, as the CLI says errors; the launcher counts the crash
        from spaces import first_line

        print(f"error: worker {job.token}: {first_line(exc)}", file=sys.stderr)
        return EXIT_CRASHED


def _prepare(backend: str, threads: int) -> None:
    """Limit threads, pick the backend, then load Keras and MLflow quietly."""
    _limit_threads(threads)
    from search._options import use_backend

    use_backend(backend)  # before Keras loads, as in the launching process
    # Helpers have no terminal of their own to explain library warnings on; the launcher's
    # progress bar and MLflow hold what matters.
    warnings.simplefilter("ignore")
    from search._quiet import load_quietly, quiet_environment

    quiet_environment()
    load_quietly()
    configure_threads(threads)


def serve(job: WorkerJob, tickets: Tickets) -> int:
    """Run trials of the study while tickets last, `job.quota` at most; the exit code."""
    from search.run._loop import optimize_share

    if tickets.left <= 0:  # the run is over or stopping: no need to open anything
        return 0
    study, setup, study_run = open_worker_study(job)
    if not tickets.take():  # the others ran every trial while this one started
        return 0
    gc.collect()
    try:
        guard = optimize_share(
            study, setup, study_run, job.token, job.quota, job.seed, job.deadline, tickets
        )
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    return EXIT_TOO_MANY_FAILURES if guard.tripped else 0


def open_worker_study(job: WorkerJob) -> tuple[optuna.Study, Setup, StudyRun]:
    """The shared study, the setup and the launcher's parent run, as this worker sees them."""
    import optuna

    from search.run._samplers import make_sampler
    from search.run._setup import make_setup, open_stores
    from search.stores._tracking import StudyRun

    spec = job.spec
    setup = make_setup(spec)
    storage, client = open_stores(setup)
    study = optuna.load_study(
        study_name=job.study_name,
        storage=storage,
        sampler=make_sampler(spec.sampler, job.seed),
        pruner=setup.pruner(),
    )
    run = StudyRun(client, job.experiment_id, job.parent_run_id, inputs=setup.inputs())
    return study, setup, run


def _limit_threads(threads: int) -> None:
    # Set before TensorFlow or NumPy load: N workers then share the cores instead of each
    # starting a pool as wide as the machine.
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = str(threads)


def configure_threads(threads: int) -> None:
    """Size the backend's thread pools, where it has not started them yet."""
    # JAX's CPU client honours the OpenMP variables set above; PyTorch and TensorFlow size
    # their pools on their own first use.
    import keras

    if keras.backend.backend() == "torch":
        import torch

        torch.set_num_threads(threads)
    if keras.backend.backend() != "tensorflow":
        return
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:  # TensorFlow was already initialised; keep its pools
        pass
