"""`python -m train`: the project brief's name for `boilercut train` (pyproject.toml says why)."""


def __getattr__(name: str):  # `import train; train.main(...)`: the command's module, loaded when first used
    from boilercut import train as command_module

    return getattr(command_module, name)
