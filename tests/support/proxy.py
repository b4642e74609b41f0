"""A portal's reverse proxy on loopback, as the README's nginx block sets it up: the portal's
own page at "/", and everything under PREFIX/ forwarded to an app with the prefix stripped and
X-Forwarded-For, -Proto, -Host and -Prefix set, so the app (TIKISYNC_BEHIND_PROXY) writes its
URLs under the portal's origin. One request per connection; Nagle off."""
import http.client
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
              "trailers", "transfer-encoding", "upgrade", "host", "content-length"}


class ReverseProxy:
    def __init__(self, upstream, prefix="/sync", home=b"<p>portal</p>"):
        self.upstream, self.prefix, self.home = urlsplit(upstream), prefix, home
        handler = type("Handler", (_Handler,), {"proxy": self})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.port = self.server.server_port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


class _Handler(BaseHTTPRequestHandler):
    proxy = None
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def _serve(self):
        proxy = self.proxy
        if not (self.path == proxy.prefix or self.path.startswith(proxy.prefix + "/")):
            return self._answer(200, [("Content-Type", "text/html; charset=utf-8")], proxy.home)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        headers.update({
            "Host": self.headers.get("Host", ""),
            "X-Forwarded-For": self.client_address[0], "X-Forwarded-Proto": "http",
            "X-Forwarded-Host": self.headers.get("Host", ""), "X-Forwarded-Prefix": proxy.prefix,
            "Content-Length": str(len(body)),
        })
        path = self.path[len(proxy.prefix):] or "/"
        upstream = http.client.HTTPConnection(proxy.upstream.hostname, proxy.upstream.port,
                                              timeout=30)
        try:
            upstream.request(self.command, path, body=body, headers=headers)
            answer = upstream.getresponse()
            content = answer.read()
            kept = [(k, v) for k, v in answer.getheaders() if k.lower() not in HOP_BY_HOP]
            self._answer(answer.status, kept, content)
        finally:
            upstream.close()

    def _answer(self, status, headers, content):
        self.send_response(status)
        for key, value in headers:
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(content)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(content)
        self.close_connection = True

    do_GET = do_POST = do_HEAD = _serve
