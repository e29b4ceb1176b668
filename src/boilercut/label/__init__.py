"""boilercut label: a local web app to label the lines of your own pages.

    python -m boilercut.label CORPUS --out labels.jsonl

pages.py    the corpus as pages (predict's readers)
queue.py    the model's guesses and the page order (uncertain first, spread over sites)
store.py    the output file: one fsynced line per accepted page, locked, torn lines repaired
session.py  the state of a server: queue, skips, accept
server.py   the HTTP server (standard library) and its JSON API
cli.py      argument parsing and checks before the server starts
static/     the page view: one HTML, one JS, one CSS file
"""
from boilercut.label.cli import main

__all__ = ["main"]
