"""`python -m predict`: the project brief's name for `boilercut predict` (pyproject.toml says why)."""


def __getattr__(name: str):  # `import predict; predict.main(...)`: the command's module, loaded when first used
    from boilercut import predict as command_module

    return getattr(command_module, name)
