"""Fault injection: kill -9 and SIGTERM at random points of a `predict --jobs 2` run.

Each trial replaces the output of a complete run with known old bytes, starts the run
again, stops it after a random delay (anywhere from model loading to the final rename)
and checks: the output is the old bytes or the complete new output, never a part; no
process of the run (the parent or a worker) is alive 2 s after the parent ended; SIGTERM
leaves no temporary file. A last complete run must remove what kill -9 left behind.
"""
import json
import random
import signal
import subprocess
import sys
import time

import pytest
from conftest import SENTENCES, TINY_PAGE
from processes import running_with, wait_for


pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")

OLD = b"old output\n"
SEED = 17


def write_corpus(path, n=4000):
    """About 44,000 lines: a --jobs 2 run that cleans for a second or two."""
    rng = random.Random(SEED)
    with open(path, "w", encoding="utf-8") as f:
        for i in range(n):
            lines = TINY_PAGE.split("\n")
            lines[2:2] = rng.sample(SENTENCES, 3)
            f.write(json.dumps({"id": i, "text": "\n".join(lines)}) + "\n")


def start(model_file, cwd):
    # The model's path (unique to this module) marks every process of the run, workers too.
    return subprocess.Popen([sys.executable, "-m", "predict", "--quiet", "--model", model_file, "--jobs", "2",
                             "corpus.jsonl", "--output", "clean.jsonl.gz"],
                            cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def temporaries(folder):
    return {p.name for p in folder.iterdir() if p.name.endswith(".tmp")}


def wait_for_workers(model_file, proc):
    """Wait until the run's two workers are up (it is cleaning then); False if it ended first."""
    return wait_for(lambda: proc.poll() is not None or len(running_with(model_file)) >= 3, 120) and \
        proc.poll() is None


def complete_run(model_file, folder):
    """(the output of a complete run, its seconds, and its seconds from the workers' start)."""
    started = time.monotonic()
    proc = start(model_file, folder)
    working = time.monotonic() if wait_for_workers(model_file, proc) else None
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err.decode()
    ended = time.monotonic()
    return (folder / "clean.jsonl.gz").read_bytes(), ended - started, ended - (working or ended)


def stop_at_random(model_file, folder, sig, delay, reference, once_working):
    """Stop a run delay seconds after its start, or once_working: after its workers' start."""
    output = folder / "clean.jsonl.gz"
    output.write_bytes(OLD)
    before = temporaries(folder)
    proc = start(model_file, folder)
    if once_working:
        wait_for_workers(model_file, proc)
    time.sleep(delay)
    proc.send_signal(sig)  # a no-op when the run already ended
    _, err = proc.communicate(timeout=120)
    ended = time.monotonic()
    # -SIGTERM: the signal came while Python was still starting, before predict handles it
    # (and before it opens anything): the shell shows 143 for both.
    expected = {0, -signal.SIGKILL} if sig == signal.SIGKILL else {0, 143, -signal.SIGTERM}
    assert proc.returncode in expected, err.decode()
    assert wait_for(lambda: not running_with(model_file), 2), "a worker outlived its parent"
    assert time.monotonic() - ended < 3
    data = output.read_bytes()
    assert data == (reference if proc.returncode == 0 else data) and data in (OLD, reference)
    if sig == signal.SIGTERM:
        assert temporaries(folder) <= before  # nothing of its own left
        if proc.returncode == 143:
            assert err.decode().splitlines() == ["predict: terminated"]
    return proc.returncode


@pytest.mark.slow  # 45 to 100 s on 2 busy cores: ten runs of predict
def test_kill_and_sigterm_at_random_points(model_file, tmp_path, record_property):
    write_corpus(tmp_path / "corpus.jsonl")
    reference, seconds, working = complete_run(model_file, tmp_path)
    rng = random.Random(SEED)
    codes = []
    # Four stops spread over a whole run (most of it is start-up: imports, the model), four
    # over the part where the workers clean and the output is written and renamed; in each
    # part the i-th stop falls in the i-th quarter of its time.
    for once_working, span in ((False, seconds), (True, working)):
        for i, sig in enumerate([signal.SIGKILL, signal.SIGTERM] * 2):
            delay = span * rng.uniform(i, i + 1) / 4
            codes.append(stop_at_random(model_file, tmp_path, sig, delay, reference, once_working))
    record_property("exit codes", codes)
    assert any(code != 0 for code in codes)  # the first stop always comes before the end
    again, _, _ = complete_run(model_file, tmp_path)
    assert again == reference
    assert temporaries(tmp_path) == set()  # the ones kill -9 left were removed
