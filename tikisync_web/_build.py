"""Build hook (pyproject.toml [tool.setuptools.cmdclass]); setuptools loads this file by path at
build time, and it is left out of the wheel.

templates/ and static/ stay at the top of the checkout, where the app finds them in an editable
install. The wheel carries them inside the package, as tikisync_web/templates and
tikisync_web/static (tikisync_web/resources.py looks there first); the sdist carries them at
its top, as in the checkout. htmx is never committed: when static/ lacks it, it is fetched from
npm at build time (package.json and package-lock.json pin it), as `make assets` does.
"""
import os
import shutil
import subprocess

from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HTMX = os.path.join("static", "tikisync", "htmx.min.js")
SHIPPED = ("templates", "static")
SDIST_EXTRA = ("package.json", "package-lock.json", "LICENSE", "CHANGELOG.md", "wsgi.py")


def ensure_htmx():
    """static/tikisync/htmx.min.js, from npm when missing; a clear failure when it cannot be."""
    target = os.path.join(ROOT, HTMX)
    if os.path.exists(target):
        return
    if not os.path.exists(os.path.join(ROOT, "package-lock.json")):
        raise SystemExit(f"{HTMX} is missing and there is no package-lock.json to fetch it")
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit(f"{HTMX} is missing: install Node's npm (or run `make assets` where "
                         "it is) before building")
    subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=ROOT,
                   check=True)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    shutil.copyfile(os.path.join(ROOT, "node_modules", "htmx.org", "dist", "htmx.min.js"),
                    target)


def _files_under(folder):
    for base, dirs, names in os.walk(os.path.join(ROOT, folder)):
        dirs[:] = sorted(d for d in dirs if d not in ("__pycache__", "instance", ".venv"))
        for name in sorted(names):
            if not name.endswith((".pyc", "~")):
                yield os.path.relpath(os.path.join(base, name), ROOT)


class BuildPy(build_py):
    """Copies templates/ and static/ into the package (not for an editable install, which
    reads them from the checkout)."""

    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        hook = os.path.join(self.build_lib, "tikisync_web", "_build.py")
        if os.path.exists(hook):
            os.remove(hook)  # the sdist needs it; an installed package does not
        ensure_htmx()
        for folder in SHIPPED:
            for path in _files_under(folder):
                target = os.path.join(self.build_lib, "tikisync_web", path)
                self.mkpath(os.path.dirname(target))
                self.copy_file(os.path.join(ROOT, path), target)


class Sdist(sdist):
    """The sdist holds templates/ and static/ (htmx included), the npm pins, the licence, the
    changelog and the examples, so a wheel built from it needs no npm."""

    def make_release_tree(self, base_dir, files):
        ensure_htmx()
        extra = [path for folder in (*SHIPPED, "examples") for path in _files_under(folder)]
        extra += [name for name in SDIST_EXTRA if os.path.exists(os.path.join(ROOT, name))]
        super().make_release_tree(base_dir, sorted(set(files) | set(extra)))
