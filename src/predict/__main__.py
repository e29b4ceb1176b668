import gc

gc.disable()  # while the libraries import and the model loads: see boilercut/predict.py

from boilercut.predict import command

command("python -m predict")
