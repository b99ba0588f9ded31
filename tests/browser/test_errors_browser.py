"""Error pages in Chromium: styled like the rest of the site, with a way back.

With SCREENSHOTS=1 the test saves docs/screenshots/error-404.png.
"""

from tests.browser.test_inbox_browser import screenshot
from tests.factories import make_customer_user


def sign_in(page, username: str) -> None:
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", "pw")
    page.click("button[type=submit]")


def test_a_ticket_that_is_not_yours_is_a_styled_404_with_a_way_back(app, new_page):
    make_customer_user("jane")
    page = new_page()
    sign_in(page, "jane")
    page.wait_for_url("**/portal/")
    response = page.goto("/portal/tickets/4711")
    assert response.status == 404
    assert page.title() == "Page not found · Ticketflow"
    card = page.locator("section.error-page")
    assert card.locator("h1").inner_text() == "Page not found"
    assert card.evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(255, 255, 255)"
    assert page.locator("header.topbar").is_visible()
    screenshot(page, "error-404.png")
    card.get_by_role("link", name="Back to my tickets").click()
    page.wait_for_url("**/portal/")


def test_a_wrong_method_in_the_browser_is_a_styled_405(app, new_page):
    page = new_page()
    response = page.goto("/logout")
    assert response.status == 405
    assert page.locator("section.error-page h1").inner_text() == "This address does not work that way"
    page.get_by_role("link", name="Go to sign-in").click()
    page.wait_for_url("**/login")
