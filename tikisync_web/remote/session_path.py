"""Writes over tiki-ajax_services.php as a browser makes them: Tiki 19+ creates an item only
for a logged-in session that sends a CSRF ticket and a same-site Origin/Referer
(tiki-examples/README, "Writing over tiki-ajax_services.php with a session").

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
