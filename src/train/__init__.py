"""`python -m train`: the project's first name for `boilercut train` (boilercut/train.py),
kept so that the commands of the project brief, old notes and scripts still run. A
package rather than a module beside boilercut/, so that git sees boilercut/train.py as
the old src/train.py moved. `import train` still gives its functions (train.main, ...),
loaded when first asked for: `python -m train` must reach __main__ before the libraries load."""


def __getattr__(name: str):
    from boilercut import train as command_module

    return getattr(command_module, name)
