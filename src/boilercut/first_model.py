"""The default model from the first call: when load_model() (and so predict, filter_page,
clean_dataset, the datatrove step) finds no default model, it is trained from the bundled
pages, once, and reused afterwards.

    from boilercut.first_model import default_model_file
    path = default_model_file()      # the default model's path, trained first if absent

Training runs `python -m boilercut.train` in a child process with the default config,
so the first model is exactly what `boilercut train` builds (its settings live once, in
conf/), the library never imports Hydra, and Hydra's global state and logging stay out of
the caller's process (which may itself be a Hydra command or a notebook). The child's
log lines are passed on to stderr with the time elapsed: they are the progress report.

Processes that race for a missing model (two predict runs, the tasks of a cluster job
sharing a cache folder) take a file lock beside it (<model>.lock): the first trains, the
others wait and then load the file it wrote. persist.save_model writes the model and its
metadata to temporary names and renames them, so no reader sees half a file. Training is
deterministic (tests/test_first_model.py), so every install gets the same model.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from boilercut.locations import PACKAGE_DIR, default_model_path, metadata_path
from boilercut.model_errors import ModelFileError

# Measured (docs/speed.md): 80 s on a quiet 2-core machine, several minutes while other
# jobs share the cores.
TRAINING_TIME = "about 1.5 to 5 minutes on 2 cores"


def default_model_file(overrides: Sequence[str] = ()) -> Path:
    """The default model's path (locations.default_model_path), trained first if absent."""
    return ensure_model(default_model_path(), overrides)


def ensure_model(path: Path, overrides: Sequence[str] = ()) -> Path:
    """Train the default config's model into `path` unless a model is there already, or
    wait for the process that is training it; returns path. overrides: extra `key=value`
    settings for the training (tests use them to make it fast)."""
    path = Path(path)
    if path.is_file() and metadata_path(path).is_file():  # the metadata is written last
        return path
    # Imported only to train: it took 20-70 ms of every start-up that found the model.
    from filelock import FileLock, Timeout

    lock = FileLock(f"{path}.lock")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            lock.acquire(timeout=0)
        except Timeout:
            say(f"waiting for another process that is training the default model into {path}")
            lock.acquire()
    except OSError as err:  # a read-only place, or a file where a folder should be
        raise ModelFileError(f"{path}: no model there, and none can be trained there "
                             f"({err.strerror or err}); set BOILERCUT_MODEL to a writable path "
                             "or pass a model file") from None
    try:
        if path.exists():  # trained while we waited, or a model whose metadata is lost: load_model says
            say(f"using the model another process trained: {path}")
        else:
            train_into(path, overrides)
    finally:
        lock.release()
    return path


def say(message: str) -> None:
    print(f"boilercut: {message}", file=sys.stderr, flush=True)


def _override(key: str, value: object) -> str:
    """key='value' in Hydra's override syntax, quoted so that any path goes through."""
    return f"{key}='" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"


def train_into(path: Path, overrides: Sequence[str] = ()) -> None:
    """Run the default training in a child process, its output to stderr; ModelFileError
    when it fails."""
    say(f"no model at {path}: training the default model from the bundled pages, once "
        f"({TRAINING_TIME}); later calls load it")
    started = time.perf_counter()
    # The child must import this same boilercut, wherever it was imported from.
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        p for p in (str(PACKAGE_DIR.parent), os.environ.get("PYTHONPATH")) if p))
    with tempfile.TemporaryDirectory(prefix="boilercut-train-") as run_dir:
        command = [sys.executable, "-m", "boilercut.train", _override("output.model_path", path),
                   "output.report=false", _override("hydra.run.dir", run_dir), *overrides]
        child = subprocess.Popen(command, cwd=run_dir, env=env, stdin=subprocess.DEVNULL,
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace")
        try:
            for line in filter(str.strip, child.stdout):
                print(f"  [{time.perf_counter() - started:5.0f} s] {line.rstrip()}", file=sys.stderr, flush=True)
            code = child.wait()
        except BaseException:  # Ctrl-C reached us (the child got it too), or stderr broke
            child.terminate()
            child.wait()
            raise
    if code != 0 or not metadata_path(path).is_file():
        raise ModelFileError(f"{path}: training the default model failed (exit {code}); "
                             "its messages are above")
    say(f"trained the default model in {time.perf_counter() - started:.0f} s: {path}")
