"""The browser can sign in and reach the first page."""

from tests.factories import make_user


def test_agent_signs_in_and_sees_the_inbox(app, new_page):
    make_user("alice", "agent", teams=("returns",), password="pw")
    page = new_page()
    page.goto("/")
    page.fill("#username", "alice")
    page.fill("#password", "pw")
    page.click("button[type=submit]")
    page.wait_for_url("**/inbox/")
    assert page.locator("h1").inner_text() == "Inbox"


def test_wrong_password_shows_a_message(app, new_page):
    make_user("alice", "agent", password="pw")
    page = new_page()
    page.goto("/login")
    page.fill("#username", "alice")
    page.fill("#password", "nope")
    page.click("button[type=submit]")
    assert "wrong password" in page.locator(".flash").inner_text()
