"""The `boilercut` console script: a subcommand per job, --version, and help that reads
well (for the Hydra commands: every config group and key with its YAML comment)."""
import shutil
import subprocess
import sys

import pytest
from conftest import CONF, TINY_PAGE, compose_train

from boilercut.cli import COMMANDS
from boilercut.config_help import yaml_keys


def boilercut(*args, cwd=None):
    """The console script as pip installs it: python -c 'from boilercut.cli import main; main()'."""
    return subprocess.run([sys.executable, "-c", "import sys; from boilercut.cli import main; sys.exit(main())",
                           *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=300, check=False)


def leaf_keys(cfg, prefix=""):
    from omegaconf import DictConfig

    for key in cfg:
        value = cfg._get_node(key)
        name = f"{prefix}{key}"
        if isinstance(value, DictConfig) and len(value):
            yield from leaf_keys(value, name + ".")
        else:
            yield name


def test_help_lists_every_command_and_an_unknown_one_is_one_line():
    out = boilercut("--help")
    assert out.returncode == 0
    assert all(f"  {name}" in out.stdout for name in COMMANDS)
    bad = boilercut("trian")
    assert (bad.returncode, bad.stdout) == (2, "")
    assert bad.stderr == "boilercut: error: unknown command 'trian'; commands: train, predict, evaluate, label\n"


def test_label_is_a_command_with_its_own_help_and_errors(tmp_path):
    out = boilercut("label", "--help")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("usage: boilercut label")
    bad = boilercut("label", tmp_path / "missing.jsonl", "--out", tmp_path / "labels.jsonl")
    assert bad.returncode != 0 and bad.stderr.startswith("boilercut label: error:")
    assert not (tmp_path / "labels.jsonl").exists()


@pytest.mark.parametrize("command", ["train", "evaluate"])
def test_hydra_command_help_gives_every_key_with_its_comment(command, tmp_path):
    out = boilercut(command, "--help", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(f"usage: boilercut {command} [KEY=VALUE ...]")
    cfg = compose_train([]) if command == "train" else None
    if cfg is None:
        from hydra import compose, initialize_config_dir

        with initialize_config_dir(version_base="1.3", config_dir=str(CONF)):
            cfg = compose(config_name=command)
    keys = [key for key in leaf_keys(cfg)]
    assert len(keys) > 10
    # a key inside a flow mapping ({objective: removal, ...}) is shown with its mapping
    shown = [".".join(key.split(".")[:n]) for key in keys for n in range(len(key.split(".")), 0, -1)]
    missing = [key for key in keys
               if not any(f"  {part} = " in out.stdout for part in shown if key.startswith(part))]
    assert not missing
    # each key's own comment, as written in its YAML file, follows it
    comment = {k: c for k, _, c in yaml_keys((CONF / f"{command}.yaml").read_text())}
    first = next(k for k in comment if comment[k] and "." in k)
    assert comment[first].split()[:5] == out.stdout.split(f"  {first} = ", 1)[1].split("\n", 1)[1].split()[:5]
    assert not list(tmp_path.iterdir())  # help writes no run folder


def test_train_help_names_each_experiment_with_its_description():
    out = boilercut("train", "--help").stdout
    for path in (CONF / "experiment").glob("*.yaml"):
        assert f"experiment={path.stem}" in out
    assert "Faster scoring for very large corpora" in out


def test_predict_runs_as_python_m_predict_does(model_file, tmp_path):
    page = tmp_path / "page.txt"
    page.write_text(TINY_PAGE + "\n")
    ours = boilercut("predict", "--model", model_file, page)
    shim = subprocess.run([sys.executable, "-m", "predict", "--model", model_file, str(page)],
                          capture_output=True, text=True, timeout=300, check=False)
    assert ours.returncode == shim.returncode == 0, ours.stderr
    assert ours.stdout == shim.stdout == "\n".join(TINY_PAGE.split("\n")[2:4]) + "\n"
    assert boilercut("predict", "--help").stdout.startswith("usage: boilercut predict ")


def test_train_runs_under_the_console_script(tiny_file, tmp_path):
    from conftest import tiny_train_overrides

    model = tmp_path / "m.joblib"
    out = boilercut("train", *tiny_train_overrides(tiny_file, model), "fit.n_jobs=1",
                    f"hydra.run.dir={tmp_path / 'run'}", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert model.is_file() and (tmp_path / "run" / ".hydra" / "config.yaml").is_file()


@pytest.mark.skipif(shutil.which("boilercut") is None, reason="the console script is not installed here")
def test_the_installed_console_script_gives_the_version():
    import boilercut as package

    out = subprocess.run(["boilercut", "--version"], capture_output=True, text=True, timeout=60, check=False)
    assert out.stdout == f"boilercut {package.__version__}\n"
