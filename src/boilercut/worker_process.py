"""What a worker process needs to end with its parent, and how many workers fit.

A --jobs worker blocks on its task queue for as long as the queue is open. If the parent
dies without closing it (SIGKILL, the out-of-memory killer), workers would live on, each
holding hundreds of MB and the parent's stdout, so that `predict ... | grep` never ends.
"""
from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time

PR_SET_PDEATHSIG = 1      # linux/prctl.h
PARENT_CHECK_SECONDS = 0.5  # how often the fallback looks for its parent


def die_with_parent(parent_pid: int) -> None:
    """Make this process die as soon as parent_pid does. On Linux the kernel sends SIGKILL
    when the parent goes (prctl PR_SET_PDEATHSIG); elsewhere a thread checks every
    PARENT_CHECK_SECONDS. Call it first thing in the new process."""
    if not _kill_me_with_parent():
        threading.Thread(target=exit_when_orphaned, args=(parent_pid,), daemon=True).start()
    if os.getppid() != parent_pid:  # the parent died before the line above took effect
        os._exit(1)


def _kill_me_with_parent() -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def exit_when_orphaned(parent_pid: int, every: float = PARENT_CHECK_SECONDS) -> None:
    """Wait until this process is no longer parent_pid's child, then exit at once (no
    cleanup: the parent that would want the results is gone)."""
    while os.getppid() == parent_pid:
        time.sleep(every)
    os._exit(1)


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity mask: a container or `taskset` may
    allow fewer than the machine has)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1
