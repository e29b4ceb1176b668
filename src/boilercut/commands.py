"""How the commands (predict, train, evaluate) end: exit codes, SIGTERM handled like Ctrl-C,
and one line on stderr for Hydra's configuration errors.

    if __name__ == "__main__":
        run_command("train", main)     # main: the @hydra.main function

SIGTERM (sent by `timeout`, Slurm, Kubernetes) raises Terminated, a KeyboardInterrupt, in
the main thread, so every cleanup that Ctrl-C runs (no partial output, no temporary file,
workers stopped) runs for it too. A second SIGTERM kills at once.
"""
from __future__ import annotations

import gc
import os
import signal
import sys
import threading
from collections.abc import Callable
from contextlib import contextmanager

EXIT_CONFIG = 2         # a bad config value, key or override
EXIT_INTERRUPTED = 130  # 128 + SIGINT: what a shell reports after Ctrl-C
EXIT_TERMINATED = 143   # 128 + SIGTERM


class Terminated(KeyboardInterrupt):
    """The process got SIGTERM."""


def _raise_terminated(signum, frame) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a second SIGTERM does not wait for cleanup
    raise Terminated()


def handle_sigterm() -> None:
    """From now on SIGTERM raises Terminated in the main thread (call it from there)."""
    signal.signal(signal.SIGTERM, _raise_terminated)


def stopped(prog: str, err: KeyboardInterrupt) -> int:
    """Say on stderr how the run was stopped; the exit code to end with."""
    if isinstance(err, Terminated):
        print(f"{prog}: terminated", file=sys.stderr)
        return EXIT_TERMINATED
    print(f"{prog}: interrupted", file=sys.stderr)
    return EXIT_INTERRUPTED


@contextmanager
def signals_held():
    """Hold Ctrl-C and SIGTERM until the block ends, then act on the first one: for writes
    that belong together, such as a model file and its metadata. (A signal mask would not
    do: Python runs handlers in the main thread whichever thread the signal reached.)
    Outside the main thread, where handlers cannot be set, signals are not held."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught = []
    previous = {sig: signal.signal(sig, lambda number, frame: caught.append(number))
                for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, signal.SIG_DFL if handler is None else handler)  # None: set outside Python
        if caught:
            signal.raise_signal(caught[0])


def _from_config_library(err: BaseException) -> bool:
    return type(err).__module__.split(".")[0] in ("hydra", "omegaconf")


def one_line(err: BaseException) -> str:
    """An error's message on one line. Hydra's run over several: its own lines, then the
    OmegaConf error that caused it, whose first line is kept (the key and type details
    after it are left out)."""
    if isinstance(err, OSError) and err.filename is not None and err.strerror:
        return f"{err.filename}: {err.strerror}"  # not "[Errno 20] Not a directory: 'x'"
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    cause = err.__cause__
    if cause is not None and _from_config_library(cause) and str(cause).strip():
        lines.append(str(cause).strip().splitlines()[0])
    if not lines:
        return type(err).__name__
    return " ".join(line if line.endswith((".", ":", ";")) else line + ";" for line in lines[:-1]) + \
        (" " if len(lines) > 1 else "") + lines[-1]


def run_command(prog: str, main: Callable[[], object]) -> None:
    """Run a @hydra.main function as a command: Ctrl-C ends with exit 130, SIGTERM with 143,
    and a configuration error Hydra raises before the task runs (an unknown key, a bad
    override, a run folder that cannot be made) with one line on stderr and exit 2.
    HYDRA_FULL_ERROR=1 in the environment keeps Hydra's full report."""
    gc.enable()  # the console script turns it off while the command's module imports (cli.py)
    full_error = os.environ.get("HYDRA_FULL_ERROR") == "1"
    # Set, Hydra raises its errors instead of printing them over several lines and exiting.
    os.environ["HYDRA_FULL_ERROR"] = "1"
    handle_sigterm()
    try:
        main()
    except KeyboardInterrupt as err:
        sys.exit(stopped(prog, err))
    except Exception as err:
        # The task functions report their own errors: what reaches here comes from Hydra
        # setting up the run (OSError: a run folder that cannot be made), or is a bug.
        if full_error or not (_from_config_library(err) or isinstance(err, (OSError, ValueError))):
            raise
        print(f"{prog}: error: {one_line(err)}", file=sys.stderr)
        sys.exit(EXIT_CONFIG)
