"""A tikisync-web installed from its wheel into a fresh virtualenv, outside the checkout, and
server processes run from that install (tests/test_wheel.py).

    built = build_dists(folder)                 # sdist, then the wheel built from the sdist
    venv = Venv.create(folder / "venv", built.wheel, extras="server")
    venv.run("tikisync", "init", cwd=…, env=…)
    server = venv.serve("tikisync_web:create_app()", cwd=…, env=…)   # gunicorn
    server.stop()

Every process gets an environment without our settings, PYTHONPATH or the checkout's venv, and
runs in a folder of its own: nothing can come from the checkout but the files we copy.
"""
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import requests

from tests.support.instances import free_port
from tests.support.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
DROPPED = ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME", "PYTHONDONTWRITEBYTECODE")


def run(command, *, cwd, env=None, timeout=300):
    """Run a command; on failure, an AssertionError with its output."""
    done = subprocess.run([str(c) for c in command], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)
    if done.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, command))} failed ({done.returncode}):\n"
                             f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done.stdout


@dataclass
class Dists:
    sdist: Path
    wheel: Path


def build_dists(out):
    """`python -m build` on the checkout: the sdist, then the wheel from the sdist (as PyPI
    users get them). No isolation: the test extra brings build and setuptools, so no
    download; the build hook fetches htmx with npm if static/ lacks it."""
    run([sys.executable, "-m", "build", "--no-isolation", "--outdir", out, ROOT], cwd=ROOT,
        env=clean_env())
    (sdist,) = Path(out).glob("tikisync_web-*.tar.gz")
    (wheel,) = Path(out).glob("tikisync_web-*.whl")
    return Dists(sdist, wheel)


def clean_env(extra=None, path=None):
    """os.environ without our settings, the checkout's venv on PATH, or PYTHONPATH."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TIKISYNC_", "FLASK_", "PORTAL_")) and k not in DROPPED}
    ours = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join(
        ([str(path)] if path else []) +
        [p for p in env.get("PATH", "").split(os.pathsep) if p and p != ours])
    env.update(extra or {})
    return env


class Venv:
    def __init__(self, folder):
        self.folder = Path(folder)
        self.bin = self.folder / "bin"

    @classmethod
    def create(cls, folder, wheel, extras=""):
        """A new virtualenv holding the wheel (and its dependencies from the package index);
        installed with the checkout's pip aimed at it, which spares a copy of pip in it."""
        venv = cls(folder)
        run([sys.executable, "-m", "venv", "--without-pip", folder], cwd=folder.parent)
        requirement = f"{wheel}[{extras}]" if extras else str(wheel)
        run([sys.executable, "-m", "pip", "--python", venv.bin / "python", "install",
             "--quiet", requirement], cwd=folder.parent, env=clean_env())
        return venv

    def env(self, extra=None):
        return clean_env(extra, path=self.bin)

    def run(self, program, *args, cwd, env=None, timeout=120):
        return run([self.bin / program, *args], cwd=cwd, env=self.env(env), timeout=timeout)

    def serve(self, target, *, cwd, env=None, name="server"):
        """gunicorn (the [server] extra) serving `target` on a free loopback port."""
        return Server(self, target, Path(cwd), self.env(env), name).start()


class Server:
    def __init__(self, venv, target, cwd, env, name):
        self.venv, self.target, self.cwd, self.env, self.name = venv, target, cwd, env, name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = cwd / f"{name}.log"
        self.process = None

    def start(self):
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(
                [str(self.venv.bin / "gunicorn"), "--bind", f"127.0.0.1:{self.port}",
                 "--workers", "1", "--threads", "4", "--timeout", "60", self.target],
                cwd=self.cwd, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True)
        wait_until(self._answers, tries=300, pause=0.1, what=f"{self.name} to answer",
                   details=self.log_tail)
        return self

    def _answers(self):
        if self.process.poll() is not None:
            raise AssertionError(f"{self.name} exited ({self.process.returncode}):\n"
                                 + self.log_tail())
        try:
            requests.get(self.url + "/", timeout=2, allow_redirects=False)
            return True
        except requests.RequestException:
            return False

    def log_tail(self):
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""

    def stop(self):
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
