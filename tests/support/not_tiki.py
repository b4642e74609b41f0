"""A web server on 127.0.0.1 that is not a Tiki, for the "this is not a Tiki site" errors.

    with NotTiki("plain") as server:   # GET: a static home page, 404 elsewhere; POST: 501
        server.url                     # "http://127.0.0.1:PORT/site"

Kinds: "plain" (what `python -m http.server` does: it knows no POST, so 501), "page" (every
request answers 200 with another application's sign-in page, as a site that redirects every
unknown URL to its login does), "missing" (404 HTML for everything, as a web server whose
folder has no tiki-ajax_services.php).
"""
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOME = b"<!DOCTYPE html><html><head><title>Welcome</title></head><body>It works!</body></html>"
SIGN_IN = (b"<!DOCTYPE html><html><head><title>Sign in</title></head><body><form method='post' "
           b"action='/login'><input name='username'><input type='password' name='password'>"
           b"</form></body></html>")
MISSING = b"<html><head><title>404 Not Found</title></head><body>Not Found</body></html>"


class _Handler(BaseHTTPRequestHandler):
    kind = "plain"
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    timeout = 10

    def log_message(self, *args):
        pass

    def _page(self, status, body):
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _drain(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)

    def do_GET(self):
        self.server.hits += 1  # counted before the answer: a client that has it sees the count
        self._answer()

    def _answer(self):
        if self.kind == "page":
            self._page(200, SIGN_IN)
        elif self.kind == "plain" and self.path.split("?")[0].rstrip("/") in ("", "/site"):
            self._page(200, HOME)
        else:
            self._page(404, MISSING)

    def do_POST(self):
        self.server.hits += 1
        self._drain()
        if self.kind == "plain":
            self.send_error(501, "Unsupported method ('POST')")  # what http.server answers
        else:
            self._answer()


class NotTiki:
    def __init__(self, kind="plain"):
        self.kind = kind
        self.server = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}/site"

    @property
    def hits(self):
        return self.server.hits

    def start(self):
        handler = type("Handler", (_Handler,), {"kind": self.kind})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.server.hits = 0
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
