"""The default model: where it is looked for, trained on the first call when absent (once,
even when processes race), reused afterwards, deterministic, and written readable by all.

The first-call trainings here run on the tiny corpus (overrides), in seconds; the one on
the bundled pages is the slow test at the end and the wheel check in .ci/wheel.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO, TINY_PAGE, compose_train, tiny_train_overrides

from boilercut import load_model, locations
from boilercut.first_model import ensure_model
from boilercut.persist import ModelFileError, metadata_path, save_model

SRC = Path(locations.__file__).resolve().parents[1]
TESTS = Path(__file__).resolve().parent


def fast_overrides(data_file: Path) -> list[str]:
    """The tiny corpus and small features, in one process: a training of a few seconds."""
    return [o for o in tiny_train_overrides(data_file, Path("unused")) if not o.startswith("output.")] + \
        ["fit.n_jobs=1"]


# --- where the default model is ---------------------------------------------------------

def test_the_environment_variable_comes_first(monkeypatch, tmp_path):
    monkeypatch.setenv("BOILERCUT_MODEL", str(tmp_path / "mine.joblib"))
    assert locations.default_model_path() == tmp_path / "mine.joblib"


def test_a_source_checkout_uses_its_models_folder(monkeypatch):
    monkeypatch.delenv("BOILERCUT_MODEL", raising=False)
    root = locations.source_checkout()
    assert root == SRC.parent  # these tests run from the checkout
    assert locations.default_model_path() == root / "models" / "boilercut.joblib"


def test_an_installed_package_uses_the_user_cache(monkeypatch, tmp_path):
    monkeypatch.delenv("BOILERCUT_MODEL", raising=False)
    monkeypatch.setattr(locations, "source_checkout", lambda: None)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert locations.default_model_path() == tmp_path / "xdg" / "boilercut" / "boilercut.joblib"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert locations.default_model_path() == tmp_path / "home" / ".cache" / "boilercut" / "boilercut.joblib"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")  # invalid by the spec: ignored
    assert locations.default_model_path() == tmp_path / "home" / ".cache" / "boilercut" / "boilercut.joblib"


def test_an_installed_package_trains_on_its_bundled_pages(monkeypatch):
    monkeypatch.setattr(locations, "source_checkout", lambda: None)
    assert locations.data_dir() == locations.BUNDLED_PAGES.parent
    assert locations.BUNDLED_PAGES.read_bytes() == (SRC.parent / "data" / "pages.jsonl").read_bytes()


def test_load_model_without_a_path_loads_the_default_model(tiny_model, monkeypatch, tmp_path):
    path = save_model(tiny_model, tmp_path / "default.joblib")
    monkeypatch.setenv("BOILERCUT_MODEL", str(path))
    assert load_model().metadata["model_sha256"] == json.loads(metadata_path(path).read_text())["model_sha256"]


# --- trained on the first call ----------------------------------------------------------

def test_first_call_trains_says_so_and_later_calls_reuse_the_file(tiny_file, tmp_path, capfd):
    path = tmp_path / "cache dir" / "boilercut.joblib"  # a space: the override is quoted
    assert ensure_model(path, fast_overrides(tiny_file)) == path
    err = capfd.readouterr().err
    assert f"boilercut: no model at {path}: training the default model" in err
    assert "boilercut: trained the default model in" in err and "saved model to" in err
    model = load_model(path)
    assert model.metadata["config"]["data"]["files"] == [str(tiny_file)]
    before = path.stat().st_mtime_ns
    assert ensure_model(path, fast_overrides(tiny_file)) == path
    assert capfd.readouterr().err == ""  # nothing trained, nothing said
    assert path.stat().st_mtime_ns == before


def test_a_failed_first_training_leaves_no_model_and_says_why(tiny_file, tmp_path, capfd):
    path = tmp_path / "m.joblib"
    with pytest.raises(ModelFileError, match=r"m\.joblib: training the default model failed \(exit 2\)"):
        ensure_model(path, [*fast_overrides(tiny_file), "model.C=-1"])
    assert "train: error: model.C must be > 0, got -1" in capfd.readouterr().err
    assert not path.exists() and not metadata_path(path).exists()


def test_a_default_model_that_cannot_be_written_is_one_clear_error(tmp_path, monkeypatch):
    (tmp_path / "a file").write_text("")
    path = tmp_path / "a file" / "models" / "boilercut.joblib"  # under a file: no folder can be made there
    with pytest.raises(ModelFileError, match=r"boilercut\.joblib: no model there, and none can be trained "
                                             r"there \(Not a directory\); set BOILERCUT_MODEL"):
        ensure_model(path)
    monkeypatch.setenv("BOILERCUT_MODEL", str(path))
    out = subprocess.run([sys.executable, "-m", "predict", "-"], input="Home | News\n", capture_output=True,
                         text=True, timeout=300, check=False)
    assert out.returncode == 4
    assert out.stderr.startswith(f"predict: error: {path}: no model there") and out.stderr.count("\n") == 1


RACER = """
import sys
from pathlib import Path
from boilercut.first_model import ensure_model
from boilercut.persist import load_model
path = Path(sys.argv[1])
ensure_model(path, sys.argv[2:])
print(load_model(path).metadata["model_sha256"])
"""


@pytest.mark.slow  # 25 s on 2 busy cores: two interpreters, one training
def test_racing_processes_train_once_and_share_the_file(tiny_file, tmp_path):
    path = tmp_path / "shared" / "boilercut.joblib"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]))
    procs = [subprocess.Popen([sys.executable, "-c", RACER, str(path), *fast_overrides(tiny_file)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
             for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err for _, err in outs]
    trained = [err for _, err in outs if f"no model at {path}: training" in err]
    waited = [err for _, err in outs if "using the model another process trained" in err]
    assert (len(trained), len(waited)) == (1, 1), [err for _, err in outs]
    assert outs[0][0] == outs[1][0]  # the same file, loaded by both
    assert not list(path.parent.glob(".*.tmp"))


# --- deterministic, and readable by others ------------------------------------------------

def test_two_trainings_give_identical_probabilities(tiny_file, tmp_path):
    from boilercut.train import train

    pages = [TINY_PAGE.split("\n"), ["Home | News", "A sentence of the page body, long enough to read."]]
    probabilities = []
    for run in ("a", "b"):
        path = tmp_path / run / "m.joblib"
        train(compose_train(tiny_train_overrides(tiny_file, path)))
        probabilities.append(load_model(path).score(pages).proba)
    assert probabilities[0].shape[0] == sum(map(len, pages))
    np.testing.assert_array_equal(probabilities[0], probabilities[1])


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o027, 0o640)])
def test_model_files_are_readable_as_the_umask_allows(tiny_model, tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        path = save_model(tiny_model, tmp_path / "m.joblib")
    finally:
        os.umask(old)
    assert (path.stat().st_mode & 0o777, metadata_path(path).stat().st_mode & 0o777) == (mode, mode)


@pytest.mark.slow
def test_the_bundled_default_model_is_the_same_on_every_training(bundled_model_file, tmp_path):
    """A second full training on the bundled pages (minutes) against the session's first:
    the model every install gets."""
    from boilercut.train import train

    path = tmp_path / "boilercut.joblib"
    train(compose_train([f"output.model_path={path}", "output.report=false"]))
    pages = [TINY_PAGE.split("\n"), (REPO / "data" / "examples" / "mirror-page.txt").read_text().split("\n")]
    np.testing.assert_array_equal(load_model(path).score(pages).proba,
                                  load_model(bundled_model_file).score(pages).proba)
