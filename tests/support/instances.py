"""Real tikisync-web server processes for two-instance tests, each with its own database.

    master = instances("master")        # started: master.url, master.cli(...), master.login(...)
    clone = instances("clone")

Each instance is `flask --app wsgi run` in a subprocess on a free loopback port with its own
database (a SQLite file, or a fresh PostgreSQL / MariaDB database when TIKISYNC_TEST_DB says
so) and instance folder; the `tikisync` console script runs against the same database.
Servers are stopped after the test, whatever happens.
"""
import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from bs4 import BeautifulSoup

from tests.support import databases
from tests.support.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
ADMIN_PASSWORD = "instance-admin-pw"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Instance:
    def __init__(self, name, folder, db_url, extra_env=None):
        self.name, self.folder, self.db_url = name, folder, db_url
        folder.mkdir(parents=True, exist_ok=True)
        self.env = dict(os.environ)
        for key in [k for k in self.env if k.startswith(("TIKISYNC_", "FLASK_TIKISYNC_"))]:
            if key not in ("TIKISYNC_TEST_DB",):
                del self.env[key]
        self.env.update({
            "TIKISYNC_DATABASE": db_url, "TIKISYNC_SECRET_KEY": f"secret-of-{name}",
            "TIKISYNC_INSTANCE": str(folder / "instance"), "TIKISYNC_JOB_RUNNER": "thread",
            "TIKISYNC_POLL_SECONDS": "0.2", "PYTHONUNBUFFERED": "1",
        })
        # Let the many short CLI processes reuse compiled bytecode.
        self.env.pop("PYTHONDONTWRITEBYTECODE", None)
        self.env.update(extra_env or {})
        self.process = None
        self.port = None
        self.log = folder / "server.log"

    # --- command line ----------------------------------------------------------------------
    def cli(self, *args, check=True, as_json=False, timeout=120, env=None):
        """Run `tikisync ARGS` against this instance's database."""
        command = [str(BIN / "tikisync"), *map(str, args)]
        if as_json and "--json" not in args:
            command.append("--json")
        done = subprocess.run(command, cwd=ROOT, env={**self.env, **(env or {})},
                              capture_output=True, text=True, timeout=timeout)
        if check and done.returncode != 0:
            raise AssertionError(f"{' '.join(command[1:])} failed ({done.returncode}):\n"
                                 f"{done.stderr}\n{done.stdout}")
        if as_json and done.returncode == 0:
            return json.loads(done.stdout)
        return done

    def python(self, script, timeout=120):
        """Run a Python snippet inside this instance's app (one process, for fast seeding);
        whatever it prints as its last line is returned parsed as JSON."""
        program = ("import json\nfrom tikisync_web.app import create_app\n"
                   "from tikisync_web.db import database\napp = create_app()\n"
                   "with app.app_context(), database.connection_context():\n" +
                   "".join("    " + line + "\n" for line in script.strip().splitlines()))
        done = subprocess.run([sys.executable, "-c", program], cwd=ROOT, env=self.env,
                              capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            raise AssertionError(f"python in {self.name} failed:\n{done.stderr[-3000:]}")
        last = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else "null"
        return json.loads(last)

    def setup(self):
        self.cli("init")
        self.cli("user", "add", "admin", "--role", "admin", "--password", ADMIN_PASSWORD)
        return self

    # --- server ----------------------------------------------------------------------------
    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        self.port = free_port()
        with open(self.log, "ab") as out:  # the child keeps its own descriptor
            self.process = subprocess.Popen(
                [sys.executable, "-m", "flask", "--app", "wsgi", "run", "--host", "127.0.0.1",
                 "--port", str(self.port), "--no-reload", "--no-debugger"],
                cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True)
        wait_until(self._answers, tries=300, pause=0.1, what=f"{self.name} to answer",
                   details=self._log_tail)
        return self

    def _answers(self):
        if self.process.poll() is not None:
            raise AssertionError(f"{self.name} exited ({self.process.returncode}):\n"
                                 + self._log_tail())
        try:
            return requests.get(self.url + "/login", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    def _log_tail(self):
        return self.log.read_text()[-3000:]

    def stop(self):
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    # --- the web UI as a browser-less user ---------------------------------------------------
    def login(self, username="admin", password=ADMIN_PASSWORD):
        """A requests.Session signed in to the UI; `.csrf` holds a token for posts."""
        web = requests.Session()
        page = web.get(self.url + "/login", timeout=10)
        form = BeautifulSoup(page.text, "html.parser")
        token = form.find("input", {"name": "csrf_token"})["value"]
        answer = web.post(self.url + "/login", data={"csrf_token": token, "username": username,
                                                     "password": password}, timeout=10,
                          allow_redirects=False)
        assert answer.status_code == 303, answer.text[:500]
        web.csrf = token
        return web


def _factory(folder):
    made, server_dbs = [], []

    def make(name, start=True, extra_env=None):
        if databases.BACKEND == "sqlite":
            db_url = f"sqlite:///{folder / name / 'tikisync.db'}"
        else:
            db_url = databases.create_server_database()
            server_dbs.append(db_url)
        instance = Instance(name, folder / name, db_url, extra_env).setup()
        made.append(instance)
        return instance.start() if start else instance

    def cleanup():
        for instance in made:
            instance.stop()
        for url in server_dbs:
            databases.drop_server_database(url)

    return make, cleanup


@pytest.fixture
def instances(tmp_path):
    """Factory: instances(name) -> a set-up, started Instance; all stopped afterwards."""
    make, cleanup = _factory(tmp_path)
    yield make
    cleanup()


@pytest.fixture(scope="module")
def module_instances(tmp_path_factory):
    """The same, shared by the tests of a module (each test uses its own trackers)."""
    make, cleanup = _factory(tmp_path_factory.mktemp("instances"))
    yield make
    cleanup()
