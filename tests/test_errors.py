"""One set of error handlers (app/errors.py): styled pages for people, JSON for the API and for
clients that ask for JSON, and never a Werkzeug default page."""

import io
import logging

import lxml.html
import pytest
from flask import abort, url_for
from werkzeug.routing import IntegerConverter

from app.engine import Conflict, NotFound
from tests.factories import login, make_customer_user, make_user

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
JSON = {"Accept": "application/json"}
STATUSES = (400, 403, 404, 405, 409, 413, 422, 429, 500)


@pytest.fixture
def failing(app):
    """Routes that fail with a given status, on a page path and under /api/."""

    def fail(status: int):
        if status == 500:
            raise RuntimeError("a bug")
        abort(status)

    app.add_url_rule("/failing/<int:status>", "failing_page", fail, methods=["GET", "POST"])
    app.add_url_rule("/api/failing/<int:status>", "failing_api", fail)
    app.add_url_rule("/failing/engine/<kind>", "failing_engine", engine_fails)
    app.add_url_rule("/api/failing/engine/<kind>", "failing_engine_api", engine_fails)
    return app


def engine_fails(kind: str):
    raise {"conflict": Conflict, "missing": NotFound}[kind](f"the engine says {kind}")


def styled(response, status: int) -> lxml.html.HtmlElement:
    """The page of an error answer, checked to be ours: the site's layout, a heading, a way back."""
    assert response.status_code == status
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "Werkzeug" not in html and "<title>" + str(status) not in html
    page = lxml.html.fromstring(html)
    assert page.xpath("//link[@rel='stylesheet']/@href") == ["/static/app.css"]
    assert page.xpath("//header[@class='topbar']//a[@class='brand']")
    section = page.xpath("//section[contains(@class, 'error-page')]")[0]
    assert section.xpath(".//h1")[0].text.strip()
    assert section.xpath(".//a[@href='/']"), "the page offers a way back"
    return page


def heading(page) -> str:
    return page.xpath("//section[contains(@class, 'error-page')]//h1")[0].text.strip()


@pytest.mark.parametrize("status", STATUSES)
def test_a_browser_gets_a_styled_page_for_each_status(client, failing, status):
    page = styled(client.get(f"/failing/{status}", headers=BROWSER), status)
    assert page.xpath("//p[@class='error-status']")[0].text == f"Error {status}"


@pytest.mark.parametrize("status", STATUSES)
def test_the_api_gets_json_for_each_status(client, failing, status):
    response = client.get(f"/api/failing/{status}", headers=BROWSER)
    assert response.status_code == status and response.is_json and set(response.json) == {"error"}


@pytest.mark.parametrize("status", STATUSES)
def test_a_client_asking_for_json_gets_json_on_a_page_route(client, failing, status):
    response = client.get(f"/failing/{status}", headers=JSON)
    assert response.status_code == status and response.is_json and set(response.json) == {"error"}


def test_a_request_without_accept_gets_the_page(client, failing):
    styled(client.get("/failing/404"), 404)


def test_pages_say_what_happened_in_plain_words(client, failing):
    titles = {status: heading(styled(client.get(f"/failing/{status}"), status)) for status in STATUSES}
    assert titles[404] == "Page not found"
    assert titles[409] == "Something changed in the meantime"
    assert titles[429] == "Too many attempts"
    assert titles[500] == "Something went wrong on our side"
    assert len(set(titles.values())) == len(STATUSES)


def test_the_way_back_names_the_signed_in_persons_home(client, failing, app):
    assert styled(client.get("/failing/404"), 404).xpath("//a[@href='/']")[-1].text == "Go to sign-in"
    make_user("alice", "agent", password="pw")
    login(client, "alice")
    assert styled(client.get("/failing/404"), 404).xpath("//a[@href='/']")[-1].text == "Back to the inbox"


def test_an_unknown_page_is_a_styled_404_and_an_unknown_api_route_json(client):
    styled(client.get("/no/such/page", headers=BROWSER), 404)
    answer = client.get("/api/v1/no-such-thing", headers=BROWSER)
    assert answer.status_code == 404 and answer.json["error"].startswith("The requested URL was not found")


def test_a_wrong_method_on_a_page_is_a_styled_405_that_names_the_allowed_methods(client):
    response = client.get("/logout", headers=BROWSER)
    styled(response, 405)
    assert "POST" in response.headers["Allow"]


def test_a_wrong_method_on_the_api_is_json_405(client):
    response = client.delete("/api/v1/tickets")
    assert response.status_code == 405 and response.json == {"error": response.json["error"]}
    assert "GET" in response.headers["Allow"]


def test_a_too_large_upload_is_a_styled_413_that_names_the_limit(client, app):
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    make_customer_user("jane")
    login(client, "jane")
    big = {"message": "photo", "attachment": (io.BytesIO(b"x" * (1024 * 1024 + 1)), "photo.jpg")}
    response = client.post(
        "/portal/tickets/1/messages", data=big, content_type="multipart/form-data", headers=BROWSER
    )
    page = styled(response, 413)
    assert "1 MiB at most" in page.text_content()


def test_a_too_large_body_asking_for_json_gets_the_api_message(client, app):
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    response = client.post("/login", data={"username": "x" * (1024 * 1024 + 1)}, headers=JSON)
    assert response.status_code == 413
    assert response.json == {"error": "the request body is too large (limit 1 MiB)"}


def test_a_stale_form_is_a_styled_400_asking_to_send_it_again(client, app):
    app.config["WTF_CSRF_ENABLED"] = True
    page = styled(client.post("/login", data={"username": "alice", "password": "pw"}, headers=BROWSER), 400)
    assert heading(page) == "Please send the form again"


def test_an_engine_error_keeps_its_status_as_a_page_and_its_message_in_json(client, failing):
    assert heading(styled(client.get("/failing/engine/conflict"), 409)) == "Something changed in the meantime"
    styled(client.get("/failing/engine/missing"), 404)
    answer = client.get("/api/failing/engine/conflict")
    assert answer.status_code == 409 and answer.json == {"error": "the engine says conflict"}
    answer = client.get("/failing/engine/missing", headers=JSON)
    assert answer.status_code == 404 and answer.json == {"error": "the engine says missing"}


def test_an_unexpected_error_is_logged_and_shows_no_trace(client, failing, caplog):
    with caplog.at_level(logging.ERROR):
        response = client.get("/failing/500", headers=BROWSER)
    styled(response, 500)
    assert "a bug" not in response.get_data(as_text=True) and "Traceback" not in response.get_data(
        as_text=True
    )
    assert any("unhandled error on /failing/500" in r.getMessage() and r.exc_info for r in caplog.records)
    assert client.get("/api/failing/500").json == {"error": "internal error; it was logged"}


def test_the_sign_in_rate_limit_answers_429_with_the_sign_in_page(client, app):
    make_user("alice", "agent", password="pw")
    for _ in range(5):
        assert login(client, "alice", "wrong").status_code == 401
    response = login(client, "alice", "pw")
    assert response.status_code == 429
    page = lxml.html.fromstring(response.get_data(as_text=True))
    assert page.xpath("//link[@rel='stylesheet']/@href") == ["/static/app.css"]
    assert "Too many failed sign-ins" in page.text_content()


def _urls(app):
    """(rule, a URL for it with made-up arguments) for every route of the app."""
    with app.test_request_context():
        for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
            args = {
                name: 999999 if isinstance(converter, IntegerConverter) else "x"
                for name, converter in rule._converters.items()
            }
            yield rule, url_for(rule.endpoint, **args)


def werkzeug_page(response) -> bool:
    """Werkzeug's plain error page (its redirect pages are fine: browsers follow them)."""
    return (
        response.status_code >= 400
        and response.mimetype == "text/html"
        and "<html lang=en>\n<title>" in response.get_data(as_text=True)
    )


def test_no_route_answers_with_a_werkzeug_page(client, app):
    """Every route, with made-up arguments, read and written with a method it may not take."""
    make_user("alice", "agent", password="pw")
    login(client, "alice")
    failures = 0
    for _rule, url in _urls(app):
        for method in ("GET", "PUT"):
            response = client.open(url, method=method, headers=BROWSER)
            if response.status_code < 400:
                continue
            failures += 1
            # The studio's JSON, and /readyz (503 on the unmigrated test schema), answer in JSON:
            if url.startswith(("/api/", "/studio/api/")) or (url == "/readyz" and method == "GET"):
                assert response.is_json and "error" in response.json, f"{method} {url}"
            else:
                page = lxml.html.fromstring(response.get_data(as_text=True))
                assert page.xpath("//link[@rel='stylesheet']/@href") == ["/static/app.css"], f"{method} {url}"
    assert failures > 60
