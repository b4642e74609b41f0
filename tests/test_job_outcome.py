"""A finished job's page says what happened in words: a push names every item it pushed, failed
or skipped, each linking to the item, a skipped conflict linking to its three-way view; no
result shows raw JSON, and no "refresh" hint stays once the job has ended. The dashboard's
recent jobs are a compact table."""
import pytest

from tests.support.pages import soup, url
from tests.support.sync import conflict, edit_here, reloaded_clone
from tikisync_web import items as item_svc
from tikisync_web import jobs
from tikisync_web.models import Job
from tikisync_web.views.labels import words


@pytest.fixture
def clone(app, db, fake_master, users):
    return reloaded_clone(app, fake_master)


def push_everything(app, web, tracker):
    """Preview every new and modified item, confirm, and return the push job's page."""
    preview = soup(web.get(url(app, "tikisync.push_preview", tracker_id=tracker.id)))
    form = preview.find("form", action=url(app, "tikisync.tracker_push", tracker_id=tracker.id))
    data = {i["name"]: i["value"] for i in form.find_all("input", type="hidden")}
    assert web.post(form["action"], data=data).status_code == 303
    job = Job.select().where(Job.kind == "push").order_by(Job.id.desc()).get()
    assert job.state == "done"
    return soup(web.get(url(app, "tikisync.job", job_id=job.id)))


def test_push_outcome_names_each_item_and_links_the_conflict(app, client, auth, clone,
                                                             fake_master):
    auth.login("admin")
    new = item_svc.create_item(clone, {"title": "Made here"}, username="t")
    edited = edit_here(2, {"amount": "77"})
    clash = conflict(app, clone, fake_master, 1, {"title": "Mine"}, {"title": "Theirs"})

    page = push_everything(app, client, clone)
    rows = {int(tr["data-item"]): tr for tr in page.find(id="push-outcome").find("tbody")("tr")}
    assert set(rows) == {new.id, edited.id, clash.id}
    words_of = {i: tr.find_all("td")[1].get_text(strip=True) for i, tr in rows.items()}
    assert words_of == {new.id: "Pushed", edited.id: "Pushed", clash.id: "Skipped"}
    for item_id, row in rows.items():
        assert row.find("a")["href"] == url(app, "tikisync.item", item_id=item_id)
    assert "created on the master as item" in rows[new.id].get_text()
    assert "sent Amount" in rows[edited.id].get_text()  # the field's label, not its permName
    assert "in conflict" in rows[clash.id].get_text()
    resolve = rows[clash.id].find("a", string="Resolve…")
    assert resolve["href"] == url(app, "tikisync.item_resolve", item_id=clash.id)
    assert page.find(class_="ts-job-summary").get_text(strip=True) == \
        "2 pushed, 0 failed, 1 skipped."
    text = page.get_text(" ")
    assert '"id"' not in text and "[{" not in text and "Refresh" not in text


def test_a_failed_item_is_named_with_the_masters_reason(app, client, auth, clone, fake_master):
    auth.login("admin")
    edited = edit_here(2, {"amount": "5"})
    fake_master.settings.reject_updates = "Amount: not a valid number"  # Tiki 18+: a 200
    page = push_everything(app, client, clone)
    row = page.find(id="push-outcome").find("tr", {"data-item": str(edited.id)})
    assert row.find_all("td")[1].get_text(strip=True) == "Failed"
    assert "Amount: not a valid number" in row.get_text()


def test_reload_outcome_reads_as_words_without_json(app, client, auth, clone, fake_master):
    auth.login("admin")
    fake_master.fields[1].append({"fieldId": 99, "name": "Extra", "permName": "extra",
                                  "type": "t", "position": 990, "options": "{}"})
    response = client.post(url(app, "tikisync.tracker_reload", tracker_id=clone.id))
    assert response.status_code == 303
    job = Job.select().where(Job.kind == "reload").order_by(Job.id.desc()).get()
    page = soup(client.get(url(app, "tikisync.job", job_id=job.id)))
    outcome = page.find(id="job-outcome")
    terms = dict(zip([dt.get_text(strip=True) for dt in outcome("dt")],
                     [dd.get_text(strip=True) for dd in outcome("dd")], strict=True))
    assert terms["Fetched"].isdigit() and terms["Deleted"] == "0"
    assert terms["Drift"].startswith("added: Extra (extra")
    text = outcome.get_text(" ")
    assert "{" not in text and "[" not in text


def test_words_for_result_values():
    assert words([]) == "none"
    assert words({"added": [], "removed": [], "retyped": []}) == "none"
    assert words({"retyped": [{"perm": "due", "name": "Due", "from": "t", "to": "j"}]}) == \
        "retyped: Due (due, from t, to j)"
    assert words([{"id": 3, "reason": "conflict"}]) == "id: 3, reason: conflict"
    assert words(True) == "yes"


def test_the_refresh_hint_goes_once_the_job_has_ended(app, client, auth, clone):
    auth.login("admin")
    job = jobs.enqueue("reload", tracker=clone, username="admin", runner="worker")
    running = soup(client.get(url(app, "tikisync.job", job_id=job.id)))
    outcome = running.find(id="job-outcome")
    # While it runs, the outcome waits for the widget's end event and then fetches itself.
    assert outcome["hx-trigger"] == "tikisync:job-finished from:body"
    assert outcome.find("noscript").find("a", string="Refresh")
    Job.update(state="done", lock_key=None, result={"fetched": 3}).where(
        Job.id == job.id).execute()
    ended = soup(client.get(url(app, "tikisync.job", job_id=job.id),
                            headers={"HX-Request": "true", "HX-Target": "job-outcome"}))
    assert ended.find(id="job-outcome").get("hx-trigger") is None
    assert "Refresh" not in ended.get_text() and ended.find("header") is None  # the fragment
    assert ended.find("dd").get_text(strip=True) == "3"


def test_dashboard_lists_recent_jobs_as_a_compact_table(app, client, auth, clone):
    auth.login("admin")
    assert client.post(url(app, "tikisync.tracker_reload", tracker_id=clone.id)).status_code == 303
    job = Job.select().order_by(Job.id.desc()).get()
    Job.update(started=job.finished - 125).where(Job.id == job.id).execute()
    table = soup(client.get(url(app, "tikisync.dashboard"))).find(id="recent-jobs")
    heads = [th.get_text(strip=True) for th in table.find("thead")("th")]
    assert heads == ["Job", "Tracker", "Kind", "Who", "When", "Took", "Outcome"]
    cells = [td.get_text(" ", strip=True) for td in table.find("tbody").find("tr")("td")]
    assert cells[:6] == [f"Job {job.id}", clone.name, "Reload from source", "admin", "just now",
                         "2 min 5 s"]
    assert "items read" in cells[6]
    assert table.find("a", string=clone.name)["href"] == url(app, "tikisync.items",
                                                             tracker_id=clone.id)
