from tests.support.pages import soup, url


def test_login_page_then_dashboard(client, auth, app):
    response = client.get(url(app, "tikisync.dashboard"))
    assert response.status_code == 302
    auth.login("admin")
    page = soup(client.get(url(app, "tikisync.dashboard")))
    assert page.find("h1").text == "Trackers"
