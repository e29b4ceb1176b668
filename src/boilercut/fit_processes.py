"""Independent fits run in worker processes and in this one, at once.

The first stage's fits (training.fit_models: the context stage's fold Pipelines and the
final one) ran in joblib workers while this process waited for them. Each worker had to
start Python and import NumPy, SciPy and scikit-learn (about a second of CPU, on cores
busy counting the training lines), be sent every fit's lines and counts, and send each
fitted Pipeline back. Here this process is one of the `processes`: it takes its share of
the fits, largest first, and only the others go to the `processes - 1` workers, which
start while the lines are counted.

    with FitProcesses(2, imports=["boilercut.training"]) as pool:   # one worker starts now
        future = pool.submit(function, *args)
        results = pool.run(tasks, costs)   # tasks: (function, args); results in their order

Every fit, here or in a worker, runs with one BLAS thread, as joblib gave its workers on
a machine with no more cores than workers: the same sums in the same order wherever a
fit runs.
"""
from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future
from typing import Callable, Sequence

logger = logging.getLogger(__name__)

# The thread pools a worker starts with one thread (joblib's list for its workers).
_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS",
                     "VECLIB_MAXIMUM_THREADS", "NUMBA_NUM_THREADS", "NUMEXPR_NUM_THREADS")


def shares(costs: Sequence[float], processes: int) -> list[list[int]]:
    """The tasks of each process (the first: this one), by the longest-first rule: each
    task, from the costliest, to the process with the least cost so far (ties: the
    first). This process thus takes the costliest task."""
    if processes < 1:
        raise ValueError(f"processes must be >= 1, got {processes}")
    loads = [0.0] * processes
    out: list[list[int]] = [[] for _ in range(processes)]
    for task in sorted(range(len(costs)), key=lambda k: -costs[k]):
        least = loads.index(min(loads))
        out[least].append(task)
        loads[least] += costs[task]
    return out


def _single_threaded(function: Callable, args: tuple):
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        return function(*args)


def _import(modules: Sequence[str]) -> None:
    """A worker's first task: import what its fits will need, while this process works."""
    import importlib

    for name in modules:
        importlib.import_module(name)


class FitProcesses:
    """This process and `processes - 1` workers (joblib's loky processes, started on
    entering, each importing `imports`): submit() runs a function in a worker, run()
    shares tasks out."""

    def __init__(self, processes: int, imports: Sequence[str] = ()):
        if processes < 1:
            raise ValueError(f"processes must be >= 1, got {processes}")
        self.processes = processes
        self.imports = tuple(imports)  # the modules of the functions to come: each worker imports them first
        self._executor = None

    def __enter__(self) -> "FitProcesses":
        if self.processes > 1:
            from joblib.externals.loky import get_reusable_executor

            self._executor = get_reusable_executor(max_workers=self.processes - 1,
                                                   env={name: "1" for name in _THREAD_VARIABLES})
            for _ in range(self.processes - 1):
                self._executor.submit(_import, self.imports)
        return self

    def __exit__(self, *exc) -> None:
        self._executor = None  # the workers stay for a while, for the next fits (loky's reuse)

    @property
    def has_workers(self) -> bool:
        return self._executor is not None

    def submit(self, function: Callable, *args) -> Future:
        if self._executor is None:
            raise RuntimeError("FitProcesses.submit needs workers (processes > 1, inside `with`)")
        return self._executor.submit(_single_threaded, function, args)

    def run(self, tasks: Sequence[tuple[Callable, tuple]], costs: Sequence[float],
            on_done: Callable[[int], None] | None = None) -> list:
        """Each task's result, in the tasks' order. This process runs its share (shares())
        while the workers run theirs; on_done(task) is called as each task ends (from
        another thread for a worker's)."""
        mine, *theirs = shares(costs, self.processes if self._executor is not None else 1)
        futures: dict[int, Future] = {}
        for task in sorted(k for share in theirs for k in share):
            function, args = tasks[task]
            futures[task] = future = self.submit(function, *args)
            if on_done is not None:
                future.add_done_callback(lambda f, task=task: f.exception() is None and on_done(task))
        results: dict[int, object] = {}
        try:
            for task in mine:
                function, args = tasks[task]
                results[task] = _single_threaded(function, args)
                if on_done is not None:
                    on_done(task)
            for task, future in futures.items():
                results[task] = future.result()
        finally:
            for future in futures.values():
                future.cancel()  # after an error here: nothing more starts
        return [results[k] for k in range(len(tasks))]


def elapsed_logger(name: str, total: int, start: float) -> Callable[[int], None]:
    """on_done for run(): logs "<name>: k of <total> fits done (s)" as each ends."""
    done, lock = [0], threading.Lock()  # called from this thread and the workers' result thread

    def log(task: int) -> None:
        with lock:
            done[0] += 1
            logger.info("%s: %d of %d fits done (%.0f s)", name, done[0], total, time.perf_counter() - start)

    return log
