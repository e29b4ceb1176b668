"""Errors where the docs (docs/errors.md) promise one line on stderr and got a traceback or Hydra's
multi-line report: a full disk under page mode, an empty data file, a report folder that
cannot be made, an unknown config key, Ctrl-C or SIGTERM during training."""
import os
import signal
import subprocess
import sys

import pytest
from conftest import TINY_PAGE, tiny_train_overrides



def run(args, cwd, **kwargs):
    kwargs.setdefault("stdout", subprocess.PIPE)
    return subprocess.run([sys.executable, "-m", *map(str, args)], cwd=cwd, stderr=subprocess.PIPE,
                          check=False, timeout=300, **kwargs)


def only_line(out) -> str:
    lines = out.stderr.decode().splitlines()
    assert len(lines) == 1, out.stderr.decode()
    return lines[0]


@pytest.fixture
def empty_file(tmp_path):
    path = tmp_path / "empty.jsonl"
    path.write_bytes(b"")
    return path


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("args", [["page.txt"], ["--json", "page.txt"], ["c.jsonl"]])
def test_stdout_on_a_full_disk(model_file, tmp_path, args):
    (tmp_path / "page.txt").write_text(TINY_PAGE + "\n")
    (tmp_path / "c.jsonl").write_text('{"text": "Home | News"}\n')
    with open("/dev/full", "wb") as full:
        out = run(["predict", "--quiet", "--model", model_file, *args], cwd=tmp_path, stdout=full)
    assert out.returncode == 6
    assert only_line(out) == "predict: error: cannot write stdout: [Errno 28] No space left on device"


def test_train_on_an_empty_data_file(empty_file, tmp_path):
    out = run(["train", *tiny_train_overrides(empty_file, tmp_path / "m.joblib"),
               f"hydra.run.dir={tmp_path / 'run'}"], cwd=tmp_path)
    assert out.returncode == 2
    assert only_line(out) == f"train: error: {empty_file}: no pages in this file"


def test_evaluate_on_an_empty_data_file(model_file, empty_file, tmp_path):
    out = run(["boilercut.evaluate", f"eval.files=[{empty_file}]", f"eval.model_path={model_file}",
               f"eval.report_dir={tmp_path / 'report'}"], cwd=tmp_path)
    assert out.returncode == 2
    assert only_line(out) == f"evaluate: error: {empty_file}: no pages in this file"


def unwritable_folder(tmp_path):
    """A report folder that cannot be made: under a read-only folder, or (root writes
    anywhere) under a regular file."""
    if os.geteuid() == 0:
        (tmp_path / "file").write_text("")
        return tmp_path / "file" / "report"
    (tmp_path / "read-only").mkdir(mode=0o555)
    return tmp_path / "read-only" / "report"


def test_evaluate_with_a_report_folder_that_cannot_be_made(model_file, tiny_file, tmp_path):
    folder = unwritable_folder(tmp_path)
    out = run(["boilercut.evaluate", f"eval.files=[{tiny_file}]", f"eval.model_path={model_file}",
               f"eval.report_dir={folder}"], cwd=tmp_path)
    assert out.returncode == 2
    assert only_line(out).startswith("evaluate: error: ") and str(folder) in only_line(out)


@pytest.mark.parametrize("module, command, key", [("train", "train", "modle.C"),
                                                  ("boilercut.evaluate", "evaluate", "eval.treshold")])
def test_unknown_config_key(tmp_path, module, command, key):
    out = run([module, f"{key}=1", f"hydra.run.dir={tmp_path / 'run'}"], cwd=tmp_path)
    assert out.returncode == 2
    line = only_line(out)
    assert line.startswith(f"{command}: error: Could not override '{key}'.")  # Hydra's own words
    assert f"+{key}=1" in line


@pytest.mark.parametrize("sig, code, word", [(signal.SIGINT, 130, "interrupted"),
                                             (signal.SIGTERM, 143, "terminated")])
def test_ctrl_c_or_sigterm_during_train(tiny_file, tmp_path, sig, code, word):
    model = tmp_path / "models" / "m.joblib"
    proc = subprocess.Popen([sys.executable, "-m", "train", *tiny_train_overrides(tiny_file, model),
                             f"hydra.run.dir={tmp_path / 'run'}"],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    for line in proc.stdout:  # Hydra logs to stdout; the split is logged before the fit
        if b"pages:" in line:
            break
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == code
    # Above it only datasets' progress bars, written while the data was read.
    assert err.decode().splitlines()[-1] == f"train: {word}" and b"Traceback" not in err, err.decode()
    assert not model.exists() and not list(tmp_path.glob("models/*"))
