from boilercut.train import command

command("python -m train")
