"""boilercut as an installed package: its configs and bundled pages are the repository's
own (no second copy to drift), the wheel's file list covers them, and no top-level module
takes the name of a popular package (HuggingFace's `evaluate`)."""
import subprocess
import sys
from fnmatch import fnmatch

import pytest
from conftest import REPO, tiny_records, write_jsonl

import boilercut
from boilercut import locations

tomllib = pytest.importorskip("tomllib")  # Python 3.11+
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
SRC = REPO / "src"


def test_the_package_configs_are_the_top_level_conf_folder():
    assert locations.CONF_DIR.resolve() == (REPO / "conf").resolve()
    assert sorted(p.relative_to(locations.CONF_DIR) for p in locations.CONF_DIR.rglob("*.yaml")) == \
        sorted(p.relative_to(REPO / "conf") for p in (REPO / "conf").rglob("*.yaml"))


def test_the_bundled_pages_are_data_pages_jsonl():
    assert locations.BUNDLED_PAGES.resolve() == (REPO / "data" / "pages.jsonl").resolve()


def test_the_wheel_takes_every_config_file_and_the_bundled_pages():
    """A config file the package-data patterns miss would be absent from the wheel only."""
    patterns = PYPROJECT["tool"]["setuptools"]["package-data"]["boilercut"]
    package = SRC / "boilercut"
    files = [p.relative_to(REPO / "conf") for p in (REPO / "conf").rglob("*") if p.is_file()]
    wanted = [f"conf/{f.as_posix()}" for f in files] + ["bundled/pages.jsonl"]
    missed = [name for name in wanted if not any(fnmatch(name, pattern) and name.count("/") == pattern.count("/")
                                                 for pattern in patterns)]
    assert files and not missed
    assert (package / "bundled" / "pages.jsonl").is_file()


def test_top_level_names_are_the_package_and_the_two_command_shims():
    top = sorted(p.name for p in SRC.iterdir() if (p / "__init__.py").is_file() or p.suffix == ".py")
    assert top == ["boilercut", "predict", "train"]
    assert "py-modules" not in PYPROJECT["tool"]["setuptools"]


def test_the_version_is_said_once_in_the_same_words():
    assert PYPROJECT["project"]["version"] == boilercut.__version__
    out = subprocess.run([sys.executable, "-m", "boilercut", "--version"], capture_output=True, text=True,
                         check=False)
    assert out.stdout == f"boilercut {boilercut.__version__}\n"


def test_an_installed_evaluate_package_breaks_nothing(model_file, tmp_path):
    """HuggingFace's `evaluate` first on the path: every boilercut command still runs, and
    `import evaluate` gives the user that package, not ours."""
    stand_in = tmp_path / "site" / "evaluate"
    stand_in.mkdir(parents=True)
    (stand_in / "__init__.py").write_text("raise ImportError('the stand-in for HuggingFace evaluate')\n")
    import os

    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(stand_in.parent), str(SRC),
                                                       os.environ.get("PYTHONPATH", "")]))
    data = write_jsonl(tmp_path / "eval.jsonl", tiny_records(4, seed=3))

    def run(*args):
        return subprocess.run([sys.executable, *args], cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=300, check=False)

    theirs = run("-c", "import evaluate")
    assert "the stand-in for HuggingFace evaluate" in theirs.stderr
    out = run("-m", "boilercut.cli", "evaluate", f"eval.files=[{data}]", f"eval.model_path={model_file}",
              "eval.justext=false", "eval.progress=false", f"eval.report_dir={tmp_path / 'report'}")
    assert out.returncode == 0, out.stderr
    assert "eval.jsonl: 4 pages" in out.stdout
    for module in ("boilercut.evaluate", "train", "predict"):
        assert run("-m", module, "--help").returncode == 0
