"""The standalone host: a bare Flask app with TikiSync mounted at "/"."""
import os
import secrets
from collections.abc import Mapping
from typing import Any

from flask import Flask

from . import config as settings
from .browser_policy import FramingSessionInterface
from .extension import TikiSync
from .views.blueprint import not_found_page


def _instance_secret(instance_path: str) -> str:
    """A random key kept in the instance folder, so sessions and secrets survive restarts."""
    path = os.path.join(instance_path, "secret_key")
    if not os.path.exists(path):
        os.makedirs(instance_path, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(48))
    with open(path) as source:
        return source.read().strip()


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the standalone app; `config` overrides the environment, which gives every
    TIKISYNC_* setting (config.SETTINGS), typed."""
    app = Flask(__name__, static_folder=None, instance_path=os.path.abspath(os.environ.get(
        "TIKISYNC_INSTANCE") or os.path.join(os.getcwd(), "instance")))
    app.config.from_prefixed_env()  # FLASK_TIKISYNC_DATABASE=... and friends
    app.config.update(settings.from_environ(os.environ))
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", 12 * 3600)  # a form left open all day still posts
    app.config.update(config or {})
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = app.config.get("TIKISYNC_SECRET_KEY") or _instance_secret(
            app.instance_path)
    if settings.typed("TIKISYNC_BEHIND_PROXY", app.config.get("TIKISYNC_BEHIND_PROXY", False)):
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1, x_prefix=1)
    # The session cookie's attributes follow the request: cross-site frames on https only.
    app.session_interface = FramingSessionInterface()
    TikiSync(app)
    # The host's business (a host of the plugin keeps its own 404 page); here, we are the host.
    app.register_error_handler(404, not_found_page)
    return app
