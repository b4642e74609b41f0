"""WSGI entry point: `gunicorn wsgi:app` or `flask --app wsgi run`."""
from tikisync_web import create_app

app = create_app()
