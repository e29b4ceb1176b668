"""The labeling app's HTTP server: the standard library's ThreadingHTTPServer.

    server = make_server(session, "127.0.0.1", 0)   # port 0: any free port
    server.serve_forever()

GET  /                     the page view (static/index.html, app.js, app.css: no build step,
                           nothing fetched from elsewhere)
GET  /api/state            counts, labels, scoring progress
GET  /api/next             the next page to label ({"page": null} while scoring or when done)
GET  /api/page?id=ID       one page (a finished one with its latest labels)
GET  /api/done             the finished pages, the last labeled first
POST /api/accept           {"id": ID, "labels": [...]}: append the page to the output
POST /api/skip             {"id": ID}: put the page at the back of the queue; returns the next

Answers are JSON; a bad request gets status 400 (404 for an unknown page) and
{"error": "one line"}.
"""
from __future__ import annotations

import json
import logging
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.resources import files
from urllib.parse import parse_qs, urlsplit

from boilercut.label.session import LabelSession

logger = logging.getLogger(__name__)

STATIC = {"/": ("index.html", "text/html; charset=utf-8"),
          "/app.js": ("app.js", "text/javascript; charset=utf-8"),
          "/app.css": ("app.css", "text/css; charset=utf-8")}
# The largest request body read (bytes): a 2,000-line page's labels take about 20 KB.
MAX_BODY = 16 * 1024 * 1024


class LabelHandler(BaseHTTPRequestHandler):
    server: "LabelServer"
    server_version = "boilercut-label"

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path in STATIC:
            name, kind = STATIC[url.path]
            self._send(HTTPStatus.OK, files("boilercut.label").joinpath("static", name).read_bytes(), kind)
            return
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        session = self.server.session
        routes = {"/api/state": lambda: session.state(), "/api/next": session.next_page,
                  "/api/done": session.done, "/api/page": lambda: session.page(query.get("id", ""))}
        self._answer(routes.get(url.path))

    def do_POST(self) -> None:
        session = self.server.session
        try:
            body = self._body()
        except ValueError as err:
            self._json(HTTPStatus.BAD_REQUEST, {"error": str(err)})
            return
        routes = {"/api/accept": lambda: session.accept(str(body.get("id", "")), body.get("labels")),
                  "/api/skip": lambda: session.skip(str(body.get("id", "")))}
        self._answer(routes.get(urlsplit(self.path).path))

    def _answer(self, route) -> None:
        if route is None:
            self._json(HTTPStatus.NOT_FOUND, {"error": f"no such address: {self.path}"})
            return
        try:
            self._json(HTTPStatus.OK, route())
        except KeyError as err:
            self._json(HTTPStatus.NOT_FOUND, {"error": err.args[0]})
        except ValueError as err:
            self._json(HTTPStatus.BAD_REQUEST, {"error": str(err)})

    def _body(self) -> dict:
        size = int(self.headers.get("Content-Length") or 0)
        if size > MAX_BODY:
            raise ValueError(f"request body of {size} bytes is over the limit of {MAX_BODY}")
        try:
            body = json.loads(self.rfile.read(size) or b"{}")
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise ValueError(f"request body is not JSON ({err})") from None
        if not isinstance(body, dict):
            raise ValueError("request body must be a JSON object")
        return body

    def _json(self, status: HTTPStatus, value) -> None:
        # ASCII with \u escapes: a lone surrogate (undecodable input bytes) stays valid JSON.
        self._send(status, json.dumps(value).encode("ascii"),
                   "application/json; charset=utf-8")

    def _send(self, status: HTTPStatus, body: bytes, kind: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (the base class's name)
        logger.debug("%s %s", self.address_string(), format % args)


class LabelServer(ThreadingHTTPServer):
    daemon_threads = True  # an open browser connection does not hold the process at exit

    def __init__(self, session: LabelSession, address: tuple[str, int]):
        super().__init__(address, LabelHandler)
        self.session = session

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{'[' + host + ']' if ':' in host else host}:{port}/"


def make_server(session: LabelSession, host: str = "127.0.0.1", port: int = 8765) -> LabelServer:
    return LabelServer(session, (host, port))
