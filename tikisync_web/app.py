"""The standalone host: a bare Flask app with TikiSync mounted at "/"."""
import os
import secrets
from collections.abc import Mapping
from typing import Any

from flask import Flask

from .extension import TikiSync

ENV_KEYS = ("TIKISYNC_DATABASE", "TIKISYNC_SECRET_KEY", "TIKISYNC_FRAME_ANCESTORS",
            "TIKISYNC_JOB_RUNNER", "TIKISYNC_CA_BUNDLE", "TIKISYNC_HTTP_TIMEOUT",
            "TIKISYNC_HTTP_BACKOFF", "TIKISYNC_JOB_STALE_SECONDS", "TIKISYNC_POLL_SECONDS",
            "TIKISYNC_SCHEDULER", "TIKISYNC_SCHEDULER_TICK", "TIKISYNC_SCHEDULE_RETRY",
            "TIKISYNC_SCHEDULE_RETRY_MAX", "TIKISYNC_SCHEDULE_PAUSE_AFTER", "TIKISYNC_PUBLIC_URL",
            "TIKISYNC_SMTP_HOST", "TIKISYNC_SMTP_PORT", "TIKISYNC_SMTP_USER",
            "TIKISYNC_SMTP_PASSWORD", "TIKISYNC_SMTP_FROM", "TIKISYNC_SMTP_STARTTLS",
            "TIKISYNC_SMTP_SSL", "TIKISYNC_SMTP_TIMEOUT", "TIKISYNC_WEBHOOK_URL")


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
    """Build the standalone app; `config` overrides the environment."""
    app = Flask(__name__, static_folder=None, instance_path=os.environ.get(
        "TIKISYNC_INSTANCE", os.path.join(os.getcwd(), "instance")))
    app.config.from_prefixed_env()  # FLASK_TIKISYNC_DATABASE=... and friends
    for key in ENV_KEYS:
        if os.environ.get(key):
            app.config[key] = os.environ[key]
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", 12 * 3600)  # a form left open all day still posts
    app.config.update(config or {})
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = app.config.get("TIKISYNC_SECRET_KEY") or _instance_secret(
            app.instance_path)
    if app.config.get("TIKISYNC_BEHIND_PROXY"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1, x_prefix=1)
    TikiSync(app)
    return app
