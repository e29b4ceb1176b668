"""Process helpers for the tests that stop and kill predict runs (Linux: reads /proc)."""
import os
import time


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, parent pid) of a process, None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()  # after "pid (command name)"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return None
    return fields[0].decode(), int(fields[1])


def children(pid: int) -> list[int]:
    """Live child processes of pid."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = _stat(int(entry))
            if stat is not None and stat[1] == pid and stat[0] not in "ZX":
                found.append(int(entry))
    return found


def alive(pid: int) -> bool:
    """True while pid runs; a zombie (dead, not yet reaped by whoever adopted it) is dead."""
    stat = _stat(pid)
    return stat is not None and stat[0] not in "ZX"


def wait_for(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def running_with(marker: str) -> list[int]:
    """Live processes whose command line holds marker: a run and its forked workers, even
    after the workers' parent died and they were adopted by another process."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    cmdline = f.read()
            except OSError:
                continue
            if marker.encode() in cmdline and alive(int(entry)):
                found.append(int(entry))
    return found
