"""The session side of the fake Tiki master, as the recorded Tiki 24.1 answers it
(../shared/tiki-examples/24-52, README "Writing over tiki-ajax_services.php with a session").

- `GET tiki-login_scr.php` (25): a new anonymous session, four cookies (PHPSESSID,
  PHPSESSIDCV, javascript_enabled_detect, PHPSESSID_CSRF) and a `loginbox` form with a ticket.
  `GET tiki-login.php` only redirects there (24).
- `POST tiki-login.php` (26, 47-49): success is a 302 and nothing else (no new cookie, the
  session id is kept); a wrong password is 401 and the form again; no Referer/Origin or no
  ticket is a 200 error page, and nobody is logged in.
- A session whose PHPSESSIDCV is missing is destroyed (36, 37).
- `insert_item` over tiki-ajax_services.php with `settings.tickets` set (07, 29-32, 38-46):
  no ticket: 200 with the form and itemId 0, nothing inserted; no Referer/Origin: 401; one of
  another host or port: 401; a ticket the session does not hold: 401 (JSON, the words as
  recorded). Every Gen A reply to a session carries `nextTicket`.
- `GET tiki-ajax_services.php?controller=tracker&action=insert_item` with `X-Requested-With:
  XMLHttpRequest` (39): the insert form, with a ticket.

Two ticket schemes (`settings.tickets`): "session" (Tiki 24.1 as installed: one ticket per
session, good for every write, `nextTicket` is that same ticket) and "one-use" (Tiki 19-23,
and 24.x with site_short_lived_csrf_tokens: a ticket is good for one checked write, the login
included, and every reply hands out a new one). None: no tickets at all (Tiki <= 18, the fake's
default).
"""
import secrets
from http.cookies import SimpleCookie
from urllib.parse import urlsplit

SECURITY = ("Request could not be completed due to problems encountered in the security check. "
            "{} For more information in the future, administrators can define the error_log "
            "setting in the php.ini file.")
NO_SITE = SECURITY.format("The requesting site could not be identified.")
OTHER_SITE = SECURITY.format("The requesting site domain does not match this site's domain.")
BAD_TICKET = SECURITY.format("The security ticket included in the request does not match a "
                             "ticket on the server. Reloading the page may help.")

LOGIN_FORM = (
    '<!DOCTYPE html><html><head><title>Log in | Tiki</title></head><body>'
    '<form name="loginbox" class="form" id="loginbox-1" action="{action}" method="post" >\n'
    '<input type="hidden" class="ticket" name="ticket" value="{ticket}" />\n'
    '<input class="form-control" type="text" name="user" id="login-user_1" '
    'autocomplete="username"/>\n<input type="password" name="pass" class="form-control" '
    'id="login-pass_1" autocomplete="current-password">\n'
    '<button class="btn btn-primary button submit" type="submit" name="login">\n'
    '</form>{note}</body></html>')
ERROR_PAGE = ("<!DOCTYPE html><html><head><title>Error | Tiki</title></head><body>"
              "<div class='alert'>{}</div><a href='tiki-index.php'>Home</a></body></html>")
INSERT_FORM = (
    '<form method="post" action="tiki-ajax_services.php?controller=tracker&amp;action='
    'insert_item&amp;format=0" id="insertItemForm{tracker}" >\n'
    '<input type="hidden" class="ticket" name="ticket" value="{ticket}" />\n'
    '<input type="text" class="form-control " id="ins_1" name="ins_1" value="" >\n'
    '<input type="hidden" name="trackerId" value="{tracker}">\n'
    '<input type="submit" class="btn btn-primary" value="Create" >\n</form>')


class Sessions:
    """PHP sessions of one fake master: id -> {"user", "cv", "tickets"}."""

    def __init__(self, master):
        self.master = master
        self.by_id = {}

    def new(self):
        sid, cv = secrets.token_hex(13), secrets.token_hex(16)
        self.by_id[sid] = {"user": None, "cv": cv, "tickets": []}
        cookies = [f"PHPSESSID={sid}; path=/; HttpOnly",
                   f"PHPSESSIDCV={cv}; Max-Age=31536000; path=/; HttpOnly",
                   "javascript_enabled_detect=1; Max-Age=31536000",
                   f"PHPSESSID_CSRF={secrets.token_hex(8)}; HttpOnly"]
        return sid, cookies

    def find(self, record):
        """The session id the request's cookies name, or None (a session without its
        PHPSESSIDCV is destroyed, as Tiki does)."""
        jar = SimpleCookie()
        try:
            jar.load(record.cookie or "")
        except Exception:  # noqa: BLE001 - a cookie header Python cannot read: no session
            return None
        sid = jar["PHPSESSID"].value if "PHPSESSID" in jar else None
        if sid not in self.by_id:
            return None
        if "PHPSESSIDCV" not in jar or jar["PHPSESSIDCV"].value != self.by_id[sid]["cv"]:
            del self.by_id[sid]
            return None
        return sid

    def user(self, record):
        sid = self.find(record)
        return self.by_id[sid]["user"] if sid else None

    def ticket(self, sid):
        """A ticket for the session: its only one ("session"), or a new one ("one-use")."""
        tickets = self.by_id[sid]["tickets"]
        if self.master.settings.tickets == "one-use" or not tickets:
            tickets.append(secrets.token_urlsafe(32))
        return tickets[-1]

    def spend(self, sid, ticket):
        """True when `ticket` is good for the session; a one-use ticket is used up."""
        tickets = self.by_id[sid]["tickets"] if sid in self.by_id else []
        if not ticket or ticket not in tickets:
            return False
        if self.master.settings.tickets == "one-use":
            tickets.remove(ticket)
        return True

    # --- checks -----------------------------------------------------------------------------

    @staticmethod
    def site_error(record):
        """None when Origin (else Referer) names the host and port the request was sent to."""
        claimed = record.header("Origin") or record.header("Referer")
        if not claimed:
            return NO_SITE
        parts = urlsplit(claimed)
        host = (parts.hostname or "") + (f":{parts.port}" if parts.port else "")
        return None if host == record.header("Host") else OTHER_SITE


def login_page(handler, record, form):
    """tiki-login_scr.php and tiki-login.php: the form, and the login post."""
    master, sessions = handler.master, handler.master.session_store
    base = master.base_path
    if handler.command == "GET" or record.path.endswith("tiki-login_scr.php"):
        if record.path.endswith("tiki-login.php"):
            handler._reply(302, b"", "text/html", [("Location", base + "/tiki-login_scr.php")])
            return
        sid, cookies = sessions.find(record), []
        if sid is None:
            sid, cookies = sessions.new()
        page = LOGIN_FORM.format(action=master.origin + base + "/tiki-login.php",
                                 ticket=sessions.ticket(sid), note="")
        handler._reply(200, page.encode(), "text/html; charset=utf-8",
                       [("Set-Cookie", c) for c in cookies])
        return
    sid = sessions.find(record)
    if sessions.site_error(record):
        page = ERROR_PAGE.format("The requesting site could not be identified")
        handler._reply(200, page.encode(), "text/html; charset=utf-8")
        return
    if sid is None or not sessions.spend(sid, form.get("ticket")):
        page = ERROR_PAGE.format("There was no security ticket submitted with the request"
                                 if not form.get("ticket") else BAD_TICKET)
        handler._reply(200, page.encode(), "text/html; charset=utf-8")
        return
    user = form.get("user")
    if not user or master.accounts.get(user) != form.get("pass"):
        page = LOGIN_FORM.format(action=master.origin + base + "/tiki-login.php",
                                 ticket=sessions.ticket(sid),
                                 note="<div class='alert'>Invalid username or password</div>")
        handler._reply(401, page.encode(), "text/html; charset=utf-8")
        return
    sessions.by_id[sid]["user"] = user
    landing = "/tiki-wizard_admin.php?&stepNr=0" if user == "admin" else "/tiki-index.php"
    handler._reply(302, b"", "text/html; charset=UTF-8", [("Location", master.origin + base +
                                                            landing)])


def insert_form(handler, record, params):
    """The insert form a browser's script fetches (39): a fresh ticket of the session."""
    sessions = handler.master.session_store
    sid = sessions.find(record)
    if sid is None:
        handler._reply(403, b"<html><body>Permission denied</body></html>", "text/html")
        return
    body = INSERT_FORM.format(tracker=params.get("trackerId", ""), ticket=sessions.ticket(sid))
    handler._reply(200, body.encode(), "text/html; charset=UTF-8")
