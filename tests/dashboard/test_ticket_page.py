"""The dashboard's ticket page: the instance on its diagram, the data, and the manager's actions
(cancel with a reason, reassign, retry an incident after editing the data with an exact preview,
move the clock in development), each refused readably (4xx naming the field) with nothing applied."""

import json
import re

import pytest

from app.extensions import db
from app.models import HistoryEvent, HumanTask, Incident, Job, Ticket, Timer, User
from app.worker import drain
from tests.dashboard.conftest import csrf, signed_in
from tests.factories import token_for


def _page(client, refund):
    return client.get(f"/dashboard/tickets/{refund.ticket_id}")


def _states(html: str) -> dict:
    raw = re.search(r'data-states="([^"]*)"', html).group(1)
    return json.loads(raw.replace("&#34;", '"').replace("&quot;", '"').replace("&amp;", "&"))


def _seen_and_data(html: str, incident_id: int) -> tuple[str, dict]:
    form = html.split(f'id="data-{incident_id}"', 1)[0].rsplit("<form", 1)[1]
    seen = re.search(r'name="seen" value="([^"]+)"', form).group(1)
    text = html.split(f'id="data-{incident_id}"', 1)[1].split(">", 1)[1].split("</textarea>", 1)[0]
    return seen, json.loads(text.replace("&#34;", '"').replace("&quot;", '"'))


def _history(ticket_id, kind):
    return (
        db.session.execute(
            db.select(HistoryEvent).where(HistoryEvent.ticket_id == ticket_id, HistoryEvent.kind == kind)
        )
        .scalars()
        .all()
    )


def test_manager_sees_the_incident_on_the_diagram_with_data_timeline_and_legend(client, refund):
    answer = _page(signed_in(client, "max"), refund)
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200
    states = _states(html)
    assert states["issue_refund"]["state"] == "incident"
    assert states["start"]["state"] == "completed"
    assert "data-xml=" in html and "issue_refund" in html
    assert 'data-state="incident"' in html and "Legend" in html
    assert "Process data" in html and "urgent" in html
    assert "Timeline" in html and "failed for good" in html
    assert "refused its input" in html  # the incident's message
    policy = answer.headers["Content-Security-Policy"]
    assert "style-src-attr 'self' 'unsafe-inline'" in policy and "script-src 'self'" in policy


@pytest.mark.parametrize("who", ["alice", "jane", "sam"])
def test_agents_customers_and_managers_of_other_teams_get_404(client, refund, who):
    signed_in(client, who)
    assert _page(client, refund).status_code == 404
    token = csrf(client) if who != "jane" else ""
    answer = client.post(f"/dashboard/incidents/{refund.incident_id}/retry", data={"csrf_token": token})
    assert answer.status_code in (400, 404)
    assert db.session.get(Incident, refund.incident_id).resolved_at is None


def test_unknown_ticket_is_404(client, refund):
    assert signed_in(client, "max").get("/dashboard/tickets/999999").status_code == 404


def test_preview_shows_exactly_what_changes_and_applies_nothing(client, refund):
    html = _page(signed_in(client, "max"), refund).get_data(as_text=True)
    seen, data = _seen_and_data(html, refund.incident_id)
    assert data["amount"] == -5
    edited = {**data, "amount": 12.5, "approved_by": "max"}
    del edited["note"]
    answer = client.post(
        f"/dashboard/incidents/{refund.incident_id}/preview",
        data={"csrf_token": csrf(client), "seen": seen, "data": json.dumps(edited)},
    )
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200
    rows = re.findall(r'<tr class="diff-(\w+)"><td>\w+</td><th scope="row"><code>(\w+)</code>', page)
    assert rows == [("added", "approved_by"), ("removed", "note"), ("changed", "amount")]
    assert "<code>-5</code></td><td><code>12.5</code>" in page
    assert db.session.get(Incident, refund.incident_id).resolved_at is None
    assert _history(refund.ticket_id, "incident_retried") == []


def test_apply_writes_the_data_retries_in_one_step_and_the_ticket_moves_on(client, refund):
    html = _page(signed_in(client, "max"), refund).get_data(as_text=True)
    seen, data = _seen_and_data(html, refund.incident_id)
    answer = client.post(
        f"/dashboard/incidents/{refund.incident_id}/retry",
        data={"csrf_token": csrf(client), "seen": seen, "data": json.dumps({**data, "amount": 12.5})},
    )
    assert answer.status_code == 302 and answer.location.endswith(f"/dashboard/tickets/{refund.ticket_id}")
    [retried] = _history(refund.ticket_id, "incident_retried")
    assert (retried.actor, retried.data["changed"]) == ("max", ["amount"])
    assert db.session.execute(db.select(Job.params)).scalar_one() == {"amount": 12.5}
    assert db.session.get(Incident, refund.incident_id).resolved_at is None  # until the retry succeeds
    drain()
    assert db.session.get(Incident, refund.incident_id).resolved_at is not None
    assert [e.data for e in _history(refund.ticket_id, "incident_resolved")] == [
        {"incident_id": refund.incident_id}
    ]
    assert db.session.execute(db.select(HumanTask.name)).scalar_one() == "confirm_refund"
    states = _states(_page(client, refund).get_data(as_text=True))
    assert (states["issue_refund"]["state"], states["confirm_refund"]["state"]) == ("completed", "active")
    assert states["reminder"]["state"] == "waiting" and states["reminder"]["due_at"]


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("{not json", "data"),
        ("[1, 2]", "data"),
        ('{"amount": NaN}', "data"),
        ("ticket_id=99", "data.ticket_id"),
    ],
)
def test_bad_data_is_a_422_naming_the_field_and_nothing_is_applied(client, refund, text, named):
    html = _page(signed_in(client, "max"), refund).get_data(as_text=True)
    seen, data = _seen_and_data(html, refund.incident_id)
    if text == "ticket_id=99":  # a name the engine sets
        text = json.dumps({**data, "amount": 3, "ticket_id": 99})
    for step in ("preview", "retry"):
        answer = client.post(
            f"/dashboard/incidents/{refund.incident_id}/{step}",
            data={"csrf_token": csrf(client), "seen": seen, "data": text},
        )
        assert answer.status_code == 422, step
        assert f"<code>{named}</code>" in answer.get_data(as_text=True), step
    assert db.session.get(Incident, refund.incident_id).resolved_at is None
    assert db.session.execute(db.select(Job.status)).scalar_one() == "incident"
    assert _history(refund.ticket_id, "incident_retried") == []


def test_a_confirmation_made_on_data_that_changed_since_is_refused(client, refund):
    signed_in(client, "max")
    answer = client.post(
        f"/dashboard/incidents/{refund.incident_id}/retry",
        data={"csrf_token": csrf(client), "seen": "0" * 16, "data": '{"amount": 3}'},
        follow_redirects=True,
    )
    assert "changed since the preview" in answer.get_data(as_text=True)
    assert db.session.get(Incident, refund.incident_id).resolved_at is None


def test_a_team_lead_sees_the_ticket_but_may_not_retry_its_incident(client, refund):
    db.session.execute(db.update(Ticket).where(Ticket.id == refund.ticket_id).values(sla_team_key="support"))
    db.session.commit()
    signed_in(client, "lee")
    page = _page(client, refund).get_data(as_text=True)
    assert "Retry as it is" not in page and "Edit the data and retry" not in page
    for step in ("preview", "retry"):
        answer = client.post(
            f"/dashboard/incidents/{refund.incident_id}/{step}", data={"csrf_token": csrf(client)}
        )
        assert answer.status_code == 403, step
    assert db.session.get(Incident, refund.incident_id).resolved_at is None


def test_a_plain_retry_that_fails_again_leaves_the_incident_open(client, refund):
    signed_in(client, "max")
    answer = client.post(
        f"/dashboard/incidents/{refund.incident_id}/retry", data={"csrf_token": csrf(client)}
    )
    assert answer.status_code == 302
    assert "Being retried" in _page(client, refund).get_data(as_text=True)
    drain()  # the amount is still -5: refused again
    incident = db.session.get(Incident, refund.incident_id)
    assert incident.resolved_at is None and "must be positive" in incident.message
    assert db.session.execute(db.select(db.func.count(Incident.id))).scalar() == 1


def test_cancel_needs_a_reason_and_keeps_it(client, refund):
    signed_in(client, "max")
    url = f"/dashboard/tickets/{refund.ticket_id}/cancel"
    answer = client.post(url, data={"csrf_token": csrf(client), "reason": "   "})
    assert answer.status_code == 422 and "reason" in answer.get_data(as_text=True)
    assert db.session.get(Ticket, refund.ticket_id).status != "cancelled"
    answer = client.post(url, data={"csrf_token": csrf(client), "reason": "duplicate of #12"})
    assert answer.status_code == 302
    assert db.session.get(Ticket, refund.ticket_id).status == "cancelled"
    [cancelled] = _history(refund.ticket_id, "instance_cancelled")
    assert (cancelled.actor, cancelled.data["reason"]) == ("max", "duplicate of #12")
    assert "duplicate of #12" in _page(client, refund).get_data(as_text=True)


def _move_on(client, refund):
    html = _page(client, refund).get_data(as_text=True)
    seen, data = _seen_and_data(html, refund.incident_id)
    client.post(
        f"/dashboard/incidents/{refund.incident_id}/retry",
        data={"csrf_token": csrf(client), "seen": seen, "data": json.dumps({**data, "amount": 1})},
    )
    drain()


def test_reassign_hands_the_open_task_to_a_teammate(client, refund):
    signed_in(client, "max")
    _move_on(client, refund)
    task = db.session.execute(db.select(HumanTask)).scalar_one()
    alice = db.session.execute(db.select(User).where(User.username == "alice")).scalar_one()
    url = f"/dashboard/tickets/{refund.ticket_id}/reassign"
    answer = client.post(url, data={"csrf_token": csrf(client), "task_id": task.id, "assignee": "x"})
    assert answer.status_code == 422 and "assignee" in answer.get_data(as_text=True)
    answer = client.post(url, data={"csrf_token": csrf(client), "task_id": task.id, "assignee": alice.id})
    assert answer.status_code == 302
    assert db.session.get(HumanTask, task.id).assignee_id == alice.id


def test_moving_the_clock_is_for_development_only(app, client, refund):
    signed_in(client, "max")
    _move_on(client, refund)
    url = f"/dashboard/tickets/{refund.ticket_id}/move-timers"
    assert client.post(url, data={"csrf_token": csrf(client), "minutes": "60"}).status_code == 404
    app.config["TICKETFLOW_ENV"] = "development"
    assert "Move the clock" in _page(client, refund).get_data(as_text=True)
    answer = client.post(url, data={"csrf_token": csrf(client), "minutes": "0"})
    assert answer.status_code == 422 and "minutes" in answer.get_data(as_text=True)
    due = db.session.execute(db.select(Timer.due_at)).scalar_one()
    assert client.post(url, data={"csrf_token": csrf(client), "minutes": str(3 * 24 * 60)}).status_code == 302
    assert db.session.execute(db.select(Timer.due_at)).scalar_one() < due
    drain()
    assert [e.element_id for e in _history(refund.ticket_id, "timer_fired")] == ["reminder"]


def test_inbox_ticket_page_links_to_the_dashboard_for_managers_only(app, client, refund):
    signed_in(client, "max")
    _move_on(client, refund)  # a task outside any team: alice sees the ticket too
    link = f'href="/dashboard/tickets/{refund.ticket_id}"'
    assert link in client.get(f"/inbox/tickets/{refund.ticket_id}").get_data(as_text=True)
    agent = signed_in(app.test_client(), "alice")
    page = agent.get(f"/inbox/tickets/{refund.ticket_id}")
    assert page.status_code == 200 and link not in page.get_data(as_text=True)


# The API


def test_api_instance_gives_element_states_and_the_diagram_url(client, refund):
    max_ = db.session.execute(db.select(User).where(User.username == "max")).scalar_one()
    answer = client.get(
        f"/api/v1/tickets/{refund.ticket_id}/instance", headers={"Authorization": f"Bearer {token_for(max_)}"}
    )
    assert answer.status_code == 200
    body = answer.json
    assert body["elements"]["issue_refund"]["state"] == "incident"
    assert body["elements"]["issue_refund"]["incidents"][0]["id"] == refund.incident_id
    assert body["diagram_url"] == "/api/v1/process-definitions/refund/versions/1"
    assert body["instance"]["status"] == "incident"


def test_api_instance_is_404_outside_the_callers_teams(client, refund):
    sam = db.session.execute(db.select(User).where(User.username == "sam")).scalar_one()
    answer = client.get(
        f"/api/v1/tickets/{refund.ticket_id}/instance", headers={"Authorization": f"Bearer {token_for(sam)}"}
    )
    assert answer.status_code == 404


def test_api_cancel_takes_an_optional_reason(client, refund):
    max_ = db.session.execute(db.select(User).where(User.username == "max")).scalar_one()
    headers = {"Authorization": f"Bearer {token_for(max_)}"}
    url = f"/api/v1/tickets/{refund.ticket_id}/cancel"
    too_long = client.post(url, headers=headers, json={"reason": "x" * 501})
    assert too_long.status_code == 422 and "reason" in json.dumps(too_long.json)
    assert client.post(url, headers=headers, json={"reason": "spam"}).status_code == 200
    [cancelled] = _history(refund.ticket_id, "instance_cancelled")
    assert cancelled.data["reason"] == "spam"
