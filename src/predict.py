"""`python -m predict`: the project's first name for `boilercut predict` (boilercut/predict.py),
kept so that the commands of the project brief, old notes and scripts still run;
`import predict` still gives main(), parse_args() and the rest."""
if __name__ == "__main__":
    import gc

    gc.disable()  # while the libraries import and the model loads: see boilercut/predict.py

from boilercut.predict import *  # noqa: E402,F401,F403

if __name__ == "__main__":
    command("python -m predict")  # noqa: F405
