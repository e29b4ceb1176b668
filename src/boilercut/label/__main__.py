"""python -m boilercut.label CORPUS --out labels.jsonl: see cli.py."""
import sys

from boilercut.label.cli import main

sys.exit(main())
