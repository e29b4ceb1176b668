"""fit_processes: fits shared between this process and worker processes come back in
order, wherever they ran, each with one BLAS thread."""
import math
import os

import pytest
from threadpoolctl import threadpool_info

from boilercut.fit_processes import FitProcesses, elapsed_logger, shares


def test_shares_give_the_costliest_task_to_this_process_and_balance_the_rest():
    assert shares([5, 9, 4, 4], 2) == [[1, 3], [0, 2]]  # 9 + 4 here, 5 + 4 there (a tie: here)
    assert shares([5, 9, 4, 4], 1) == [[1, 0, 2, 3]]
    assert shares([1, 1, 1], 5) == [[0], [1], [2], [], []]
    assert shares([], 3) == [[], [], []]
    with pytest.raises(ValueError, match="processes must be >= 1"):
        shares([1], 0)


@pytest.mark.parametrize("costs", [[3, 1, 2, 2, 7, 1], [1] * 9, [10, 1]])
def test_every_task_is_in_exactly_one_share(costs):
    for processes in (1, 2, 3, 8):
        found = sorted(task for share in shares(costs, processes) for task in share)
        assert found == list(range(len(costs)))


def blas_threads() -> list[int]:
    return [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]


def test_tasks_run_here_and_in_a_worker_and_come_back_in_order():
    done = []
    tasks = [(math.factorial, (n,)) for n in (12, 3, 7, 5)] + [(os.getpid, ())] * 2 + [(blas_threads_task, ())] * 2
    with FitProcesses(2) as pool:
        results = pool.run(tasks, [10, 1, 5, 4, 3, 3, 1, 1], on_done=done.append)
    assert results[:4] == [math.factorial(n) for n in (12, 3, 7, 5)]
    assert os.getpid() in results[4:6] and len(set(results[4:6])) == 2  # one here, one in the worker
    assert all(threads and set(threads) == {1} for threads in results[6:]), results[6:]  # one BLAS thread anywhere
    assert sorted(done) == list(range(len(tasks)))


blas_threads_task = blas_threads


def test_one_process_runs_everything_here():
    with FitProcesses(1) as pool:
        assert not pool.has_workers
        assert pool.run([(os.getpid, ())] * 3, [1, 1, 1]) == [os.getpid()] * 3
        with pytest.raises(RuntimeError, match="needs workers"):
            pool.submit(os.getpid)
    with pytest.raises(ValueError, match="processes must be >= 1"):
        FitProcesses(0)


def test_an_error_in_a_worker_or_here_reaches_the_caller():
    with FitProcesses(2) as pool:
        with pytest.raises(ValueError, match="not defined for negative"):  # the worker's task
            pool.run([(math.factorial, (5,)), (math.factorial, (-1,))], [2, 1])
        with pytest.raises(ValueError, match="not defined for negative"):  # this process's task
            pool.run([(math.factorial, (-1,)), (math.factorial, (5,))], [2, 1])


def test_elapsed_logger_counts_the_fits_done(caplog):
    import time

    log = elapsed_logger("first stage", 2, time.perf_counter())
    with caplog.at_level("INFO", logger="boilercut.fit_processes"):
        log(1), log(0)
    assert [r.getMessage().split(" (")[0] for r in caplog.records] == ["first stage: 1 of 2 fits done",
                                                                       "first stage: 2 of 2 fits done"]
