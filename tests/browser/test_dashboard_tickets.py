"""In a real Chromium: a manager opens the dashboard's ticket list, filters breached complaints,
and sees exactly those tickets; the count per status and the CSV link follow the filters.

With SCREENSHOTS=1 the test saves docs/screenshots/dashboard-tickets.png.
"""

import os
from datetime import timedelta
from pathlib import Path

from app.engine import start_process
from app.worker import drain
from tests.engine.conftest import RETURN_START
from tests.factories import deploy_shipped, make_customer, make_user

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def screenshot(page, name: str) -> None:
    if os.environ.get("SCREENSHOTS") == "1":
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / name), full_page=True)


def complaint(customer, subject: str, severity: str, order: str):
    data = {"description": subject, "order_number": order, "severity": severity}
    return start_process("complaint", customer.id, subject, data, actor="portal")[0]


def test_manager_filters_breached_complaints(app, new_page, clock):
    deploy_shipped("return", "complaint", "general")
    make_user("max", "manager", password="pw")
    make_user("lena", "agent", teams=("support", "returns"), lead=True)
    make_user("alice", "agent", teams=("support", "returns"))
    jane, omar, lea = (make_customer(name=n) for n in ("Jane Doe", "Omar Haddad", "Lea Martin"))
    late = [
        complaint(jane, "Courier was rude at the door", "high", "SO-1001"),
        complaint(omar, "Refund promised twice, never paid", "critical", "SO-1002"),
    ]
    start_process(
        "return", lea.id, "Jacket not as described", {**RETURN_START, "amount": 129.0}, actor="portal"
    )
    drain()
    clock.shift(timedelta(days=14))  # their SLAs run out
    complaint(lea, "Parcel left in the rain", "medium", "SO-1003")
    start_process("return", jane.id, "Shoes arrived damaged", RETURN_START, actor="portal")
    start_process(
        "general", omar.id, "Do you ship to Norway?", {"question": "Norway?", "category": "delivery"}
    )
    drain()

    page = new_page()
    page.goto("/login")
    page.fill("#username", "max")
    page.fill("#password", "pw")
    page.click("button[type=submit]")
    page.goto("/dashboard/")
    page.get_by_role("navigation", name="Dashboard").get_by_role("link", name="Tickets").click()
    page.wait_for_url("**/dashboard/tickets")
    assert page.locator("tr[data-ticket]").count() == 6

    page.get_by_label("Type").select_option("complaint")
    page.get_by_label("SLA").select_option("breached")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**/dashboard/tickets?*sla=breached*")

    rows = page.locator("tr[data-ticket]")
    assert sorted(int(rows.nth(i).get_attribute("data-ticket")) for i in range(rows.count())) == sorted(
        t.id for t in late
    )
    assert rows.first.get_by_text("Breached").is_visible()
    assert page.locator("a[data-status] .count").all_inner_texts() == ["2"]
    assert "sla=breached" in page.get_by_role("link", name="Export CSV").get_attribute("href")
    screenshot(page, "dashboard-tickets.png")

    rows.first.get_by_role("link").first.click()
    page.wait_for_url(f"**/dashboard/tickets/{late[1].id}")
