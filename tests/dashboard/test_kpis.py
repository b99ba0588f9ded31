"""The KPI figures, computed from tickets driven through the real engine on a frozen clock.

Support owns general and complaint tickets (tests/dashboard/conftest.py): 4 business hours to a
first response, 2 business days (16 h) to resolve, on the default calendar (Mon-Fri 09-17 UTC).
The clock starts on Monday 2026-11-23 09:00 UTC.
"""

from datetime import date, timedelta

import pytest

from app.access import scope_of
from app.engine import reassign_task
from app.stats.kpis import DEFINITIONS, PeriodError, kpis, period_of
from tests.dashboard.conftest import ANSWER
from tests.factories import login

MONDAY = date(2026, 11, 23)
WEEK = period_of("7d", today=MONDAY + timedelta(days=6))


def figures(desk, who=None, period=WEEK, **filters):
    return kpis(scope_of(who or desk.manager), period, **filters)


def approx(hours):
    """Medians and p90 come from log buckets: within 10 %."""
    return pytest.approx(hours, rel=0.1)


def test_opened_resolved_and_backlog(desk, week):
    found = figures(desk)
    assert found.totals["opened"] == 3
    assert found.totals["resolved"] == 2
    assert found.opened[:2] == [3, 0]
    assert found.resolved[:2] == [1, 1]
    assert found.backlog_series[:3] == [2, 1, 1]  # end of Monday, Tuesday, Wednesday
    assert found.backlog["open"] == 1
    assert [a["count"] for a in found.backlog["ages"]] == [0, 1, 0, 0, 0]  # the complaint, 2 days old


def test_first_response_and_resolution_in_business_hours(desk, week):
    found = figures(desk)
    assert found.first_response["count"] == 2
    assert found.first_response["median_hours"] == approx(1)  # 1 h and 2 h: the lower median
    assert found.first_response["p90_hours"] == approx(2)
    assert found.first_response["attainment"] == 100.0  # both within 4 business hours
    assert found.resolution["count"] == 2
    assert (
        found.resolution["average_hours"] == 4.5
    )  # 1 h and 8 business hours (Monday 09:00 to Tuesday 09:00)
    assert found.resolution["p90_hours"] == approx(8)


def test_sla_attainment_and_breaches(desk, week, clock):
    found = figures(desk)
    assert (found.sla["met"], found.sla["breached"], found.sla["attainment"]) == (2, 0, 100.0)
    # The complaint, open since Monday 09:00, is past its 16-business-hour target on Wednesday 10:00.
    assert found.sla["open_breached"] == 1
    late = desk.open()  # Wednesday 10:00, due Friday 10:00
    clock.shift(timedelta(days=3))  # Saturday 10:00
    desk.complete(late, ANSWER)
    found = figures(desk)
    assert (found.sla["met"], found.sla["breached"], found.sla["attainment"]) == (2, 1, 66.7)
    assert found.first_response["attainment"] == pytest.approx(66.7)  # its first response was late too


def test_one_touch_escalation_and_reopen_rates(desk, week):
    found = figures(desk)
    assert found.totals["one_touch"] == 1  # quick: one task; slow: two
    assert found.totals["one_touch_rate"] == 50.0
    assert found.totals["escalated"] == 1  # the complaint's first response went overdue
    assert found.totals["escalation_rate"] == pytest.approx(33.3)
    assert found.totals["reopened"] == 0 and found.totals["reopen_rate"] == 0.0


def test_csat_distribution_comments_and_follow_ups(desk, week):
    found = figures(desk)
    assert found.csat["count"] == 2
    assert found.csat["average"] == 3.5
    assert found.csat["distribution"] == [0, 1, 0, 0, 1]
    assert found.csat["satisfied"] == 50.0
    assert [c["comment"] for c in found.csat["comments"]] == ["It took a day.", "Quick and friendly."]
    assert (found.csat["low"], found.csat["follow_ups_open"], found.csat["follow_ups_done"]) == (1, 1, 0)
    _, slow = week
    desk.complete(slow, {"contacted": True, "outcome": "resolved", "notes": "Apologised."}, name="follow_up")
    found = figures(desk)
    assert (found.csat["follow_ups_open"], found.csat["follow_ups_done"]) == (0, 1)


def test_handoffs_and_workload_against_capacity(desk, clock):
    ticket = desk.open()
    task = desk.task(ticket)
    reassign_task(task.id, desk.manager, desk.other)
    found = figures(desk)
    assert found.totals["handoffs"] == 1
    bob = next(w for w in found.workload if w["username"] == "bob")
    assert (bob["open"], bob["capacity"], bob["load"]) == (1, 4, 25.0)


def test_filters_by_type_and_team_and_scope(desk, week):
    assert figures(desk, ticket_type="complaint").totals["opened"] == 1
    assert figures(desk, ticket_type="general").totals["opened"] == 2
    assert figures(desk, team="support").totals["opened"] == 3
    assert figures(desk, team="returns").totals["opened"] == 0
    assert figures(desk, who=desk.lead).totals["opened"] == 3  # lena leads support
    assert figures(desk, who=desk.lead).backlog["open"] == 1


def test_open_breaches_by_type_team_and_scope(desk, week):
    # The complaint (support) is past its target; the two general tickets are resolved.
    assert figures(desk, team="support").sla["open_breached"] == 1
    assert figures(desk, ticket_type="complaint", team="support").sla["open_breached"] == 1
    assert figures(desk, ticket_type="complaint").sla["open_breached"] == 1
    assert figures(desk, ticket_type="general", team="support").sla["open_breached"] == 0
    assert figures(desk, ticket_type="complaint", team="returns").sla["open_breached"] == 0
    assert figures(desk, who=desk.lead).sla["open_breached"] == 1
    assert figures(desk, who=desk.lead, ticket_type="general").sla["open_breached"] == 0


def test_periods():
    today = date(2026, 11, 29)
    assert period_of("today", today=today).days == [today]
    assert len(period_of("30d", today=today).days) == 30
    assert period_of("custom", date(2026, 11, 1), date(2026, 11, 3), today).end == date(2026, 11, 3)
    for args, field in (
        (("week",), "period"),
        (("custom",), "from"),
        (("custom", date(2026, 11, 3), date(2026, 11, 1)), "to"),
        (("custom", date(2025, 1, 1), date(2026, 11, 1)), "to"),
    ):
        with pytest.raises(PeriodError) as raised:
            period_of(*args, today=today)
        assert raised.value.field == field


def test_the_page_shows_figures_and_definitions(desk, week, client):
    login(client, "max")
    page = client.get("/dashboard/?period=custom&from=2026-11-23&to=2026-11-29")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'hx-trigger="every 30s"' in html and "/dashboard/kpis?" in html
    assert 'data-kpi="opened"' in html and "data-chart=" in html
    for text in DEFINITIONS.values():
        assert text.split(".")[0].replace("'", "&#39;") in html
    policy = dict(part.strip().split(" ", 1) for part in page.headers["Content-Security-Policy"].split(";"))
    assert "'unsafe-inline'" in policy["style-src-attr"]  # Chart.js sizes its canvases
    fragment = client.get("/dashboard/kpis?period=custom&from=2026-11-23&to=2026-11-29&type=general")
    assert fragment.status_code == 200
    assert '<strong class="kpi-value">2</strong>' in fragment.get_data(as_text=True)


@pytest.mark.parametrize(
    "query, field",
    [
        ("period=year", "period"),
        ("period=custom", "from"),
        ("period=custom&from=2026-13-01", "from"),
        ("period=custom&from=2026-11-05&to=2026-11-01", "to"),
        ("type=nope", "type"),
        ("team=nope", "team"),
    ],
)
def test_bad_parameters_are_refused_naming_them(desk, client, query, field):
    login(client, "max")
    for url in ("/dashboard/", "/dashboard/kpis"):
        answer = client.get(f"{url}?{query}")
        assert answer.status_code == 422
        assert field in answer.get_data(as_text=True)


def test_only_managers_admins_and_leads(desk, app, client):
    login(client, "alice")  # an agent who leads no team
    assert client.get("/dashboard/").status_code == 404
    assert client.get("/dashboard/kpis").status_code == 404
    client = app.test_client()
    login(client, "lena")  # lena leads support: support's figures, and no other team to choose
    assert client.get("/dashboard/").status_code == 200
    assert client.get("/dashboard/?team=returns").status_code == 422
