"""The dashboard's incident list: failed jobs with error, element, ticket, attempts and next retry;
a selection is retried only after a confirmation that lists exactly which incidents."""

import re

import pytest

from app.extensions import db
from app.models import HistoryEvent, Incident, Job, User
from app.worker import drain
from tests.dashboard.conftest import csrf, open_failed_refund, signed_in
from tests.factories import token_for


@pytest.fixture
def two(refund):
    """Two refund tickets in an incident."""
    return refund, open_failed_refund(-7, "Refund for order SO-78")


def test_the_list_shows_error_element_ticket_attempts_and_next_retry(client, two):
    first, second = two
    page = signed_in(client, "max").get("/dashboard/incidents")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    for refund in (first, second):
        row = html.split(f'id="incident-{refund.incident_id}"', 1)[1].split("</tr>", 1)[0]
        assert f'href="/dashboard/tickets/{refund.ticket_id}"' in row
        assert "<code>issue_refund</code>" in row and "refund.issue" in row
        assert "refused its input" in row and "1 of 1" in row and "parked until retried" in row
    assert html.index(f"incident-{second.incident_id}") < html.index(f"incident-{first.incident_id}")
    assert 'aria-current="page">Incidents' in html


@pytest.mark.parametrize("who", ["alice", "jane"])
def test_agents_and_customers_get_404(client, two, who):
    assert signed_in(client, who).get("/dashboard/incidents").status_code == 404


def test_a_manager_of_another_team_sees_none_and_cannot_retry_them(client, two):
    first, _ = two
    signed_in(client, "sam")
    assert "No open incident" in client.get("/dashboard/incidents").get_data(as_text=True)
    answer = client.post(
        "/dashboard/incidents/retry",
        data={"csrf_token": csrf(client), "incident_id": [first.incident_id]},
        follow_redirects=True,
    )
    assert "not found or already resolved" in answer.get_data(as_text=True)
    assert db.session.get(Incident, first.incident_id).resolved_at is None


def test_the_preview_lists_exactly_the_selected_incidents_and_retries_nothing(client, two):
    first, second = two
    signed_in(client, "max")
    answer = client.post(
        "/dashboard/incidents/preview", data={"csrf_token": csrf(client), "incident_id": [second.incident_id]}
    )
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert "These 1 incident will be retried now" in html
    assert re.findall(r'name="incident_id" value="(\d+)"', html) == [str(second.incident_id)]
    assert f"ticket #{first.ticket_id}" not in html
    assert all(db.session.get(Incident, r.incident_id).resolved_at is None for r in two)


def test_confirming_retries_each_selected_incident(client, two):
    first, second = two
    signed_in(client, "max")
    answer = client.post(
        "/dashboard/incidents/retry",
        data={"csrf_token": csrf(client), "incident_id": [first.incident_id, second.incident_id]},
        follow_redirects=True,
    )
    assert f"Retried 2 incident(s): {first.incident_id}, {second.incident_id}." in answer.get_data(
        as_text=True
    )
    assert db.session.execute(db.select(Job.status)).scalars().all() == ["pending", "pending"]
    retried = (
        db.session.execute(db.select(HistoryEvent.actor).where(HistoryEvent.kind == "incident_retried"))
        .scalars()
        .all()
    )
    assert retried == ["max", "max"]
    # Resolved only when the retry succeeds: these fail again (the amounts are still negative).
    assert all(db.session.get(Incident, r.incident_id).resolved_at is None for r in two)
    drain()
    assert db.session.execute(db.select(db.func.count(Incident.id))).scalar() == 2
    assert all(db.session.get(Incident, r.incident_id).resolved_at is None for r in two)


def test_an_incident_being_retried_is_reported_and_the_others_are_retried(client, two):
    first, second = two
    signed_in(client, "max")
    client.post(
        "/dashboard/incidents/retry", data={"csrf_token": csrf(client), "incident_id": [first.incident_id]}
    )
    answer = client.post(
        "/dashboard/incidents/retry",
        data={"csrf_token": csrf(client), "incident_id": [first.incident_id, second.incident_id]},
        follow_redirects=True,
    )
    html = answer.get_data(as_text=True)
    assert f"Retried 1 incident(s): {second.incident_id}." in html
    assert f"Not retried: {first.incident_id} (incident {first.incident_id} is being retried already" in html


@pytest.mark.parametrize("selected", [[], ["abc"], ["1", "-1"]])
def test_a_bad_selection_is_a_422_naming_incident_id(client, two, selected):
    signed_in(client, "max")
    answer = client.post(
        "/dashboard/incidents/preview", data={"csrf_token": csrf(client), "incident_id": selected}
    )
    assert answer.status_code == 422 and "incident_id" in answer.get_data(as_text=True)
    assert all(db.session.get(Incident, r.incident_id).resolved_at is None for r in two)


def test_a_team_lead_may_list_but_not_retry(client, two):
    signed_in(client, "lee")
    page = client.get("/dashboard/incidents").get_data(as_text=True)
    assert "Retry the selected" not in page
    first, _ = two
    for step in ("preview", "retry"):
        answer = client.post(
            f"/dashboard/incidents/{step}",
            data={"csrf_token": csrf(client), "incident_id": [first.incident_id]},
        )
        assert answer.status_code == 403


def test_the_api_list_carries_attempts_and_the_last_error(client, two):
    first, _ = two
    max_ = db.session.execute(db.select(User).where(User.username == "max")).scalar_one()
    body = client.get("/api/v1/incidents", headers={"Authorization": f"Bearer {token_for(max_)}"}).json
    found = next(i for i in body["incidents"] if i["id"] == first.incident_id)
    assert (found["attempts"], found["max_attempts"], found["next_retry_at"]) == (1, 1, None)
    assert "must be positive" in found["last_error"]
