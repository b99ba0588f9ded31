"""The dashboard's ticket page: "Move to version N" with this ticket's dry run, and the roll back,
for managers and admins; a refused move is flashed with the element and changes nothing."""

import pytest

from app.extensions import db
from app.models import ProcessDefinition, ProcessInstance
from tests.dashboard.conftest import csrf, signed_in
from tests.factories import make_user
from tests.migration.diagrams import running_on_v1


@pytest.fixture
def tickets(app, clock):
    make_user("max", "manager", password="pw")
    make_user("lea", "agent", teams=("support",), lead=True, password="pw")
    return {path: ids[0] for path, ids in running_on_v1("ad").items()}


def _version(ticket_id):
    db.session.expire_all()
    return db.session.execute(
        db.select(ProcessDefinition.version)
        .join(ProcessInstance, ProcessInstance.definition_id == ProcessDefinition.id)
        .where(ProcessInstance.ticket_id == ticket_id)
    ).scalar_one()


def _page(client, ticket_id) -> str:
    answer = client.get(f"/dashboard/tickets/{ticket_id}")
    assert answer.status_code == 200
    return answer.get_data(as_text=True)


def test_manager_moves_a_movable_ticket_then_rolls_it_back(client, tickets):
    manager = signed_in(client, "max")
    html = _page(manager, tickets["a"])
    assert "Dry run: can move" in html and "Move to version 2</button>" in html
    token = csrf(manager)
    answer = manager.post(
        f"/dashboard/tickets/{tickets['a']}/migrate",
        data={"csrf_token": token, "target_version": "2"},
        follow_redirects=True,
    )
    html = answer.get_data(as_text=True)
    assert f"Ticket #{tickets['a']} moved from version 1 to version 2." in html
    assert "moved the process from version 1 to version 2" in html  # the timeline
    assert "Roll back to version 1</button>" in html and "Move to version" not in html
    assert _version(tickets["a"]) == 2
    answer = manager.post(
        f"/dashboard/tickets/{tickets['a']}/migrate/rollback",
        data={"csrf_token": token},
        follow_redirects=True,
    )
    html = answer.get_data(as_text=True)
    assert f"Ticket #{tickets['a']} is back on version 1." in html
    assert "rolled the migration back: the process went from version 2 back to version 1" in html
    assert _version(tickets["a"]) == 1


def test_a_blocked_ticket_shows_why_and_a_forced_post_changes_nothing(client, tickets):
    manager = signed_in(client, "max")
    html = _page(manager, tickets["d"])
    assert "Dry run: cannot move" in html
    assert "Element <code>triage</code> (READY) is not in the target" in html
    assert "disabled" in html.split("Move to version 2</button>")[0].rsplit("<button", 1)[1]
    answer = manager.post(
        f"/dashboard/tickets/{tickets['d']}/migrate",
        data={"csrf_token": csrf(manager), "target_version": "2"},
        follow_redirects=True,
    )
    assert "The ticket was not moved: Ticket" in answer.get_data(as_text=True)
    assert "element &#39;triage&#39; (READY)" in answer.get_data(as_text=True)
    assert _version(tickets["d"]) == 1


def test_rollback_without_a_migration_is_refused_with_the_reason(client, tickets):
    manager = signed_in(client, "max")
    answer = manager.post(
        f"/dashboard/tickets/{tickets['a']}/migrate/rollback",
        data={"csrf_token": csrf(manager)},
        follow_redirects=True,
    )
    assert "has no migration to roll back" in answer.get_data(as_text=True)


def test_a_team_lead_cannot_post_the_version_actions(client, tickets):
    lead = signed_in(client, "lea")
    token = csrf(lead)
    for path in ("migrate", "migrate/rollback"):
        answer = lead.post(
            f"/dashboard/tickets/{tickets['a']}/{path}", data={"csrf_token": token, "target_version": "2"}
        )
        assert answer.status_code == 404
    assert _version(tickets["a"]) == 1
