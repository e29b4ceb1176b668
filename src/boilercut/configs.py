"""The Hydra configs of the commands: where they are, the ${boilercut:...} resolver they
use for paths, and composing one outside @hydra.main (tests, `--help`).

Imported by the entry points (boilercut.train, boilercut.evaluate) and by tests only: the
library itself takes plain arguments and never reads a config.

    ${boilercut:root}           the source checkout, or the current directory when installed
    ${boilercut:data_dir}       the folder of the bundled pages.jsonl
    ${boilercut:default_model}  the default model path (locations.default_model_path)
"""
from __future__ import annotations

from omegaconf import OmegaConf

from boilercut.locations import CONF_DIR, data_dir, default_model_path, project_root

_PLACES = {"root": project_root, "data_dir": data_dir, "default_model": default_model_path}


def _place(name: str) -> str:
    if name not in _PLACES:
        raise ValueError(f"${{boilercut:{name}}}: unknown place; known: {', '.join(_PLACES)}")
    return str(_PLACES[name]())


# Registered on import, once for every entry point: both commands' configs use it.
OmegaConf.register_new_resolver("boilercut", _place, replace=True)


def compose(config_name: str, overrides: list[str] | tuple[str, ...] = ()):
    """The config `boilercut <config_name>` would run with these overrides, without Hydra's
    run machinery (no output folder, no logging set-up)."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    with initialize_config_dir(version_base="1.3", config_dir=str(CONF_DIR)):
        return hydra_compose(config_name=config_name, overrides=list(overrides))
