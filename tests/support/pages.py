"""Reading pages in tests: URLs built by the app (never literal paths), HTML parsed."""
from bs4 import BeautifulSoup
from flask import url_for


def url(app, endpoint, **values):
    """url_for outside a request, for tests (never literal paths)."""
    with app.test_request_context():
        return url_for(endpoint, **values)


def soup(response):
    """The response's HTML, parsed."""
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")
