"""`python -m train`: the project's first name for `boilercut train` (boilercut/train.py),
kept so that the commands of the project brief, old notes and scripts still run;
`import train` still gives train(), main() and the rest."""
from boilercut.train import *  # noqa: F401,F403

if __name__ == "__main__":
    command("python -m train")  # noqa: F405
