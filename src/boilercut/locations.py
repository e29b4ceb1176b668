"""Where boilercut finds its configs, its bundled training data and the default model,
whether it runs from a source checkout or from an installed wheel.

The default model (what load_model() and `boilercut predict` use without --model), the
first that applies:
1. $BOILERCUT_MODEL, a model file path;
2. in a source checkout (pip install -e ., or PYTHONPATH=src): models/boilercut.joblib;
3. otherwise the user cache: $XDG_CACHE_HOME/boilercut/boilercut.joblib, or
   ~/.cache/boilercut/boilercut.joblib when XDG_CACHE_HOME is unset.
A path passed explicitly (--model, load_model(path)) comes before all of them.
When the default model does not exist yet, first_model.py trains it there.
"""
from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
# Both are package data in the wheel. In the repository they are symlinks to the top-level
# conf/ and data/pages.jsonl, which stay the one source (see pyproject.toml).
CONF_DIR = PACKAGE_DIR / "conf"
BUNDLED_PAGES = PACKAGE_DIR / "bundled" / "pages.jsonl"
MODEL_ENV = "BOILERCUT_MODEL"
MODEL_NAME = "boilercut.joblib"


def source_checkout() -> Path | None:
    """The project folder when this package runs from its source tree (src/boilercut in
    a folder with boilercut's pyproject.toml), None when it is installed."""
    if PACKAGE_DIR.parent.name != "src":
        return None
    root = PACKAGE_DIR.parent.parent
    try:
        project = (root / "pyproject.toml").read_text(encoding="utf-8")
    except OSError:
        return None
    return root if 'name = "boilercut"' in project else None


def project_root() -> Path:
    """The folder that relative outputs (Hydra run folders, reports) go under: the source
    checkout, or the current directory for an installed package."""
    return source_checkout() or Path.cwd()


def data_dir() -> Path:
    """The folder holding the bundled labeled pages (pages.jsonl)."""
    root = source_checkout()
    return root / "data" if root is not None else BUNDLED_PAGES.parent


def user_cache_dir() -> Path:
    """The platform's per-user cache folder for boilercut (XDG base directory spec)."""
    base = os.environ.get("XDG_CACHE_HOME") or ""
    # The spec says a relative XDG_CACHE_HOME is invalid and must be ignored.
    return (Path(base) if os.path.isabs(base) else Path.home() / ".cache") / "boilercut"


def default_model_path() -> Path:
    """Where the default model is, or goes when it is first trained (order: module docstring)."""
    from_env = os.environ.get(MODEL_ENV)
    if from_env:
        return Path(from_env).expanduser()
    root = source_checkout()
    return (root / "models" if root is not None else user_cache_dir()) / MODEL_NAME


def metadata_path(model_path: Path) -> Path:
    """The metadata JSON written beside a model file (written last: a model file without
    it is not a finished model)."""
    return model_path.with_name(model_path.name + ".json")
