"""Calls over tiki-ajax_services.php as a browser makes them, for a session credential (the
Tiki 19-23 path): Tiki 19+ creates an item only for a logged-in session that sends a CSRF
ticket and a same-site Origin/Referer (tiki-examples/README, "Writing over
tiki-ajax_services.php with a session"). A read that the master answers as to an anonymous
visitor logs in again once.

The ticket is the `nextTicket` of the last reply to the session (SessionAuth keeps it), else
the one of the insert form, fetched as Tiki's own script fetches it. Tiki checks the ticket
before it writes anything, so a refused ticket (a 401 naming it) is tried once more after a
fresh login. Tiki also checks the session's rights before it writes, so a write refused as
to an anonymous visitor (403: the session ended on the master) is sent once more after a
fresh login, as a read is. Any other failure is the caller's, as for every write.
"""
from __future__ import annotations

from urllib.parse import urlencode

from . import errors as e
from .auth import ticket_in
from .urls import locate


def session_of(client):
    """The session credential when `client` logs in (Tiki's browser path), else None."""
    return client.auth if getattr(client.auth, "method", None) == "session" else None


def read(client, url, pairs):
    """The answer of a Gen A read sent with the client's session credential."""
    session = client.auth
    try:
        answer = client.transport.json("POST", url, data=pairs)
    except e.Forbidden:
        if not session.logged_in:
            raise
        # A session that ended on the master (its lifetime, a restart) reads as an anonymous
        # visitor: log in again, once, and ask again.
        session.forget()
        answer = client.transport.json("POST", url, data=pairs)
    session.note_ticket(answer)
    return answer


def missing_id_hint(client):
    """What to do about a Gen A insert answered without an item id."""
    if session_of(client) is not None:
        return "check the master's log"
    return ("Tiki 19 and later create items over tiki-ajax_services.php only for a logged-in "
            "session with a CSRF ticket: give the credential the method session, or use a "
            "Tiki 24+ master with an API token")


def write(client, url, action, params):
    """The answer of a write sent with the client's session credential."""
    session = client.auth
    site = {"Origin": locate(client.base_url).origin, "Referer": client.base_url + "/"}
    for attempt in (1, 2):
        sent = dict(params)
        if action == "insert_item":
            sent["ticket"] = session.ticket or form_ticket(client, params.get("trackerId"))
            session.ticket = None  # spent, until the answer hands out the next one
        if not session.logged_in:  # log in first: a failed login is not a write that failed
            session.apply({}, url, client.transport)
        try:
            answer = client._send_write(url, sent, site)
        except e.Unauthorized as exc:
            refused = getattr(exc, "remote_message", "")
            if attempt == 1 and action == "insert_item" and "ticket" in refused.lower():
                session.forget()
                continue
            raise
        except e.Forbidden:
            if attempt == 1:  # the session ended on the master: nothing was written
                session.forget()
                continue
            raise
        session.note_ticket(answer)
        return answer
    raise AssertionError("unreachable")  # pragma: no cover


def form_ticket(client, tracker_id):
    """A fresh ticket: the insert form's (the fragment asked for with X-Requested-With,
    tiki-examples/39)."""
    url = client._url_a("tracker", "insert_item") + "&" + urlencode([("trackerId", tracker_id)])
    response, final = client.transport.send("GET", url, headers={
        "Accept": "text/html", "X-Requested-With": "XMLHttpRequest"})
    ticket = ticket_in(response.text)
    if not ticket:
        raise e.RemoteError(f"{final} gave no security ticket to the session of "
                            f"{client.auth.identifier!r}, so nothing can be inserted over "
                            "tiki-ajax_services.php: check that the account may create items "
                            "in this tracker", url=final)
    return ticket
