"""How `predict --jobs N` ends when it is told to: SIGTERM is handled like Ctrl-C, workers
die with their parent, and --jobs is capped at the CPUs there are.

The runs read their corpus from a pipe the test holds open, so that each is stopped at a
known point: while it waits for more input, with its workers started.
"""
import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from conftest import TINY_PAGE
from processes import alive, children, wait_for

from boilercut.worker_process import usable_cpus

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")

RECORDS = b"".join(json.dumps({"id": f"d{i}", "text": TINY_PAGE}).encode() + b"\n" for i in range(40))
OLD = b'{"old": true}\n'


def start(model_file, cwd, *args):
    """predict reading JSONL from a pipe; the test feeds it and keeps it open."""
    proc = subprocess.Popen([sys.executable, "-m", "predict", "--quiet", "--model", model_file,
                             "--input-format", "jsonl", "--batch-lines", "40", *args, "-"],
                            cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdin.write(RECORDS)
    proc.stdin.flush()
    return proc


def workers_of(proc, jobs):
    """The pids of proc's workers, once all jobs of them are running."""
    assert wait_for(lambda: len(children(proc.pid)) >= jobs, 60), proc.stderr.read1().decode()
    return children(proc.pid)


def test_sigterm_ends_the_run_like_ctrl_c(model_file, tmp_path):
    prev = tmp_path / "clean.jsonl"
    prev.write_bytes(OLD)
    proc = start(model_file, tmp_path, "--jobs", "2", "--output", "clean.jsonl")
    workers = workers_of(proc, 2)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143
    assert err.decode().splitlines() == ["predict: terminated"]
    assert prev.read_bytes() == OLD
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clean.jsonl"]  # no .tmp left
    assert not any(alive(pid) for pid in workers)
    kill_all(workers)


def test_workers_die_with_their_parent_and_release_its_pipes(model_file, tmp_path):
    proc = start(model_file, tmp_path, "--jobs", "2")
    workers = workers_of(proc, 2)
    received = []
    reader = threading.Thread(target=lambda: received.append(proc.stdout.read()), daemon=True)
    reader.start()
    proc.kill()
    proc.wait(timeout=10)
    killed = time.monotonic()
    try:
        # `predict ... | cat` ends: no worker holds the pipe open any more.
        reader.join(timeout=5)
        assert not reader.is_alive(), "a worker still holds predict's stdout open"
        assert wait_for(lambda: not any(alive(pid) for pid in workers), 5)
        assert time.monotonic() - killed < 3
    finally:
        kill_all(workers)


def kill_all(pids):
    """Leave no orphan behind when a test fails."""
    for pid in pids:
        if alive(pid):
            os.kill(pid, signal.SIGKILL)


def test_jobs_above_the_cpu_count_are_capped_with_a_warning(model_file, tmp_path):
    cpus = usable_cpus()
    proc = start(model_file, tmp_path, "--jobs", str(cpus + 3))
    workers_of(proc, cpus)
    time.sleep(0.5)  # any worker beyond the cap would be started by now
    assert len(children(proc.pid)) == cpus
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err.decode()
    assert err.decode().splitlines() == [
        f"predict: warning: --jobs {cpus + 3} is more than the {cpus} CPUs this process may use; using {cpus}"]
    assert len(out.splitlines()) == 40


def test_the_fallback_without_prctl_also_ends_an_orphaned_worker(tmp_path):
    """Where the kernel cannot kill a worker with its parent, a thread watches the parent."""
    script = ("import os, time\n"
              "from boilercut.worker_process import exit_when_orphaned\n"
              "parent = os.getpid()\n"
              "child = os.fork()\n"
              "if child == 0:\n"
              "    exit_when_orphaned(parent, every=0.05)\n"
              "    time.sleep(60)\n"  # not reached: exit_when_orphaned exits the process
              "print(child, flush=True)\n"
              "time.sleep(0.3)\n")
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE)
    child = int(proc.stdout.readline())
    try:
        assert alive(child)
        assert proc.wait(timeout=30) == 0
        assert wait_for(lambda: not alive(child), 2)
    finally:
        kill_all([child])


def test_signals_held_during_a_commit_arrive_after_it():
    from boilercut.commands import signals_held

    done = []
    with pytest.raises(KeyboardInterrupt), signals_held():
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.1)
        done.append("the block ran to its end")
    assert done == ["the block ran to its end"]
