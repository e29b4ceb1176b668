"""Open an output so that a failed run cannot destroy what was there before.

    out = OutputFile("clean.jsonl.gz")
    f = out.open()          # a binary file to write to
    ...
    out.close(commit=True)  # commit=False (a failed run): the old output stays as it was

A regular file, or a name not taken yet, is written to a temporary file beside it and
renamed over it only on commit: a reader sees the old file or the complete new one, never
a part. The new file keeps the old one's mode and owner (a new name gets 0666 minus the
umask, as any new file does). A symlink is followed: its target is replaced and the link
stays. Anything else, a device (/dev/null), a FIFO, /dev/stdout or /dev/fd/N, is not a file
to replace: renaming over it would turn /dev/null into a plain file. It is written in
place, as a shell redirection would, so a failed run leaves there what it wrote.
Folders missing on the way to the output are created, and removed again if the run fails.

A temporary file carries its writer's host and process id; a run removes the ones its
output's dead writers (killed by SIGKILL, or the machine lost power) left behind.
"""
from __future__ import annotations

import os
import re
import secrets
import socket
import stat
from pathlib import Path
from typing import BinaryIO


def _in_place(path: str) -> bool:
    """True when path is not a regular file to replace but a place to write into."""
    try:
        mode = os.stat(path).st_mode  # follows symlinks: a link to a device is a device
    except FileNotFoundError:
        mode = None
    except OSError:
        return False  # the rename path reports it (permission denied, not a directory, ...)
    if mode is not None and not stat.S_ISREG(mode):
        return not stat.S_ISDIR(mode)
    return _through_proc(path)


def _through_proc(path: str) -> bool:
    """True when path, or a symlink on the way to its file, lies in /proc: /dev/stdout and
    /dev/fd/N lead to whatever a descriptor holds, even a regular file the shell opened
    for appending (`>> log`). Write where the caller pointed it, do not rename over it."""
    for _ in range(40):  # the kernel's own limit on symlinks followed
        if os.path.realpath(os.path.dirname(os.path.abspath(path))).startswith("/proc/"):
            return True
        if not os.path.islink(path):
            return False
        path = os.path.join(os.path.dirname(path), os.readlink(path))
    return False


class OutputFile:
    """One output: atomic for a regular file, written in place for anything else."""

    def __init__(self, path: str | Path):
        self.path = str(path)
        self.in_place = _in_place(self.path)
        # The file a rename replaces: a symlink's target, so that the link stays a link.
        self.target = Path(self.path if self.in_place else os.path.realpath(self.path))
        self.file: BinaryIO | None = None
        self._tmp: Path | None = None
        self._made: list[Path] = []  # folders created for the output, outermost first

    def open(self) -> BinaryIO:
        if self.in_place:
            # Appending, not truncating: a device or FIFO ignores both, but /dev/stdout
            # reopened with truncation would empty the file of a shell's `>> log`.
            self.file = open(self.path, "ab")  # noqa: SIM115  closed by close()
            return self.file
        if self.target.is_dir():
            raise IsADirectoryError("it is a directory")
        self._made = _make_folders(self.target.parent)
        try:
            _remove_stale_temporaries(self.target)
            self._tmp, fd = _new_temporary(self.target)
        except BaseException:
            _remove_folders(self._made)
            raise
        self.file = os.fdopen(fd, "wb")
        return self.file

    def close(self, commit: bool) -> None:
        """Close, and on commit put the new output in place; without commit (or when
        closing fails, say on a full disk) remove what this run created."""
        committed = False
        try:
            if self.file is not None:
                self.file.close()
            if commit and self._tmp is not None:
                _copy_mode_and_owner(self.target, self._tmp)
                os.replace(self._tmp, self.target)
            committed = commit
        finally:
            if self._tmp is not None and not committed:
                self._tmp.unlink(missing_ok=True)
            if not committed:
                _remove_folders(self._made)


def _make_folders(folder: Path) -> list[Path]:
    """Create folder and its missing parents; the ones created, outermost first."""
    missing = []
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    missing.reverse()
    for made, path in enumerate(missing):
        try:
            path.mkdir()
        except FileExistsError:
            continue  # made by someone else meanwhile: not ours to remove
        except BaseException:
            _remove_folders(missing[:made])
            raise
    return missing


def _remove_folders(folders: list[Path]) -> None:
    for folder in reversed(folders):
        try:
            folder.rmdir()
        except OSError:
            return  # not empty: someone else put a file there


# ".clean.jsonl.<pid>@<host>.<random>.tmp" beside clean.jsonl
_WRITER = re.compile(r"\.(\d+)@(.*)\.[0-9a-f]{8}\.tmp$")


def _new_temporary(target: Path) -> tuple[Path, int]:
    """A new temporary file beside target and its descriptor. O_EXCL with mode 0666 gives
    the mode any new file gets (0666 minus the umask), which mkstemp's 0600 would not."""
    writer = f"{os.getpid()}@{socket.gethostname()}"
    while True:
        tmp = target.with_name(f".{target.name}.{writer}.{secrets.token_hex(4)}.tmp")
        try:
            return tmp, os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue


def _remove_stale_temporaries(target: Path) -> None:
    """Remove temporary files of target left by writers on this host that are gone. A live
    writer's file, or one from another host (a shared file system), is left alone."""
    host = socket.gethostname()
    prefix = f".{target.name}."
    for entry in os.scandir(target.parent):
        match = _WRITER.match(entry.name[len(prefix) - 1:]) if entry.name.startswith(prefix) else None
        if match and match.group(2) == host and not _alive(int(match.group(1))):
            Path(entry.path).unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's live process
    return True


def _copy_mode_and_owner(old: Path, new: Path) -> None:
    try:
        st = os.stat(old)
    except FileNotFoundError:
        return  # a new output: it keeps the umask mode it was created with
    os.chmod(new, stat.S_IMODE(st.st_mode))
    if hasattr(os, "chown") and (st.st_uid, st.st_gid) != (os.getuid(), os.getgid()):
        try:
            os.chown(new, st.st_uid, st.st_gid)
        except PermissionError:
            pass  # only root may give a file away; the new file is then the caller's own
