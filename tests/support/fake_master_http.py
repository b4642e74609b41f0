"""The HTTP side of the fake Tiki master (tests/support/fake_master.py): request parsing the way
PHP does it, the Gen B route table, the login page, and the request handler."""
import json
import re
import time
from dataclasses import dataclass
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qsl, urlsplit

from tests.support.fake_faults import play_after, play_before, play_page
from tests.support.fake_tiki_session import insert_form, login_page


@dataclass
class Recorded:
    method: str
    path: str
    query: dict  # name -> [values]
    headers: dict  # as received
    body: str
    form: dict  # the body parsed as a form, name -> [values]

    def header(self, name, default=None):
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return default

    @property
    def authorization(self):
        return self.header("Authorization")

    @property
    def cookie(self):
        return self.header("Cookie")


def php_params(pairs):
    """PHP's reading of a query/form: `a[b]=1` -> {"a": {"b": "1"}}, `a[]=1` -> {"a": ["1"]}."""
    params = {}
    for key, value in pairs:
        match = re.match(r"^([^\[]+)((?:\[[^\]]*\])*)$", key)
        if not match:
            params[key] = value
            continue
        name, subs = match.group(1), re.findall(r"\[([^\]]*)\]", match.group(2))
        if not subs:
            params[name] = value
            continue
        target = params.setdefault(name, {} if subs[0] else [])
        for i, sub in enumerate(subs):
            last = i == len(subs) - 1
            if isinstance(target, list):
                if last:
                    target.append(value)
                else:
                    target.append({})
                    target = target[-1]
            elif last:
                target[sub] = value
            else:
                target = target.setdefault(sub, {} if subs[i + 1] else [])
    return params


class ApiError(Exception):
    """An error answer; `as_json`: a 401 with Tiki's JSON body (a security check), not the
    empty body of a refused password."""

    def __init__(self, status, message, as_json=False):
        super().__init__(message)
        self.status, self.message, self.as_json = status, message, as_json


class LoseReply(Exception):
    """Close the connection without answering."""


ROUTES = [
    ("GET", r"version", ("api", "version", ())),
    ("GET", r"trackers", ("tracker", "list_trackers", ())),
    ("GET", r"trackers/(\d+)/fields/export", ("tracker", "export_fields", ("trackerId",))),
    ("GET", r"trackers/(\d+)", ("tracker", "list_items", ("trackerId",))),
    ("POST", r"trackers/(\d+)/items", ("tracker", "insert_item", ("trackerId",))),
    ("POST", r"trackers/(\d+)/items/(\d+)", ("tracker", "update_item", ("trackerId", "_pathItem"))),
    ("POST", r"trackers/(\d+)/updates", ("tracker", "update_items", ("trackerId",))),
    ("POST", r"trackers/(\d+)/fields/(\d+)", ("tracker", "edit_field", ("trackerId", "fieldId"))),
    ("GET", r"users", ("user", "list_users", ())),
    ("GET", r"categories", ("category", "list_categories", ())),
]


def _route(method, route):
    for verb, pattern, (controller, action, names) in ROUTES:
        match = re.fullmatch(pattern, route.strip("/"))
        if match and verb == method:
            return controller, action, dict(zip(names, match.groups(), strict=True))
    return None


LOGIN_PAGE = ("<!DOCTYPE html><html><head><title>Log in</title></head><body><form method='post' "
              "action='tiki-login.php'><input type='hidden' name='ticket' value='{ticket}'>"
              "<input name='user'><input type='password' name='pass'></form></body></html>")


def handler_for(master):
    """The request handler class of one fake master."""
    return type("Handler", (TikiHandler,), {"master": master})


class TikiHandler(BaseHTTPRequestHandler):
    """A fake master's HTTP side: records every request, plays the misbehaviour its settings
    ask for, and answers the API through `master.dispatch`."""

    master = None  # the FakeMaster, set by handler_for
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # else keep-alive answers stall ~40 ms (Nagle + ACK)
    timeout = 10  # idle keep-alive connections end by themselves

    def log_message(self, *args):
        pass

    def date_time_string(self, timestamp=None):
        return formatdate(self.master.now() if timestamp is None else timestamp, usegmt=True)

    def do_GET(self):
        self._handle()

    def do_POST(self):
        self._handle()

    def _send(self, status, body=b"", content_type="application/json", headers=()):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status, payload, content_type="application/json"):
        body = json.dumps(payload).encode()
        if self.master.settings.truncate_json and status == 200:
            body = body[: max(1, len(body) // 2)]
        self._send(status, body, content_type)

    def _error(self, status, message, as_json=False):
        if status == 401 and not as_json:
            self._send(401, b"", "text/html; charset=UTF-8",
                       [("WWW-Authenticate", 'Basic realm="Tiki"')])
            return
        payload = {"code": status, "errortitle": message, "message": message}
        if status == 404:
            payload.update(message=f"{message} (404)", page=None)
        self._json(status, payload)

    def _handle(self):
        parts = urlsplit(self.path)
        record, query, form = self._record(parts)
        s = self.master.settings
        if s.redirect_to:
            self._send(307, b"", "text/html", [("Location", s.redirect_to + self.path)])
            return
        script = parts.path.rsplit("/", 1)[-1]
        if script in ("tiki-login.php", "tiki-login_scr.php"):
            if not self._page_fault_played("login" if self.command == "POST" else "login_form"):
                login_page(self, record, dict(form))
            return
        gen = {"tiki-ajax_services.php": "A", "tiki-api.php": "B"}.get(script)
        if gen is None or gen not in s.generations:
            self._send(404, b"<html><body>Not Found</body></html>", "text/html")
            return
        if gen == "A" and self.command == "GET" and record.header("X-Requested-With") and \
                dict(query).get("action") == "insert_item":
            if not self._page_fault_played("ticket_form"):
                insert_form(self, record, dict(query))
            return
        if not self._misbehaved():
            self._answer(gen, record, query, form)

    def _page_fault_played(self, action):
        """The session's pages (login_form, login, ticket_form) take faults as API requests
        do, counted with them but not in api_count; True when a fault answered already."""
        faults = self.master.faults
        self._page_fault = faults.take(action)
        self._page_action = action
        faults.call_hook("before", action, self.master.api_count)
        return play_before(self, self._page_fault)

    def _reply(self, status, body, content_type, headers=()):
        """Send a session page (what the master did is done): as it is, or as its fault says."""
        fault, self._page_fault = getattr(self, "_page_fault", None), None
        if getattr(self, "_page_action", None):
            self.master.faults.call_hook("applied", self._page_action, self.master.api_count)
        if fault is None:
            self._send(status, body, content_type, headers)
        else:
            play_page(self, fault, status, body, content_type, headers)

    def _record(self, parts):
        """Read the request, note it in master.requests; (record, query pairs, form pairs)."""
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        query = parse_qsl(parts.query, keep_blank_values=True)
        form = parse_qsl(body, keep_blank_values=True)
        record = Recorded(self.command, parts.path, _multi(query), dict(self.headers.items()),
                          body, _multi(form))
        with self.master.lock:
            self.master.requests.append(record)
        return record, query, form

    def _misbehaved(self):
        """Count the API request, wait the delay asked for, then play the failure the
        settings ask for; True when that answered."""
        master, s = self.master, self.master.settings
        with master.lock:
            master.api_count += 1
            number = self._number = master.api_count
        if s.delay:
            time.sleep(s.delay)
        if number in s.fail_requests:
            self._error(s.fail_status, "Service unavailable")
        elif s.answer_status:
            self._error(s.answer_status, s.error_message)
        elif s.html_login:
            self._send(200, LOGIN_PAGE.format(ticket="t").encode(), "text/html; charset=UTF-8")
        else:
            return False
        return True

    def _answer(self, gen, record, query, form):
        params = php_params(query + form)  # the body wins, as in PHP's $_REQUEST
        route = None
        if gen == "B":
            route = _route(self.command, php_params(query).get("route", ""))
            if route is None:
                self._error(404, "Route not found")
                return
        faults = self.master.faults
        action = route[1] if route is not None else params.get("action")
        fault = faults.take(action)
        faults.call_hook("before", action, self._number)
        if play_before(self, fault):
            return
        try:
            payload = self.master.dispatch(gen, record, params, route)
        except ApiError as exc:
            self._error(exc.status, exc.message, exc.as_json)
            return
        except LoseReply:
            self.close_connection = True
            return
        faults.call_hook("applied", action, self._number)
        if fault is not None:
            play_after(self, fault, payload)
            return
        is_version = route is not None and route[1] == "version"
        # Tiki 24.1 sends route=version's JSON as text/html (tiki-examples/14).
        self._json(200, payload, "text/html; charset=UTF-8" if is_version else
                   "application/json")


def _multi(pairs):
    result = {}
    for key, value in pairs:
        result.setdefault(key, []).append(value)
    return result


def self_signed_cert(directory):
    """(cert path, key path) for 127.0.0.1, made with `cryptography`; the cert is its own CA."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "master-cert.pem", directory / "master-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_path), str(key_path)
