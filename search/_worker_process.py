"""The body of one worker process: join the study, run a quota of trials, exit."""

from __future__ import annotations

import gc
import os
import time
import warnings

from search._workers import EXIT_TOO_MANY_FAILURES, WORKER_ATTR, WorkerJob

EXIT_INTERRUPTED = 130


def serve(job: WorkerJob) -> int:
    """Run `job.quota` trials of the study in this process; returns the exit code."""
    _limit_threads(job.threads)
    # Workers have no terminal of their own to explain library warnings on; the launcher's
    # progress bar and MLflow hold what matters.
    warnings.simplefilter("ignore")
    from search._quiet import load_quietly, quiet_environment

    quiet_environment()
    load_quietly()
    _configure_tensorflow(job.threads)
    from search._runner import open_worker_study, optimize_here

    study, setup, study_run = open_worker_study(job)
    timeout = None if job.deadline is None else max(job.deadline - time.time(), 0.0)
    gc.collect()
    try:
        guard = optimize_here(
            study,
            setup,
            study_run,
            job.quota,
            timeout,
            job.seed,
            {WORKER_ATTR: job.token},
            memory_limit_mb=job.spec.max_rss_mb,
        )
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    return EXIT_TOO_MANY_FAILURES if guard.tripped else 0


def _limit_threads(threads: int) -> None:
    # Set before TensorFlow or NumPy load: N workers then share the cores instead of each
    # starting a pool as wide as the machine.
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = str(threads)


def _configure_tensorflow(threads: int) -> None:
    import keras

    if keras.backend.backend() != "tensorflow":
        return
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:  # TensorFlow was already initialised; keep its pools
        pass
