"""Print pages with their boilerplate lines removed.

    python -m predict page.txt [more.txt ...]    # kept lines, byte for byte, in order
    cat page.txt | python -m predict -            # "-" reads standard input
    python -m predict --labels page.txt           # every line with its label and content score
    python -m predict --json page.txt             # one JSON record per page
    python -m predict --threshold 0.3 --model models/other.joblib page.txt

Kept lines go to stdout, diagnostics to stderr. Exit codes: 0 ok, 2 bad usage,
3 an input could not be read (the others are still processed), 4 model missing or
refused, 130 interrupted.
"""
from __future__ import annotations

import argparse
import json
import sys

from boilercut.filter import check_threshold
from boilercut.lines import split_lines
from boilercut.persist import ModelFileError, load_model
from boilercut.textio import InputError, decode_page, encode_line, read_page

EXIT_USAGE, EXIT_INPUT, EXIT_MODEL, EXIT_INTERRUPTED = 2, 3, 4, 130


def parse_args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m predict", description="Remove boilerplate lines from pages.")
    ap.add_argument("inputs", nargs="+", help="page text files, or - for standard input")
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--labels", action="store_true", help="show every line with its label and content score")
    mode.add_argument("--json", action="store_true", help="one JSON record per page with per-line labels and scores")
    ap.add_argument("--threshold", type=float, default=None,
                    help="keep lines whose content score is at least this (0..1; default: the model's)")
    ap.add_argument("--model", default=None, help="model file (default: models/boilercut.joblib)")
    return ap.parse_args(argv)


def read_input(name: str) -> str:
    if name == "-":
        text, lossless = decode_page(sys.stdin.buffer.read(), "<stdin>")
    else:
        text, lossless = read_page(name)
    if not lossless:
        print(f"predict: warning: {name}: not valid UTF-8; undecodable bytes are passed through unchanged",
              file=sys.stderr)
    return text


def render(name: str, lines: list[str], labels: list[str], scores, threshold: float, args) -> bytes:
    if args.json:
        record = {"input": name, "threshold": threshold, "lines": lines, "labels": labels,
                  "scores": [round(float(s), 4) for s in scores],
                  "keep": [bool(s >= threshold) for s in scores]}
        return json.dumps(record, ensure_ascii=False).encode("utf-8", "surrogateescape") + b"\n"
    if args.labels:
        width = max((len(lab) for lab in labels), default=0)
        return b"".join(encode_line(f"{'+' if s >= threshold else '-'} {lab:<{width}} {s:.2f} | {line}\n")
                        for line, lab, s in zip(lines, labels, scores))
    return b"".join(encode_line(line) + b"\n" for line, s in zip(lines, scores) if s >= threshold)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        threshold = check_threshold(args.threshold) if args.threshold is not None else None
    except ValueError as err:
        print(f"predict: error: --threshold: {err}", file=sys.stderr)
        return EXIT_USAGE
    try:
        model = load_model(args.model)
    except ModelFileError as err:
        print(f"predict: error: {err}", file=sys.stderr)
        return EXIT_MODEL
    threshold = model.threshold if threshold is None else threshold
    status = 0
    out = sys.stdout.buffer
    headers = len(args.inputs) > 1 and not args.json
    for i, name in enumerate(args.inputs):
        try:
            lines = split_lines(read_input(name))
        except InputError as err:
            print(f"predict: error: {err}", file=sys.stderr)
            status = EXIT_INPUT
            continue
        scores = model.score_pages([lines])[0] if lines else []
        labels = model.label_pages([lines])[0] if lines and (args.labels or args.json) else []
        if headers:
            out.write(encode_line(f"{'' if i == 0 else chr(10)}==> {name} <==\n"))
        out.write(render(name, lines, labels, scores, threshold, args))
        out.flush()
    return status


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("predict: interrupted", file=sys.stderr)
        sys.exit(EXIT_INTERRUPTED)
    except BrokenPipeError:  # e.g. `python -m predict page.txt | head`
        sys.exit(0)
