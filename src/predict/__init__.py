"""`python -m predict`: the project's first name for `boilercut predict` (boilercut/predict.py),
kept so that the commands of the project brief, old notes and scripts still run. A
package rather than a module beside boilercut/, so that git sees boilercut/predict.py as
the old src/predict.py moved. `import predict` still gives its functions (predict.main, ...),
loaded when first asked for: `python -m predict` must reach __main__ before the libraries load."""


def __getattr__(name: str):
    from boilercut import predict as command_module

    return getattr(command_module, name)
