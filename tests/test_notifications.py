"""Notices of unattended runs, received by a real SMTP server and a real HTTP receiver on
loopback: exactly one message per event, to the admins, with the tracker, counts and a link;
nothing for a run that changed nothing."""
import pytest

from tests.support.apps import make_user
from tests.support.fake_master_http import self_signed_cert
from tests.support.schedules import synced_clone
from tikisync_web import credentials
from tikisync_web import items as item_svc
from tikisync_web.jobs import scheduler, schedules
from tikisync_web.models import Item, User

PUBLIC = "https://intranet.example.org/portal"


@pytest.fixture
def admins(db):
    """Who should hear: the active admins with an address, and only them."""
    for name, role, email, active in [("ann", "admin", "ann@example.org", True),
                                      ("bob", "admin", "bob@example.org", True),
                                      ("cy", "admin", "", True),
                                      ("ed", "editor", "ed@example.org", True),
                                      ("old", "admin", "old@example.org", False)]:
        user = make_user(name, role)
        User.update(email=email, active=active).where(User.id == user.id).execute()
    return ["ann@example.org", "bob@example.org"]


@pytest.fixture
def noticed(app, db, admins, smtp_server, hook_receiver):
    """The app told to mail through `smtp_server` and post to `hook_receiver`."""
    app.config.update(TIKISYNC_SMTP_HOST="127.0.0.1", TIKISYNC_SMTP_PORT=smtp_server.port,
                      TIKISYNC_SMTP_FROM="tikisync@intranet.example.org",
                      TIKISYNC_WEBHOOK_URL=hook_receiver.url, TIKISYNC_PUBLIC_URL=PUBLIC,
                      TIKISYNC_HTTP_BACKOFF=0)
    credentials.add_origin(hook_receiver.origin, actor="test")
    return smtp_server, hook_receiver


def look(app):
    return schedules.run_due(context=scheduler.context_for(app))


def conflict(remote_id, master, mine, theirs):
    """Change the title of one item here and, differently, on the master."""
    item_svc.update_item(Item.get(Item.remote_id == remote_id), {"title": mine}, username="a")
    master.items[remote_id]["fields"]["title"] = theirs


def test_new_conflicts_make_one_message_per_run_and_quiet_runs_none(app, noticed, fake_master,
                                                                      clock):
    smtp, hooks = noticed
    tracker = synced_clone(app, fake_master)
    schedules.save(tracker, check_every="5m")
    clock.advance(300)
    assert [job.state for job in look(app)] == ["done"]
    assert (smtp.messages, hooks.bodies) == ([], [])  # nothing changed: nothing sent

    conflict(1, fake_master, "Ours 1", "Theirs 1")
    conflict(2, fake_master, "Ours 2", "Theirs 2")
    clock.advance(300)
    look(app)
    [mail] = smtp.messages
    assert sorted(mail.recipients) == ["ann@example.org", "bob@example.org"]
    assert mail.sender == "tikisync@intranet.example.org"
    assert mail.message["Subject"] == "[tikisync] SyncDemo: 2 new conflicts wait for a person"
    link = f"{PUBLIC}/trackers/{tracker.id}/sync"
    assert link in mail.text
    assert "found 2 new conflicts (2 in all)" in mail.text
    [(headers, body)] = hooks.bodies
    assert body["event"] == "conflicts" and headers["Content-Type"] == "application/json"
    assert body["tracker"]["id"] == tracker.id and body["tracker"]["name"] == "SyncDemo"
    assert body["counts"] == {"new_conflicts": 2, "conflicts": 2}
    assert body["link"] == link

    clock.advance(300)
    look(app)  # the same conflicts still wait: already told
    assert (len(smtp.messages), len(hooks.bodies)) == (1, 1)

    conflict(3, fake_master, "Ours 3", "Theirs 3")
    clock.advance(300)
    look(app)
    assert (len(smtp.messages), len(hooks.bodies)) == (2, 2)
    assert hooks.bodies[1][1]["counts"] == {"new_conflicts": 1, "conflicts": 3}
    assert smtp.messages[1].message["Subject"].endswith("1 new conflict waits for a person")


def test_a_failing_master_makes_one_failure_message_then_one_pause_message(
        app, noticed, make_master, clock):
    smtp, hooks = noticed
    master = make_master()
    tracker = synced_clone(app, master)
    schedules.save(tracker, reload_every="15m")
    master.settings.answer_status = 503
    for _ in range(6 * 60):  # six hours of looks, one a minute
        clock.advance(60)
        look(app)
    assert hooks.events() == ["failed", "paused"]
    assert [m.message["X-Tikisync-Event"] for m in smtp.messages] == ["failed", "paused"]
    failed, paused = (m.text for m in smtp.messages)
    assert "The scheduled reload of “SyncDemo”" in failed and "503" in failed
    assert "tried again at" in failed
    assert "paused itself: 5 runs in a row failed" in paused
    assert f"tikisync schedule resume {tracker.id}" in paused
    assert f"{PUBLIC}/trackers/{tracker.id}/sync" in paused
    assert hooks.bodies[1][1]["counts"] == {"failures": 5}


def test_items_the_automatic_push_could_not_send_are_told_once(app, noticed, fake_master,
                                                               clock):
    smtp, hooks = noticed
    tracker = synced_clone(app, fake_master)
    schedules.save(tracker, check_every="5m", auto_push="safe")
    item_svc.create_item(tracker, {"title": "Refused by the master"}, username="a")
    fake_master.settings.insert_without_id = True  # Tiki 19-23: 200 without an item id
    for _ in range(2):
        clock.advance(300)
        [job] = look(app)
        assert job.state == "done" and len(job.result["push"]["failed"]) == 1
    assert hooks.events() == ["push_failed"]
    assert hooks.bodies[0][1]["counts"] == {"failed_items": 1, "pushed": 0, "not_pushed": 1}
    [mail] = smtp.messages
    assert "could not send 1 item" in mail.text


def test_a_webhook_outside_the_allow_list_is_not_called_and_the_reason_is_kept(
        app, noticed, fake_master, clock, hook_receiver):
    smtp, _ = noticed
    credentials.remove_origin(hook_receiver.origin, actor="test")
    tracker = synced_clone(app, fake_master)
    schedules.save(tracker, check_every="5m")
    conflict(1, fake_master, "Ours", "Theirs")
    clock.advance(300)
    look(app)
    assert hook_receiver.bodies == []
    assert len(smtp.messages) == 1  # the email still went
    row = schedules.for_tracker(tracker)
    assert "webhook" in row.notice_error and hook_receiver.origin in row.notice_error


def test_a_tracker_webhook_replaces_the_default_one(app, noticed, fake_master, clock):
    from tests.support.receivers import HookReceiver

    _, default_hook = noticed
    own = HookReceiver()
    try:
        credentials.add_origin(own.origin, actor="test")
        tracker = synced_clone(app, fake_master)
        schedules.save(tracker, check_every="5m", webhook_url=own.url)
        conflict(1, fake_master, "Ours", "Theirs")
        clock.advance(300)
        look(app)
        assert own.events() == ["conflicts"] and default_hook.bodies == []
    finally:
        own.stop()


def test_mail_over_starttls_with_a_login(app, db, admins, make_smtp_server, fake_master, clock,
                                         tmp_path):
    cert, key = self_signed_cert(tmp_path)
    smtp = make_smtp_server(tls=(cert, key), logins={"mailer": "s3cret-pass"})
    app.config.update(TIKISYNC_SMTP_HOST="127.0.0.1", TIKISYNC_SMTP_PORT=smtp.port,
                      TIKISYNC_SMTP_STARTTLS=True, TIKISYNC_SMTP_USER="mailer",
                      TIKISYNC_SMTP_PASSWORD="s3cret-pass", TIKISYNC_CA_BUNDLE=cert)
    tracker = synced_clone(app, fake_master)
    schedules.save(tracker, check_every="5m")
    conflict(1, fake_master, "Ours", "Theirs")
    clock.advance(300)
    look(app)
    assert len(smtp.messages) == 1
    assert schedules.for_tracker(tracker).notice_error == ""

    app.config["TIKISYNC_SMTP_PASSWORD"] = "wrong"
    conflict(2, fake_master, "Ours", "Theirs")
    clock.advance(300)
    [job] = look(app)
    assert job.state == "done"  # a notice that cannot go never fails the run
    assert len(smtp.messages) == 1
    error = schedules.for_tracker(tracker).notice_error
    assert error.startswith("email: the SMTP server 127.0.0.1") and "wrong" not in error


def test_a_tracker_name_with_a_line_break_still_makes_a_one_line_subject(app, noticed,
                                                                         fake_master, clock):
    from tikisync_web.models import Tracker

    smtp, hooks = noticed
    tracker = synced_clone(app, fake_master)
    Tracker.update(name="Sync\r\nBcc: everyone@example.org").where(
        Tracker.id == tracker.id).execute()
    schedules.save(tracker, check_every="5m")
    conflict(1, fake_master, "Ours", "Theirs")
    clock.advance(300)
    [job] = look(app)
    assert job.state == "done"
    [mail] = smtp.messages
    assert mail.message["Subject"].strip() == ("[tikisync] Sync Bcc: everyone@example.org: 1 new "
                                       "conflict waits for a person")
    assert mail.message["Bcc"] is None and sorted(mail.recipients) == [
        "ann@example.org", "bob@example.org"]
    assert len(hooks.bodies) == 1
