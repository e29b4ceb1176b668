"""The entry points as a user runs them: subprocesses from a temporary directory."""
import json
import subprocess
import sys

import pytest

from boilercut.persist import save_model
from conftest import TINY_PAGE, tiny_train_overrides


def run(args, cwd, stdin=None):
    return subprocess.run([sys.executable, "-m", *args], cwd=cwd, input=stdin, capture_output=True, timeout=300)


@pytest.fixture
def model_file(tiny_model, tmp_path):
    return save_model(tiny_model, tmp_path / "model" / "m.joblib")


@pytest.fixture
def page_file(tmp_path):
    path = tmp_path / "page.txt"
    path.write_text(TINY_PAGE + "\n", encoding="utf-8")
    return path


def test_train_cli_from_another_directory(tiny_file, tmp_path):
    model = tmp_path / "cli.joblib"
    out = run(["train", *tiny_train_overrides(tiny_file, model), "output.report=true",
               f"hydra.run.dir={tmp_path / 'run'}"], cwd=tmp_path)
    assert out.returncode == 0, out.stderr.decode()
    assert b"keep threshold" in out.stdout and b"| validation |" in out.stdout
    assert model.is_file() and (tmp_path / "cli.joblib.json").is_file()


def test_train_cli_bad_value_is_one_line_error(tiny_file, tmp_path):
    out = run(["train", *tiny_train_overrides(tiny_file, tmp_path / "x.joblib"), "model.C=-2",
               f"hydra.run.dir={tmp_path / 'run'}"], cwd=tmp_path)
    assert out.returncode == 2
    assert out.stderr.decode().strip().splitlines()[-1] == "train: error: model.C must be > 0, got -2"
    assert b"Traceback" not in out.stderr


def test_predict_prints_kept_lines(model_file, page_file, tmp_path):
    out = run(["predict", "--model", str(model_file), str(page_file)], cwd=tmp_path)
    assert out.returncode == 0, out.stderr.decode()
    assert out.stdout.decode().splitlines() == TINY_PAGE.split("\n")[2:4]


def test_predict_stdin_labels_and_json(model_file, tmp_path):
    data = TINY_PAGE.encode()
    labels = run(["predict", "--model", str(model_file), "--labels", "-"], cwd=tmp_path, stdin=data)
    rows = labels.stdout.decode().splitlines()
    assert len(rows) == len(TINY_PAGE.split("\n"))
    assert rows[0].startswith("- nav") and rows[2].startswith("+ content")
    js = run(["predict", "--model", str(model_file), "--json", "-"], cwd=tmp_path, stdin=data)
    record = json.loads(js.stdout)
    assert record["labels"][2] == "content" and record["keep"][:3] == [False, False, True]
    assert len(record["scores"]) == len(record["lines"])


def test_predict_threshold_zero_keeps_everything(model_file, page_file, tmp_path):
    out = run(["predict", "--model", str(model_file), "--threshold", "0", str(page_file)], cwd=tmp_path)
    assert out.stdout.decode() == TINY_PAGE + "\n"


@pytest.mark.parametrize("args, code, message", [
    (["--threshold", "2"], 2, "threshold must be between 0 and 1"),
    (["--model", "/nonexistent/m.joblib"], 4, "python -m train"),
])
def test_predict_usage_and_model_errors(model_file, page_file, tmp_path, args, code, message):
    if "--model" not in args:
        args = args + ["--model", str(model_file)]
    out = run(["predict", *args, str(page_file)], cwd=tmp_path)
    assert out.returncode == code
    assert message in out.stderr.decode() and b"Traceback" not in out.stderr


def test_predict_missing_input_continues_with_others(model_file, page_file, tmp_path):
    out = run(["predict", "--model", str(model_file), str(tmp_path / "nope.txt"), str(page_file)], cwd=tmp_path)
    assert out.returncode == 3
    assert "nope.txt: no such file" in out.stderr.decode()
    assert TINY_PAGE.split("\n")[2] in out.stdout.decode()


def test_train_multirun_saves_each_job_in_its_own_folder(tiny_file, tmp_path):
    default_model = tmp_path / "default.joblib"
    out = run(["train", "-m", "model.C=1,4", *tiny_train_overrides(tiny_file, default_model),
               f"hydra.sweep.dir={tmp_path / 'sweep'}"], cwd=tmp_path)
    assert out.returncode == 0, out.stderr.decode()
    for job in ("0", "1"):
        meta = json.loads((tmp_path / "sweep" / job / "default.joblib.json").read_text())
        assert meta["config"]["model"]["C"] == (1.0 if job == "0" else 4.0)
    assert not default_model.exists()  # sweep jobs never overwrite the configured model


def test_predict_keep_picks_an_operating_point_and_refuses_unknown_ones(tiny_model, page_file, tmp_path):
    from dataclasses import replace

    from boilercut.operating_points import OperatingPoints

    points = OperatingPoints({"balanced": 0.5, "everything": 0.0}, default="balanced")
    path = save_model(replace(tiny_model, points=points), tmp_path / "model" / "points.joblib")
    default = run(["predict", "--model", str(path), str(page_file)], cwd=tmp_path)
    assert default.stdout.decode().splitlines() == TINY_PAGE.split("\n")[2:4]
    everything = run(["predict", "--model", str(path), "--keep", "everything", str(page_file)], cwd=tmp_path)
    assert everything.stdout.decode().splitlines() == TINY_PAGE.split("\n")
    bad = run(["predict", "--model", str(path), "--keep", "gentle", str(page_file)], cwd=tmp_path)
    assert bad.returncode == 2 and bad.stdout == b""
    assert bad.stderr.decode().strip() == ("predict: error: --keep: unknown operating point 'gentle'; "
                                           "this model has balanced, everything")


def test_scoreboard_skips_absent_sets_and_scores_the_test_split(tiny_file, tmp_path):
    model = tmp_path / "sb.joblib"
    trained = run(["train", *tiny_train_overrides(tiny_file, model), f"hydra.run.dir={tmp_path / 'run'}"],
                  cwd=tmp_path)
    assert trained.returncode == 0, trained.stderr.decode()
    from conftest import REPO

    out = subprocess.run([sys.executable, str(REPO / "benchmarks" / "accuracy.py"), "--model", str(model),
                          "--shared", str(tmp_path / "no-shared"), "--rounds", "20",
                          "--json", str(tmp_path / "sb.json")], capture_output=True, timeout=300)
    assert out.returncode == 0, out.stderr.decode()
    assert "wcxb/dev-raw.jsonl.gz is absent: skipped" in out.stderr.decode()
    assert "| data test split |" in out.stdout.decode() and "realweb" not in out.stdout.decode()
    result = json.loads((tmp_path / "sb.json").read_text())
    split = result["sets"]["data test split"]
    assert split["word_f1_ci"][0] <= split["word_f1"] <= split["word_f1_ci"][1]
    assert result["examples"] == {}
