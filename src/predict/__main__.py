import gc

gc.disable()  # while the libraries import and the model loads: see boilercut/predict.py

from boilercut.predict import command  # noqa: E402

command("python -m predict")
