"""The labeling app's command line: check the inputs, start the server, print its address.

    python -m boilercut.label CORPUS [CORPUS ...] --out labels.jsonl [--order uncertain|random|file]
        [--limit N] [--host 127.0.0.1] [--port 8765] [--model models/boilercut.joblib]

Everything that can be wrong is found before the server starts, with one line on stderr
and a non-zero exit: an unreadable corpus or record (exit 3), a model that cannot be
loaded (4), an output file that is not a labeled-page file or holds labels the model
does not know (2). The model's guesses are computed in a background thread (a tqdm bar
on stderr); the page view shows the progress and opens when they are ready.
"""
from __future__ import annotations

import argparse
import logging
import shlex
import sys

from boilercut.corpus_io import FORMATS
from boilercut.label.pages import read_pages
from boilercut.label.queue import ORDERS
from boilercut.label.server import make_server
from boilercut.label.session import LabelSession
from boilercut.label.store import LabelFile, LabelFileError
from boilercut.persist import ModelFileError, load_model

EXIT_USAGE, EXIT_INPUT, EXIT_MODEL = 2, 3, 4
PROG = "boilercut label"


def parse_args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog=PROG, description="Label the lines of your own pages in the browser, "
                                 "the model's guesses prefilled, the most uncertain pages first.")
    ap.add_argument("inputs", nargs="+", metavar="CORPUS",
                    help="page text files, directories of .txt pages, JSONL (.gz) or parquet corpora")
    ap.add_argument("--out", required=True, help="labeled pages are appended here (JSONL); resumed on restart")
    ap.add_argument("--order", choices=ORDERS, default="uncertain",
                    help="page order: the most uncertain first (default), random, or as in the corpus")
    ap.add_argument("--limit", type=int, default=None, metavar="N", help="read only the first N pages")
    ap.add_argument("--seed", type=int, default=0, help="seed of --order random")
    ap.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1, this machine only)")
    ap.add_argument("--port", type=int, default=8765, help="port (default: 8765; 0 = any free port)")
    ap.add_argument("--model", default=None, help="model file (default: models/boilercut.joblib)")
    ap.add_argument("--trust-model-file", action="store_true",
                    help="load a .joblib model with plain joblib.load (runs any code the file holds)")
    ap.add_argument("--text-field", default="text", help="field holding the document text (default: text); "
                    "records with a list of 'lines' are read too")
    ap.add_argument("--input-format", choices=FORMATS, default=None, help="default: from each input's name")
    ap.add_argument("--annotator", default=None, help="written as labeled_by (default: your user name)")
    ap.add_argument("--quiet", action="store_true", help="no progress bar")
    return ap.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format=f"{PROG}: %(message)s")
    if args.limit is not None and args.limit < 1:
        return _error(f"--limit must be at least 1, got {args.limit}", EXIT_USAGE)
    if not 0 <= args.port <= 65535:
        return _error(f"--port must be in 0..65535, got {args.port}", EXIT_USAGE)
    # The corpus first: a run that cannot start must not leave a new, empty output file,
    # nor wait for a model (the first call trains the default one, minutes) to say so.
    try:
        pages = read_pages(args.inputs, args.text_field, args.input_format, args.limit)
    except ValueError as err:
        return _error(str(err), EXIT_INPUT)
    if not pages:
        return _error(f"no page with text in {' '.join(args.inputs)}", EXIT_INPUT)
    try:
        model = load_model(args.model, trust_model_file=args.trust_model_file)
    except ModelFileError as err:
        return _error(str(err), EXIT_MODEL)
    try:
        store = LabelFile(args.out, model.labels)
    except LabelFileError as err:
        return _error(str(err), EXIT_USAGE)
    adapt = f"python -m train data.adapt={shlex.quote(str(store.path.resolve()))}"
    session = LabelSession(model, pages, store, args.order, args.seed, args.annotator, adapt)
    try:
        server = make_server(session, args.host, args.port)
    except OSError as err:
        store.close()
        return _error(f"cannot listen on {args.host}:{args.port} ({err.strerror or err})", EXIT_USAGE)
    done = sum(store.is_done(p.id, p.digest) for p in pages)
    print(f"{PROG}: {len(pages)} pages ({done} already labeled in {args.out}); "
          f"open {server.url} (Ctrl-C to stop)", file=sys.stderr, flush=True)
    session.start_scoring(_progress_bar(len(pages) - done, args.quiet))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print(f"{PROG}: stopped; {len(store.records)} pages labeled in {args.out}", file=sys.stderr)
    finally:
        server.server_close()
        store.close()
    return 0


def _progress_bar(total: int, quiet: bool):
    if quiet or total == 0:
        return None
    from tqdm import tqdm

    bar = tqdm(total=total, desc="scoring pages", unit="page", file=sys.stderr)

    def update(n: int) -> None:
        bar.update(n)
        if bar.n >= total:
            bar.close()
    return update


def _error(message: str, code: int) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return code


def command(prog: str) -> None:
    """Run `label` with the arguments in sys.argv (the `boilercut label` console command)."""
    import gc

    gc.enable()  # the console script turns it off while imports run; a server runs for hours
    sys.exit(main(sys.argv[1:]))
