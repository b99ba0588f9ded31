"""The studio's pages: analysts and admins only (everyone else gets a 404), analysts land there,
the editor page names its type and loads the bundle, and only the studio's pages relax the CSP."""

import re

import pytest

from tests.factories import login, make_customer_user, make_user


@pytest.fixture
def people(app):
    make_user("ana", "analyst", password="pw")
    make_user("root", "admin", password="pw")
    make_user("alice", "agent", password="pw")
    make_user("max", "manager", password="pw")
    make_customer_user("jane")


@pytest.mark.parametrize("who", ["ana", "root"])
def test_analysts_and_admins_get_the_studio(app, people, who):
    client = app.test_client()
    login(client, who)
    listing = client.get("/studio/")
    assert listing.status_code == 200
    assert "New ticket type" in listing.get_data(as_text=True)
    editor = client.get("/studio/types/return")
    html = editor.get_data(as_text=True)
    assert editor.status_code == 200
    assert 'data-key="return"' in html and "/static/studio/editor.js" in html
    assert "/static/studio/editor.css" in html
    assert 'href="/studio/"' in client.get("/inbox/").get_data(as_text=True)  # the nav link


@pytest.mark.parametrize("who", [None, "alice", "max", "jane"])
def test_everyone_else_gets_no_studio(app, people, who):
    client = app.test_client()
    if who:
        login(client, who)
    for url in ("/studio/", "/studio/types/return"):
        answer = client.get(url)
        assert answer.status_code in ((302,) if who is None else (404,)), (who, url)
        if who is None:
            assert "/login" in answer.headers["Location"]


def test_an_analyst_lands_in_the_studio(app, people):
    client = app.test_client()
    assert login(client, "ana").headers["Location"] == "/"
    assert client.get("/").headers["Location"] == "/studio/"


@pytest.mark.parametrize("key", ["1abc", "a b", "x" * 200, "<script>", "a/b"])
def test_a_key_that_is_no_process_id_is_no_page(app, people, key):
    client = app.test_client()
    login(client, "ana")
    assert client.get(f"/studio/types/{key}").status_code == 404


def test_only_the_studio_allows_inline_style_attributes(app, people):
    client = app.test_client()
    login(client, "ana")
    studio = client.get("/studio/types/return").headers["Content-Security-Policy"]
    assert "style-src-attr 'self' 'unsafe-inline'" in studio
    assert (
        "script-src 'self';" in studio
        and "style-src 'self';" in client.get("/studio/").headers["Content-Security-Policy"]
    )
    assert "unsafe-inline" not in client.get("/inbox/").headers["Content-Security-Policy"]


def test_the_editor_allows_style_elements_only_with_its_answers_nonce(app, people):
    client = app.test_client()
    login(client, "ana")
    answer = client.get("/studio/types/return")
    nonce = re.search(r'<meta name="csp-nonce" content="([^"]+)">', answer.get_data(as_text=True)).group(1)
    assert f"style-src 'self' 'nonce-{nonce}';" in answer.headers["Content-Security-Policy"]
    again = client.get("/studio/types/return").headers["Content-Security-Policy"]
    assert f"'nonce-{nonce}'" not in again and "'nonce-" in again
