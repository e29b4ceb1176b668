"""The `boilercut` console script: one command line with a subcommand per job.

    boilercut train [KEY=VALUE ...]       # boilercut train --help: every config key, with its comment
    boilercut predict page.txt            # boilercut predict --help
    boilercut evaluate [KEY=VALUE ...]
    boilercut label CORPUS --out labels.jsonl   # a local labeling app
    boilercut --version                   # python -m boilercut ... where the script is not on PATH

Each subcommand is a module with a `command(prog)` function that runs it from sys.argv;
adding one is a line in COMMANDS. Modules are imported only when their command runs, so
`boilercut predict` pays for no Hydra import.
"""
from __future__ import annotations

import gc
import sys
from importlib import import_module

# name: (module with command(prog), one line for `boilercut --help`)
COMMANDS = {
    "train": ("boilercut.train", "train a model on labeled pages (Hydra: KEY=VALUE overrides)"),
    "predict": ("boilercut.predict", "remove boilerplate lines from pages and corpora"),
    "evaluate": ("boilercut.evaluate", "score a model and baseline rules on labeled pages, write a report"),
    "label": ("boilercut.label.cli", "label your own pages in the browser, the model's guesses first"),
}


def version() -> str:
    from boilercut import __version__

    return __version__


def usage() -> str:
    width = max(map(len, COMMANDS))
    rows = "\n".join(f"  {name:<{width}}  {summary}" for name, (_, summary) in COMMANDS.items())
    return (f"usage: boilercut COMMAND [ARGS ...]\n\n"
            "Cut boilerplate (menus, link lists, teasers, footers) out of scraped web text, line by line.\n\n"
            f"commands:\n{rows}\n\n"
            "boilercut COMMAND --help: the options of one command.   boilercut --version: the version.")


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help"):
        print(usage())
        return
    if args[0] == "--version":
        print(f"boilercut {version()}")
        return
    name, rest = args[0], args[1:]
    if name not in COMMANDS:
        print(f"boilercut: error: unknown command {name!r}; commands: {', '.join(COMMANDS)}", file=sys.stderr)
        sys.exit(2)
    # The command reads its own arguments from sys.argv (Hydra's commands can only).
    sys.argv = [f"boilercut {name}", *rest]
    # No garbage collection while the command's libraries import: they build only objects
    # that live as long as the process. Each command turns it back on (predict once its
    # model is loaded and frozen, the Hydra commands in commands.run_command).
    gc.disable()
    import_module(COMMANDS[name][0]).command(f"boilercut {name}")


if __name__ == "__main__":
    main()
