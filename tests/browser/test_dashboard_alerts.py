"""The alerts page in Chromium: a manager sees the banner of a firing alert on the inbox, follows it
to the Alerts page, adds a rule with the form, and dismisses the banner.

With SCREENSHOTS=1 the test saves docs/screenshots/dashboard-alerts.png (a few days of history
made through the engine, three rules, alerts that fired).
"""

import os
from pathlib import Path

from app.dashboard.alerts import evaluate_alerts
from app.demo import seed_history
from app.extensions import db
from app.models import AlertRule
from app.seed import DEMO_PASSWORD, seed_demo
from tests.factories import deploy_shipped

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def screenshot(page, name: str) -> None:
    if os.environ.get("SCREENSHOTS") == "1":
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / name), full_page=True)


def test_manager_follows_the_banner_adds_a_rule_and_dismisses_the_banner(app, new_page):
    seed_demo()
    deploy_shipped()
    seed_history(5, seed=4, per_day=10)
    for metric, threshold, ticket_type in (
        ("sla_attainment", 95, None),
        ("backlog", 3, "general"),
        ("csat", 4.5, None),
    ):
        db.session.add(AlertRule(metric=metric, threshold=threshold, ticket_type=ticket_type, window_days=7))
    db.session.commit()
    fired = evaluate_alerts().fired
    assert fired, "the history should cross at least one threshold"

    page = new_page()
    page.goto("/login")
    page.fill("#username", "max")
    page.fill("#password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.goto("/inbox/")
    banner = page.locator(".alert-banner")
    assert f"{len(fired)} alert" in banner.inner_text()

    banner.get_by_role("link", name="See alerts").click()
    page.wait_for_url("**/dashboard/alerts")
    page.select_option("#metric", "csat")
    page.select_option("#ticket_type", "complaint")
    page.fill("#threshold", "4")
    page.fill("#window_days", "30")
    page.click("#new-rule button[type=submit]")
    page.wait_for_load_state()

    rules = page.locator("table.alert-rules").inner_text()
    assert "CSAT (average rating 1-5) below 4 · complaint · every team · last 30 days" in rules
    assert page.locator("table.alert-events tbody tr").count() == len(fired)
    screenshot(page, "dashboard-alerts.png")
    page.locator(".alert-banner").get_by_role("button", name="Dismiss").click()
    page.wait_for_load_state()
    assert page.locator(".alert-banner").count() == 0
    assert page.locator("table.alert-events").is_visible()
