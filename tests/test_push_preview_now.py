"""The push preview reads the master before anything is sent: "Master now" is the master's
value at this moment, and an item the master changed since the last reload is flagged as the
conflict it will be; when the master cannot be read, the page says so."""
import pytest

from tests.support.pages import soup, url
from tests.support.sync import edit_here, edit_on_master, reloaded_clone


@pytest.fixture
def edited(app, db, fake_master, users):
    """A reloaded clone whose item 2 has its amount (3 on the master) changed here to 77."""
    tracker = reloaded_clone(app, fake_master)
    return tracker, edit_here(2, {"amount": "77"})


def preview(app, web, tracker):
    return soup(web.get(url(app, "tikisync.push_preview", tracker_id=tracker.id)))


def cells(page, item, perm):
    row = page.find("tr", {"data-item": str(item.id), "data-perm": perm})
    return row, [td.get_text(strip=True) for td in row("td")][-3:]


def test_an_item_the_master_changed_since_the_reload_is_flagged(app, client, auth, edited,
                                                                fake_master):
    tracker, item = edited
    edit_on_master(fake_master, 2, {"amount": "5"})  # after the reload; nobody checked since
    auth.login("admin")
    page = preview(app, client, tracker)
    row, (field, master_now, will_be) = cells(page, item, "amount")
    assert (field, master_now, will_be) == ("Amount", "5", "77")  # read from the master now
    assert "ts-verdict-conflict" in row["class"]
    assert "changed on the master" in page.find(id="push-plan").get_text()
    assert "1 item was changed on the master" in page.find(id="push-would-conflict").get_text()
    assert fake_master.items[2]["fields"]["amount"] == "5"  # the preview sent nothing


def test_an_item_the_master_left_alone_is_not_flagged(app, client, auth, edited):
    tracker, item = edited
    auth.login("admin")
    page = preview(app, client, tracker)
    row, (_, master_now, will_be) = cells(page, item, "amount")
    assert (master_now, will_be) == ("3", "77")
    assert "ts-verdict-conflict" not in (row.get("class") or [])
    assert page.find(id="push-would-conflict") is None
    assert page.find(id="push-read") is not None


def test_a_master_that_cannot_be_read_is_said(app, client, auth, edited, fake_master):
    tracker, item = edited
    fake_master.settings.answer_status = 500
    auth.login("admin")
    response = client.get(url(app, "tikisync.push_preview", tracker_id=tracker.id))
    assert response.status_code == 200
    page = soup(response)
    assert "as of the last reload" in page.find(id="push-unread").get_text()
    _, (_, master_now, _) = cells(page, item, "amount")
    assert master_now == "3"  # the base, as the last reload saw it


def test_a_large_preview_reads_the_master_in_a_job(app, client, auth, edited, fake_master,
                                                   monkeypatch):
    from tikisync_web.models import Job
    from tikisync_web.views import sync_tab

    monkeypatch.setattr(sync_tab, "PREVIEW_READ_LIMIT", 0)  # every preview counts as large
    tracker, item = edited
    edit_on_master(fake_master, 2, {"amount": "5"})
    auth.login("admin")
    page = preview(app, client, tracker)
    assert "read them with the button below" in page.find(id="push-unread").get_text()
    assert cells(page, item, "amount")[1][1] == "3"  # the last reload's value meanwhile
    form = page.find(id="push-read-form")
    data = {i["name"]: i["value"] for i in form.find_all("input", type="hidden")}
    answer = client.post(form["action"], data=data)
    assert answer.status_code == 303
    job = Job.select().where(Job.kind == "preview").get()
    assert job.state == "done"  # the test app runs jobs inline
    read = soup(client.get(answer.location))
    row, (_, master_now, will_be) = cells(read, item, "amount")
    assert (master_now, will_be) == ("5", "77") and "ts-verdict-conflict" in row["class"]
    assert read.find(id="push-read") is not None and read.find(id="push-read-form") is None
    assert fake_master.items[2]["fields"]["amount"] == "5"  # nothing was sent
    summary = soup(client.get(url(app, "tikisync.job", job_id=job.id))).find(
        class_="ts-job-summary").get_text(" ", strip=True)
    assert summary.startswith("The master's values of 1 item was read for a push preview; 1 "
                              "changed on the master since the last reload")


def test_a_running_read_refreshes_the_preview_when_it_ends(app, client, auth, edited,
                                                           monkeypatch):
    from tikisync_web import jobs
    from tikisync_web.views import sync_tab

    monkeypatch.setattr(sync_tab, "PREVIEW_READ_LIMIT", 0)
    tracker, item = edited
    job = jobs.enqueue("preview", tracker=tracker, username="admin", runner="worker",
                       params={"items": [], "digest": ""})
    auth.login("admin")
    page = soup(client.get(url(app, "tikisync.push_preview", tracker_id=tracker.id,
                               read=job.id)))
    box = page.find(id="push-preview")
    assert box["hx-trigger"] == "tikisync:job-finished from:body"
    assert box["hx-select"] == "#push-preview" and box.find(id=f"job-{job.id}") is not None
