"""The KPI page and the heatmap in a real Chromium (three weeks of tickets made on the moved clock): charts drawn, a figure refreshed by htmx after a
new ticket (the browser's clock fast-forwarded past the 30 s poll), the heatmap's colour classes
and legend, and no CSP violation or console error.

With SCREENSHOTS=1 the test saves docs/screenshots/dashboard-overview.png and dashboard-heatmap.png.
"""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.models import Ticket
from tests.browser.test_csp_browser import WATCH
from tests.browser.test_portal_browser import sign_in
from tests.dashboard.conftest import make_desk
from tests.dashboard.test_aggregates import mixed_run

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture
def desk(app):
    return make_desk()


def _watched(new_page):
    page = new_page()
    page.add_init_script(WATCH)
    errors = []
    page.on(
        "console",
        lambda msg: (
            errors.append((msg.text, msg.location.get("url", "")))
            if msg.type == "error" and not msg.location.get("url", "").endswith("/favicon.ico")
            else None
        ),
    )
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return page, errors


def test_kpis_chart_refresh_and_heatmap(desk, clock, new_page):
    mixed_run(desk, clock, seed=7, steps=90)  # three weeks of tickets, on the server's moved clock
    db.session.expire_all()
    opened = db.session.execute(db.select(db.func.count(Ticket.id))).scalar()
    page, errors = _watched(new_page)
    page.clock.install()
    sign_in(page, "max")
    page.goto("/dashboard/?period=30d")
    expect(page.locator("canvas.chart[data-drawn]")).to_have_count(4)
    widths = page.eval_on_selector_all("canvas.chart", "cs => cs.map(c => c.width)")
    assert all(w > 0 for w in widths)
    figure = page.locator('[data-kpi="opened"] .kpi-value')
    assert figure.inner_text() == str(opened)
    assert page.locator(".kpi-definitions dt").count() >= 10
    if os.environ.get("SCREENSHOTS") == "1":
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "dashboard-overview.png"), full_page=True)

    desk.open()  # a new ticket: the page shows it after the next poll, without a reload
    page.clock.fast_forward(31_000)
    expect(figure).to_have_text(str(opened + 1))
    expect(page.locator("canvas.chart[data-drawn]")).to_have_count(4)

    page.goto("/dashboard/heatmap?type=complaint&view=frequency")
    page.wait_for_selector("#heatmap[data-ready='1']")
    assert page.locator(".djs-element.heat-5").count() >= 1
    assert page.locator(".heat-badge").count() >= 3
    assert page.locator(".heatmap-legend .swatch").count() == 5
    if os.environ.get("SCREENSHOTS") == "1":
        page.screenshot(path=str(SHOTS / "dashboard-heatmap.png"), full_page=True)
    page.goto("/dashboard/heatmap?type=general&view=duration")
    page.wait_for_selector("#heatmap[data-ready='1']")
    assert page.locator(".djs-element.heat-5").count() >= 1

    assert page.evaluate("window.__violations") == []
    assert errors == []


def test_a_lead_sees_their_team_only(desk, new_page):
    desk.open()
    page, errors = _watched(new_page)
    sign_in(page, "lena")
    page.goto("/dashboard/")
    expect(page.locator("canvas.chart[data-drawn]")).to_have_count(4)
    options = page.eval_on_selector_all("select[name=team] option", "os => os.map(o => o.value)")
    assert options == ["", "support"]
    assert page.locator('[data-kpi="opened"] .kpi-value').inner_text() == "1"
    assert errors == [] and page.evaluate("window.__violations") == []
