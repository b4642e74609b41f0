"""Two real tikisync-web processes: one serves a tracker as a Tiki master (set up with its CLI),
the other clones it through the wizard's pages (a signed-in requests session following links
and forms, as a browser without JavaScript would) and through `tikisync clone --json`, over
both protocol generations: A (tiki-ajax_services.php, HTTP Basic) and B (tiki-api.php, Bearer).
The clone's fields are compared with the master's through the master API both of them serve."""
import json
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urljoin

import pytest
import requests
from bs4 import BeautifulSoup

from tests.support.waiting import wait_until
from tikisync_web.remote import exportfmt

pytestmark = pytest.mark.twoinstance
SYNCER, SYNCER_PASSWORD = "syncer", "syncer-password"
CATEGORIES = {"options": ["10=Sales", "11=Support"], "inputtype": "d"}


def seed_master(master):
    tracker = master.cli("tracker", "create", "Requests", "--description", "Team requests",
                         as_json=True)["id"]
    master.cli("field", "add", tracker, "title", "t", "Title", "--mandatory")
    master.cli("field", "add", tracker, "amount", "n", "Amount")
    master.cli("field", "add", tracker, "priority", "d", "Priority",
               "--options", json.dumps({"options": ["1=Low", "2=High"]}), "--mandatory")
    master.cli("field", "add", tracker, "owner", "u", "Owner",
               "--options", json.dumps({"roles": ["admin", "editor"]}))
    master.cli("field", "add", tracker, "area", "e", "Area", "--options", json.dumps(CATEGORIES))
    master.cli("field", "add", tracker, "due", "j", "Due", "--options", '{"datetime": "d"}')
    master.cli("field", "add", tracker, "done", "c", "Done")
    master.cli("user", "add", SYNCER, "--role", "editor", "--password", SYNCER_PASSWORD)
    master.cli("user", "add", "watcher", "--role", "viewer", "--password", "watcher-password")
    for title, owner in (("Printer jam", SYNCER), ("New laptop", "admin")):
        master.cli("item", "add", tracker, "--set", f"title={title}", "--set", "priority=2",
                   "--set", f"owner={owner}", "--set", "area=10")
    token = master.cli("token", "add", SYNCER, "--label", "clone").stdout.strip()
    return tracker, token


def api(instance, token, route, **params):
    """A read from an instance's own master API (Gen B, tiki-api.php), as any client would."""
    answer = requests.get(f"{instance.url}/tiki-api.php", params={"route": route, **params},
                          headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert answer.status_code == 200, answer.text[:300]
    return answer.json()


def exported(instance, tracker, token):
    """The fields an instance serves for `tracker`."""
    text = api(instance, token, f"trackers/{tracker}/fields/export")["export"]
    return {f["permName"]: f for f in exportfmt.parse(text)}


def tracker_ids(instance, token):
    return {int(t["trackerId"]) for t in api(instance, token, "trackers")["data"]}


def expected_clone(master_fields):
    """The master's fields as §8 says a clone holds them."""
    result = {}
    for perm, f in master_fields.items():
        kind, options = f["type"], f["options"]
        if kind == "u":  # roles admin and editor: the master's admin and syncer
            kind, options = "d", {"options": ["admin", SYNCER]}
        elif kind == "e":
            kind, options = "d", {"options": CATEGORIES["options"]}
        result[perm] = (f["name"], kind, options, f["isMandatory"], f["position"])
    return result


def shape(fields):
    ordered = sorted(fields.values(), key=lambda f: f["position"])
    return {f["permName"]: (f["name"], f["type"], f["options"], f["isMandatory"], rank * 10)
            for rank, f in enumerate(ordered, start=1)}


class Browser:
    """A signed-in session that follows links and submits forms like a browser without JS."""

    def __init__(self, instance):
        self.base, self.web = instance.url, instance.login()

    def get(self, href, **params):
        answer = self.web.get(urljoin(self.base, href), params=params or None, timeout=60)
        assert answer.status_code in (200, 422), (answer.status_code, answer.text[:500])
        return answer, BeautifulSoup(answer.text, "html.parser")

    def submit(self, form, **values):
        data = {i["name"]: i.get("value", "") for i in form.find_all("input") if i.get("name")
                and i.get("type") not in ("checkbox", "radio")}
        data.update(values)
        action = urljoin(self.base, form["action"])
        if form.get("method", "get").lower() == "get":
            return self.get(action, **data)
        answer = self.web.post(action, data=data, timeout=60, allow_redirects=False)
        return answer


def add_basic_credential(browser, url):
    """Through the credentials page, as an admin would."""
    _, page = browser.get("/")
    _, page = browser.get(page.find("a", string="Credentials")["href"])
    form = page.find(id="credential-add")
    answer = browser.submit(form, identifier="master-basic", url=url, method="basic",
                            username=SYNCER, secret=SYNCER_PASSWORD, allow_http="y",
                            generation="auto")
    assert answer.status_code == 303, answer.text[:800]


def clone_through_the_wizard(browser, url, remote_tracker):
    _, page = browser.get("/")
    _, page = browser.get(page.find("a", string="Clone a remote tracker")["href"])
    _, page = browser.submit(page.find(id="clone-wizard").find("form"), url=url)
    row = next(tr for tr in page.find(id="remote-trackers").find("tbody").find_all("tr")
               if tr.find("td").get_text(" ", strip=True).endswith(f"#{remote_tracker}"))
    assert [td.get_text(strip=True) for td in row.find_all("td")][1:3] == ["Team requests", "2"]
    _, page = browser.get(row.find("a")["href"])
    plan = {tr["id"][len("plan-"):]: tr["data-action"]
            for tr in page.find(id="clone-plan").find_all("tr", id=True)}
    assert plan == {"title": "kept", "amount": "kept", "priority": "kept", "owner": "transformed",
                    "area": "transformed", "due": "kept", "done": "kept"}
    answer = browser.submit(page.find(id="clone-wizard").find("form", method="post"))
    assert answer.status_code == 303, answer.text[:800]
    _, done = browser.get(answer.headers["Location"])
    return done


def wait_for_job(browser, href):
    """(state, page) of the job at `href` once it has ended."""
    def ended():
        _, page = browser.get(href)
        state = page.find(attrs={"data-state": True})["data-state"]
        return None if state in ("queued", "running") else (state, page)

    return wait_until(ended, tries=300, pause=0.2, what=f"the job at {href} to end")


def start_clone(instances):
    clone = instances("clone")
    clone.cli("user", "add", "reader", "--role", "viewer", "--password", "reader-password")
    return clone, clone.cli("token", "add", "reader").stdout.strip()


def test_clone_a_tikisync_master_through_the_wizard_and_the_cli(instances):
    master = instances("master")
    with ThreadPoolExecutor(1) as pool:  # the clone starts while the master is seeded
        starting = pool.submit(start_clone, instances)
        remote_tracker, token = seed_master(master)
        clone, clone_token = starting.result(timeout=120)
    want = expected_clone(exported(master, remote_tracker, token))
    # Two ways to reach the same master: one per protocol generation and credential.
    url_a = master.url.replace("127.0.0.1", "localhost")
    url_b = master.url
    browser = Browser(clone)
    add_basic_credential(browser, url_a)
    clone.cli("dsn", "add", "master-token", url_b, "--method", "bearer", "--token", token,
              "--allow-http")

    made, done = {}, None
    for generation, url in (("A", url_a), ("B", url_b)):
        before = tracker_ids(clone, clone_token)
        done = clone_through_the_wizard(browser, url, remote_tracker)
        assert done.find(id="clone-protocol")["data-protocol"] == generation
        fields_link = done.find("a", string="Fields of the new tracker")["href"]
        (local,) = tracker_ids(clone, clone_token) - before
        made[f"wizard-{generation}"] = local
        report = clone.cli("clone", url, remote_tracker, as_json=True)
        assert [t["perm"] for t in report["transformed"]] == ["owner", "area"]
        assert report["kept"] == ["title", "amount", "priority", "due", "done"]
        assert report["skipped"] == []
        made[f"cli-{generation}"] = report["tracker"]

        _, fields_page = browser.get(fields_link)
        shown = [tr.find_all("td")[1].get_text(strip=True)
                 for tr in fields_page.find(id="field-list").find("tbody").find_all("tr")]
        assert shown == ["title", "amount", "priority", "owner", "area", "due", "done"]
        _, drift = browser.get(fields_page.find(id="clone-source").find("a")["href"])
        assert "No new fields" in drift.find(id="drift-added").text
        assert "None." in drift.find(id="drift-removed").text

    names = {int(t["trackerId"]): t["name"] for t in api(clone, clone_token, "trackers")["data"]}
    for label, local in made.items():
        assert names[local] == "Requests", label
        assert shape(exported(clone, local, clone_token)) == want, label

    # "Reload data now", on the page shown after the (last) wizard clone, loads the items.
    reload = done.find(id="clone-next").find("button", string="Reload data now").find_parent("form")
    answer = browser.submit(reload)
    assert answer.status_code == 303
    state, _ = wait_for_job(browser, answer.headers["Location"])
    assert state == "done"
    items = api(clone, clone_token, f"trackers/{made['wizard-B']}", format="raw")["result"]
    assert sorted((i["fields"]["title"], i["fields"]["owner"], i["fields"]["area"])
                  for i in items) == [("New laptop", "admin", "10"), ("Printer jam", SYNCER, "10")]
