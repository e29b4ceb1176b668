"""`python -m boilercut COMMAND ...`: the console script, where its folder is not on PATH."""
from boilercut.cli import main

main()
