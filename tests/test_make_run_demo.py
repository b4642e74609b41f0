"""`make run` gives a newcomer a master to clone from: the demo master answers on DEMO_PORT, the
main app's clone wizard offers its credential and lists its trackers with nothing typed, and
stopping `make run` (Ctrl-C) stops both servers. Run on a fresh instance folder and database
(the venv and npm assets are the checkout's: `make install assets` are no-ops here)."""
import os
import re
import signal
import subprocess
from pathlib import Path

import pytest
import requests
from bs4 import BeautifulSoup

from tests.support.instances import free_port
from tests.support.waiting import wait_until

ROOT = Path(__file__).resolve().parents[1]


def answers(port):
    try:
        return requests.get(f"http://127.0.0.1:{port}/login", timeout=1).status_code == 200
    except requests.RequestException:
        return False


@pytest.fixture
def make_run(tmp_path):
    main_port, demo_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TIKISYNC_", "FLASK_"))}
    env.update(TIKISYNC_INSTANCE=str(tmp_path / "main"), PYTHONUNBUFFERED="1")
    log = tmp_path / "make-run.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            ["make", "--no-print-directory", "run", f"PORT={main_port}",
             f"DEMO_PORT={demo_port}", f"DEMO_DIR={tmp_path / 'demo'}"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            # A terminal's Ctrl-C reaches the whole group, with SIGINT not ignored.
            preexec_fn=lambda: (signal.signal(signal.SIGINT, signal.SIG_DFL), os.setsid()))
    try:
        wait_until(lambda: answers(main_port) and answers(demo_port), tries=600, pause=0.2,
                   what="make run's two servers to answer", details=log.read_text)
        yield main_port, demo_port, log
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
    assert not answers(main_port) and not answers(demo_port)  # Ctrl-C stopped both


def test_make_run_serves_a_demo_master_the_wizard_lists(make_run):
    main_port, demo_port, log = make_run
    base = f"http://127.0.0.1:{main_port}"
    password = re.search(r"sign in as admin with password\s+(\S+)", log.read_text()).group(1)
    web = requests.Session()
    form = BeautifulSoup(web.get(base + "/login", timeout=10).text, "html.parser")
    token = form.find("input", {"name": "csrf_token"})["value"]
    signed = web.post(base + "/login", data={"csrf_token": token, "username": "admin",
                                              "password": password}, timeout=10)
    assert signed.ok
    wizard = BeautifulSoup(web.get(base + "/clone", timeout=10).text, "html.parser")
    offered = {o.get_text(strip=True): o["value"] for o in wizard.find_all("option")
               if o.get("value")}
    demo_url = f"http://127.0.0.1:{demo_port}"
    assert offered == {f"demo · {demo_url}": "demo"}  # chosen, not typed
    listing = BeautifulSoup(web.get(base + "/clone/trackers", params={"url": demo_url},
                                    timeout=30).text, "html.parser")
    text = listing.find(id="remote-trackers").get_text(" ", strip=True)
    assert "Equipment" in text and "Help desk" in text
