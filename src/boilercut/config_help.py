"""`boilercut train --help` and `boilercut evaluate --help`: the config groups a command
composes and every key it sets, each with the comment written beside it in its YAML file;
run_hydra_command runs such a command.

Hydra's own --help prints the composed config without the comments, which is where this
project says what a key means and its range; `--cfg job` still prints that raw dump.
The YAML files are read as text (one key per line, nested by indentation), so a key's
value is shown as written, interpolations included.
"""
from __future__ import annotations

import os
import re
import sys
import textwrap
from pathlib import Path

from boilercut.commands import run_command
from boilercut.locations import CONF_DIR

_KEY = re.compile(r"^(?P<indent> *)(?P<key>[A-Za-z_][\w-]*):(?P<value>[^#]*?)\s*(?:#\s?(?P<comment>.*))?$")
_DEFAULT = re.compile(r"^\s*-\s*(?P<group>[\w/]+):\s*(?P<option>[^#\s]+)\s*(?:#\s?(?P<comment>.*))?$")
_WIDTH = 100


def asks_for_help(args: list[str]) -> bool:
    return any(arg in ("-h", "--help") for arg in args)


def run_hydra_command(name: str, main, prog: str, doc: str | None) -> None:
    """Run the @hydra.main function `main` as the command `name` with the arguments in
    sys.argv: --help prints describe_config, the rest goes to Hydra (commands.run_command:
    one-line config errors; Ctrl-C: exit 130, SIGTERM: 143). prog: how it was called."""
    if asks_for_help(sys.argv[1:]):
        print_help(describe_config(name, prog, doc))
        return
    run_command(name, main)


def print_help(text: str) -> None:
    """Print a help text; a reader that stops early (`| head`) is not an error."""
    try:
        print(text, flush=True)
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so that exit's flush is quiet


def yaml_keys(text: str) -> list[tuple[str, str, str]]:
    """(dotted key, value as written, comment) for every key of a YAML file of ours."""
    keys, path = [], []  # path: (indent, key) of the mappings the current line is inside
    for line in text.splitlines():
        found = _KEY.match(line)
        if not found:
            continue
        depth = len(found["indent"])
        while path and path[-1][0] >= depth:
            path.pop()
        path.append((depth, found["key"]))
        keys.append((".".join(key for _, key in path), found["value"].strip(), (found["comment"] or "").strip()))
    return keys


def _package(text: str, group: str) -> str:
    """The prefix a group file's keys get: its group, unless it says `# @package _global_`."""
    return "" if "@package _global_" in text.split("\n", 1)[0] else group + "."


def _first_comment(text: str) -> str:
    lines = [line.lstrip("# ").strip() for line in text.splitlines() if line.startswith("#") and "@package" not in line]
    return lines[0] if lines else ""


def _entry(name: str, comment: str, indent: str = "  ") -> str:
    head = f"{indent}{name}"
    if not comment:
        return head
    return head + "\n" + textwrap.fill(comment, _WIDTH, initial_indent=indent + "    ",
                                       subsequent_indent=indent + "    ")


def describe_config(config_name: str, prog: str, doc: str | None, conf_dir: Path = CONF_DIR) -> str:
    """The help text of the command whose config is conf_dir/<config_name>.yaml."""
    main_text = (conf_dir / f"{config_name}.yaml").read_text(encoding="utf-8")
    out = [f"usage: {prog} [KEY=VALUE ...] [GROUP=OPTION ...] [-m KEY=V1,V2 ...] [--cfg job] [--hydra-help]",
           "", (doc or "").strip().split("\n\n")[0].strip(), "",
           f"Config groups (GROUP=OPTION picks another file of {conf_dir.resolve()}/GROUP/):"]
    sections = []
    for line in main_text.splitlines():
        found = _DEFAULT.match(line)
        if not found:
            continue
        group, option = found["group"], found["option"]
        options = sorted(p.stem for p in (conf_dir / group).glob("*.yaml")) if (conf_dir / group).is_dir() else []
        if group == "_self_" or not options:
            continue
        out.append(_entry(f"{group}={option}  (options: {', '.join(options)})", found["comment"] or ""))
        if option == "null":  # an optional group such as experiment: say what each file does
            out += [_entry(f"{group}={name}", _first_comment((conf_dir / group / f"{name}.yaml").read_text(
                encoding="utf-8")), indent="      ") for name in options]
        else:
            text = (conf_dir / group / f"{option}.yaml").read_text(encoding="utf-8")
            sections.append((f"{group}/{option}.yaml", _package(text, group), text))
    sections.append((f"{config_name}.yaml", "", main_text))
    out += ["", "Keys (KEY=VALUE overrides one; shown with the value each file sets):"]
    for name, prefix, text in sections:
        keys = [(key, value, comment) for key, value, comment in yaml_keys(text)
                if not key.startswith("defaults")]
        if keys:
            out += ["", f"{name}:"]
            out += [_entry(f"{prefix}{key}" + (f" = {value}" if value else ""), comment) for key, value, comment in keys]
    return "\n".join(out)
