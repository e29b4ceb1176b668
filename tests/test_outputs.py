"""Where `predict --output` writes, and what a failed run leaves behind.

A regular file is replaced atomically and keeps its mode; a symlink's target is replaced
and the link stays; a device, a FIFO or /dev/stdout is written in place, never renamed
over; a run that reads no record keeps the old output and creates no folder.
"""
import json
import os
import signal
import stat
import subprocess
import sys
import threading
import time

import pyarrow.parquet as pq
import pytest
from conftest import TINY_PAGE

from boilercut.corpus_io import CorpusWriter

DOCS = [{"id": f"d{i}", "text": TINY_PAGE} for i in range(3)]
OLD = b'{"old": true}\n'
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def run(args, cwd, **kwargs):
    kwargs.setdefault("capture_output", True)
    return subprocess.run([sys.executable, "-m", "predict", "--quiet", *map(str, args)], cwd=cwd,
                          check=False, timeout=120, **kwargs)


@pytest.fixture
def corpus(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_text("".join(json.dumps(d) + "\n" for d in DOCS), encoding="utf-8")
    return path


@pytest.fixture
def null_device(tmp_path):
    """A null device to write to. As root, a copy of /dev/null made with mknod: a root run
    of a broken predict would otherwise rename a file over the machine's own /dev/null."""
    if not IS_ROOT:
        return "/dev/null"
    path = tmp_path / "null"
    null = os.stat("/dev/null")
    os.mknod(path, stat.S_IFCHR | 0o666, null.st_rdev)
    return str(path)


def leftovers(folder):
    return sorted(p.name for p in os.scandir(folder) if p.name.endswith(".tmp"))


def cleaned(data: bytes) -> list[dict]:
    return [json.loads(line) for line in data.splitlines()]


def write_docs(path, fmt="jsonl"):
    with CorpusWriter(str(path), fmt) as out:
        out.write(DOCS)


def test_output_to_a_fifo_is_written_into_it(tmp_path):
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    write_docs(fifo)
    reader.join(timeout=10)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)  # still a FIFO, not a file renamed over it
    assert cleaned(received[0]) == DOCS
    assert leftovers(tmp_path) == []


def test_output_to_a_null_device_keeps_the_device(model_file, corpus, tmp_path, null_device):
    out = run(["--model", model_file, corpus, "--output", null_device], cwd=tmp_path)
    assert out.returncode == 0, out.stderr.decode()
    assert stat.S_ISCHR(os.lstat(null_device).st_mode)
    assert leftovers(os.path.dirname(null_device)) == []


def test_symlink_to_a_null_device_keeps_link_and_device(tmp_path, null_device):
    link = tmp_path / "out.jsonl"
    link.symlink_to(null_device)
    write_docs(link)
    assert os.readlink(link) == null_device and stat.S_ISCHR(os.lstat(null_device).st_mode)
    assert leftovers(tmp_path) == []


def test_symlink_to_standard_output_streams_there(model_file, corpus, tmp_path):
    link = tmp_path / "out.jsonl"
    link.symlink_to("/dev/stdout")
    out = run(["--model", model_file, corpus, "--output", link], cwd=tmp_path)
    assert out.returncode == 0, out.stderr.decode()
    assert [r["id"] for r in cleaned(out.stdout)] == ["d0", "d1", "d2"]
    assert os.readlink(link) == "/dev/stdout"
    assert leftovers(tmp_path) == []


def test_standard_output_appending_to_a_file_keeps_what_is_there(model_file, corpus, tmp_path):
    """`predict ... --output /dev/stdout >> log`: reopening /dev/stdout must not truncate log."""
    log = tmp_path / "log"
    log.write_bytes(OLD)
    with open(log, "ab") as stdout:
        out = run(["--model", model_file, corpus, "--output", "/dev/stdout"], cwd=tmp_path, stdout=stdout,
                  stderr=subprocess.PIPE, capture_output=False)
    assert out.returncode == 0, out.stderr.decode()
    assert log.read_bytes().startswith(OLD) and len(cleaned(log.read_bytes()[len(OLD):])) == 3


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_symlink_to_a_regular_file_replaces_the_target_and_keeps_the_link(tmp_path, fmt):
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "clean.data"
    target.write_bytes(OLD)
    target.chmod(0o640)
    link = tmp_path / "clean.data"
    link.symlink_to(target)
    write_docs(link, fmt)
    assert link.is_symlink() and os.readlink(link) == str(target)
    rows = cleaned(target.read_bytes()) if fmt == "jsonl" else pq.read_table(target).to_pylist()
    assert rows == DOCS
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert leftovers(tmp_path) == [] and leftovers(tmp_path / "real") == []


def test_output_that_is_a_directory_is_refused_in_one_line(model_file, corpus, tmp_path):
    (tmp_path / "out").mkdir()
    out = run(["--model", model_file, corpus, "--output", "out"], cwd=tmp_path)
    assert out.returncode == 6
    assert out.stderr.decode().splitlines() == ["predict: error: cannot write out: it is a directory"]
    assert (tmp_path / "out").is_dir() and leftovers(tmp_path) == []


def test_no_readable_input_leaves_the_previous_output_untouched(model_file, tmp_path):
    prev = tmp_path / "prev.jsonl"
    prev.write_bytes(OLD)
    out = run(["--model", model_file, "missing.jsonl", "--output", prev], cwd=tmp_path)
    assert out.returncode == 3
    assert prev.read_bytes() == OLD
    assert out.stderr.decode().splitlines()[-1] == f"predict: error: no input could be read; {prev} left as it was"
    assert leftovers(tmp_path) == []


def test_failed_run_does_not_create_the_output_folder(model_file, tmp_path):
    (tmp_path / "bad.jsonl").write_text('{"text": "a"}\nnot json\n')
    for inputs in (["missing.jsonl"], ["bad.jsonl"]):
        out = run(["--model", model_file, *inputs, "--output", "new/deeper/clean.jsonl"], cwd=tmp_path)
        assert out.returncode in (3, 5), out.stderr.decode()
        assert not (tmp_path / "new").exists()


def test_failed_write_removes_the_folders_it_created(tmp_path):
    target = tmp_path / "new" / "deeper" / "clean.jsonl"
    with pytest.raises(KeyboardInterrupt), CorpusWriter(str(target), "jsonl") as out:
        out.write(DOCS)
        raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []
    write_docs(target)
    assert cleaned(target.read_bytes()) == DOCS


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o664])
def test_replaced_output_keeps_its_mode(tmp_path, mode):
    prev = tmp_path / "clean.jsonl"
    prev.write_bytes(OLD)
    prev.chmod(mode)
    write_docs(prev)
    assert cleaned(prev.read_bytes()) == DOCS and stat.S_IMODE(prev.stat().st_mode) == mode


@pytest.mark.parametrize("umask", [0o022, 0o027])
def test_new_output_gets_the_umask_mode(tmp_path, umask):
    previous = os.umask(umask)
    try:
        write_docs(tmp_path / "clean.jsonl")
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "clean.jsonl").stat().st_mode) == 0o666 & ~umask


def start_writer_in_a_child(output, then):
    """Fork a process that starts writing output, then does `then` ("die" by SIGKILL, or
    "wait" until killed); returns its pid once the writing has started."""
    ready_r, ready_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            CorpusWriter(str(output), "jsonl").__enter__().write(DOCS)
            os.write(ready_w, b"x")
            if then == "die":
                os.kill(os.getpid(), signal.SIGKILL)
            time.sleep(60)
        finally:
            os._exit(1)
    os.close(ready_w)
    assert os.read(ready_r, 1) == b"x"
    os.close(ready_r)
    return pid


def test_temporary_file_of_a_killed_run_is_removed_by_the_next_run(tmp_path):
    output = tmp_path / "clean.jsonl"
    os.waitpid(start_writer_in_a_child(output, "die"), 0)
    assert len(leftovers(tmp_path)) == 1
    write_docs(output)
    assert leftovers(tmp_path) == [] and cleaned(output.read_bytes()) == DOCS


def test_temporary_file_of_a_running_writer_is_left_alone(tmp_path):
    output = tmp_path / "clean.jsonl"
    pid = start_writer_in_a_child(output, "wait")
    try:
        write_docs(output)
        assert len(leftovers(tmp_path)) == 1  # the other writer's, still in use
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)


@pytest.mark.skipif(not IS_ROOT, reason="only root can give a file to another user")
def test_replaced_output_keeps_its_owner(tmp_path):
    prev = tmp_path / "clean.jsonl"
    prev.write_bytes(OLD)
    os.chown(prev, 65534, 65534)
    write_docs(prev)
    assert (prev.stat().st_uid, prev.stat().st_gid) == (65534, 65534)
