"""Hostile single-page inputs to `python -m predict`, run as a user runs it (a subprocess).

Each case gets either the exact expected output or exactly one line on stderr naming the
file, with the documented exit code (3: an input could not be read); never a traceback.
With --threshold 0 every line is kept, so the output shows that kept lines come out byte
for byte (each followed by "\\n", whatever its terminator was in the input).
"""
import codecs
import os
import subprocess
import sys

import pytest

from boilercut.persist import save_model
from boilercut.textio import MAX_PAGE_BYTES

EXIT_INPUT = 3


@pytest.fixture(scope="module")
def model_file(tiny_model, tmp_path_factory):
    return save_model(tiny_model, tmp_path_factory.mktemp("model") / "m.joblib")


def predict(model_file, path, *args, timeout=120):
    return subprocess.run([sys.executable, "-m", "predict", "--model", str(model_file), *args, str(path)],
                          cwd=path.parent, capture_output=True,
                          timeout=timeout)


def page(tmp_path, data: bytes, name="page.txt"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def assert_one_error(out, message):
    assert out.returncode == EXIT_INPUT
    assert out.stderr.decode() == f"predict: error: {message}\n"
    assert out.stdout == b""


def test_missing_path(model_file, tmp_path):
    path = tmp_path / "nope.txt"
    assert_one_error(predict(model_file, path), f"{path}: no such file")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their permissions")
def test_permission_denied(model_file, tmp_path):
    path = page(tmp_path, b"Some text.\n")
    path.chmod(0)
    assert_one_error(predict(model_file, path), f"{path}: permission denied")


def test_page_over_the_size_limit_is_refused_unread(model_file, tmp_path):
    path = tmp_path / "huge.txt"
    with path.open("wb") as f:
        f.truncate(MAX_PAGE_BYTES + 1)  # sparse: no disk space used, and it is never read
    assert_one_error(predict(model_file, path),
                     f"{path}: {MAX_PAGE_BYTES + 1:,} bytes, over the page limit of {MAX_PAGE_BYTES:,} bytes "
                     "(--max-record-bytes); split it or raise the limit")


def test_binary_file_with_nul_bytes(model_file, tmp_path):
    path = page(tmp_path, b"GIF89a\x01\x00\x01\x00 more")
    assert_one_error(predict(model_file, path), f"{path}: contains a NUL byte at byte 7: a binary file, not text")


def test_utf16_bom_with_broken_body(model_file, tmp_path):
    path = page(tmp_path, codecs.BOM_UTF16_LE + "Hi".encode("utf-16-le") + b"\x00\xd8")  # lone high surrogate
    assert_one_error(predict(model_file, path),
                     f"{path}: starts with a utf-16-le byte-order mark but is not valid utf-16-le at byte 6")


@pytest.mark.parametrize("data", [b"", b"  \n\t\n \r\n"], ids=["empty", "whitespace-only"])
def test_empty_and_whitespace_pages_give_no_error(model_file, tmp_path, data):
    out = predict(model_file, page(tmp_path, data))
    assert (out.returncode, out.stderr) == (0, b"")
    kept = predict(model_file, page(tmp_path, data), "--threshold", "0")
    assert kept.stdout == data.replace(b"\r\n", b"\n")


@pytest.mark.parametrize("data, expected", [
    (b"first line\r\nsecond line\r\n", b"first line\nsecond line\n"),
    (b"first line\rsecond line\r", b"first line\nsecond line\n"),
    (b"a\r\nb\rc\nd\r\n\r\ne", b"a\nb\nc\nd\n\ne\n"),
    ("form\ffeed\u2028line sep\u0085next-line\u2029para\vtab\n".encode(),
     "form\ffeed\u2028line sep\u0085next-line\u2029para\vtab\n".encode()),
], ids=["crlf", "cr-only", "mixed", "separators-inside-lines"])
def test_line_endings_and_separators(model_file, tmp_path, data, expected):
    out = predict(model_file, page(tmp_path, data), "--threshold", "0")
    assert (out.returncode, out.stderr) == (0, b"")
    assert out.stdout == expected


@pytest.mark.parametrize("data", [
    "Caf\u00e9 cr\u00e8me br\u00fbl\u00e9e, na\u00efve fa\u00e7ade.\r\nZweite Zeile \u00fcber \u00c4rger.\n".encode("latin-1"),
    b"valid start\n\xc3\x28 broken pair, \xed\xa0\x80 encoded surrogate, lone \x80\xbf\n\xf0\x9f\x98\n",
], ids=["latin-1", "invalid-utf-8"])
def test_undecodable_bytes_pass_through_with_one_warning(model_file, tmp_path, data):
    path = page(tmp_path, data)
    out = predict(model_file, path, "--threshold", "0")
    assert out.returncode == 0
    assert out.stderr.decode() == (f"predict: warning: {path}: not valid UTF-8; "
                                   "undecodable bytes are passed through unchanged\n")
    assert out.stdout == data.replace(b"\r\n", b"\n")
    assert predict(model_file, path).returncode == 0  # at the model's own threshold too


@pytest.mark.parametrize("bom, encoding", [
    (codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
], ids=["utf-8", "utf-16-le", "utf-16-be", "utf-32-le"])
def test_byte_order_mark_selects_the_encoding_and_output_is_utf8(model_file, tmp_path, bom, encoding):
    text = "Grüße aus Köln.\r\n北京天气\u2028晴\n"
    out = predict(model_file, page(tmp_path, bom + text.encode(encoding)), "--threshold", "0")
    assert (out.returncode, out.stderr) == (0, b"")
    assert out.stdout == "Grüße aus Köln.\n北京天气\u2028晴\n".encode("utf-8")


def run_measured(model_file, path, *args, timeout=600):
    """Run predict in a fresh parent process, so RUSAGE_CHILDREN is this run's peak alone."""
    probe = ("import resource, subprocess, sys, time\n"
             "t = time.monotonic()\n"
             "out = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.PIPE)\n"
             "sys.stderr.buffer.write(out.stderr)\n"
             "print(out.returncode, len(out.stdout), out.stdout.count(b'\\n'), time.monotonic() - t,\n"
             "      resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n")  # KiB on Linux
    cmd = [sys.executable, "-c", probe, sys.executable, "-m", "predict", "--model", str(model_file), *args, str(path)]
    out = subprocess.run(cmd, capture_output=True, timeout=timeout, cwd=path.parent)
    code, n_bytes, n_lines, seconds, peak_kib = out.stdout.split()
    return int(code), int(n_bytes), int(n_lines), float(seconds), int(peak_kib) / 1024, out.stderr


@pytest.mark.slow
def test_50_mb_single_line(model_file, tmp_path, record_property):
    words = b"the council met on tuesday to discuss new bus routes through the old town. "
    size = 50 * 1024 * 1024
    path = tmp_path / "one_line.txt"
    with path.open("wb") as f:
        f.write((words * (size // len(words) + 1))[:size])
    code, n_bytes, n_lines, seconds, peak_mib, stderr = run_measured(model_file, path, "--threshold", "0")
    record_property("peak_rss_mib", peak_mib)
    record_property("seconds", seconds)
    print(f"50 MB line: {seconds:.1f} s, peak RSS {peak_mib:.0f} MiB")
    assert (code, stderr) == (0, b"")
    assert (n_bytes, n_lines) == (size + 1, 1)
    assert peak_mib < 800  # measured about 330 MiB: the page is held about three times over


MILLION_LINES_BOUND_MIB = 1024


@pytest.mark.slow
def test_a_million_short_lines(model_file, tmp_path, record_property):
    path = tmp_path / "million.txt"
    lines = [b"Home", b"News | Sport", b"The council met on Tuesday.", b"- Ten gadgets", b"(c) 2024"]
    path.write_bytes(b"\n".join(lines[i % 5] for i in range(1_000_000)) + b"\n")
    code, n_bytes, n_lines, seconds, peak_mib, stderr = run_measured(model_file, path, "--threshold", "0")
    record_property("peak_rss_mib", peak_mib)
    record_property("seconds", seconds)
    print(f"1,000,000 lines: {seconds:.1f} s, peak RSS {peak_mib:.0f} MiB")
    assert (code, stderr) == (0, b"")
    assert (n_bytes, n_lines) == (path.stat().st_size, 1_000_000)
    assert peak_mib < MILLION_LINES_BOUND_MIB  # chunked scoring: 20,000 lines per model call
