"""The Tiki-compatible web services we serve (Gen A ajax services and Gen B tiki-api.php)."""
from flask import Blueprint

bp = Blueprint("tikisync_master", __name__)


def make_master_blueprint():
    return bp
