"""Every route that takes an object id refuses the wrong customer and the wrong team with a 404.

The routes come from the app's URL map, so a new route with an id fails
`test_every_route_with_an_object_id_is_covered` until it is added to ROUTES below.
"""

import re

import pytest

from app.engine import start_process
from app.extensions import db
from app.models import HumanTask, Incident, Team
from app.worker import drain
from tests.engine.conftest import RETURN_START
from tests.factories import (
    PATH_VALUES,
    add_photo,
    deploy_shipped,
    login,
    make_customer_user,
    make_user,
    token_for,
)

# endpoint -> which kind of outsider must get a 404 for someone else's object ("team" = an agent
# of another team, "customer" = another customer), or why it is not owner-scoped.
ROUTES = {
    "inbox.task_page": "team",
    "inbox.complete": "team",
    "inbox.claim": "team",
    "inbox.release": "team",
    "inbox.reassign": "team",
    "inbox.ticket_page": "team",
    "inbox.write_to_customer": "team",
    "inbox.add_note": "team",
    "inbox.mark_read": "team",
    "inbox.update_reply": "a canned reply: admins and the leads who keep it only (tests/conversation)",
    "inbox.delete_reply": "a canned reply: admins and the leads who keep it only (tests/conversation)",
    "inbox.attachment": "team",
    "api.get_ticket": "team+customer",
    "api.cancel_ticket": "team",
    "inbox.cancel_ticket": "team",
    "api.claim": "team",
    "api.release": "team",
    "api.complete": "team",
    "api.ticket_instance": "team",
    # The dashboard (managers, admins, team leads; 404 for everyone else): scoped like tickets.
    "dashboard.ticket": "team",
    "dashboard.cancel_ticket": "team",
    "dashboard.reassign": "team",
    "dashboard.move_ticket_timers": "team; development mode only",
    "dashboard.migrate_ticket": "team; managers and admins only",
    "dashboard.rollback_ticket_migration": "team; managers and admins only",
    "dashboard.preview_retry": "team (the incident's ticket); managers and admins retry",
    "dashboard.retry_one": "team (the incident's ticket); managers and admins retry",
    "portal.ticket": "customer",
    "portal.write_message": "customer",
    "portal.reply": "customer",
    "portal.attachment": "customer",
    "inbox.delete_filter": "own: a saved filter is its maker's (404 for everyone else)",
    # Not owned by a team or a customer:
    "admin.edit_user": "admin only",
    "admin.update_team": "admin only",
    "admin.retry_mail": "admin only (tests/mail/test_mail_out.py)",
    "admin.open_mail": "admin only (tests/mail/test_mail_in.py)",
    "admin.discard_mail": "admin only (tests/mail/test_mail_in.py)",
    "admin.edit_webhook": "admin only (tests/webhooks/test_admin_pages.py)",
    "admin.rotate_webhook_secret": "admin only (tests/webhooks/test_admin_pages.py)",
    "admin.delete_webhook": "admin only (tests/webhooks/test_admin_pages.py)",
    "admin.resend_delivery": "admin only (tests/webhooks/test_admin_pages.py)",
    "api.retry": "managers and admins only; scoped by its ticket in tests/web/test_ownership.py",
    "portal.new_ticket": "a ticket type, not an object",
    "studio.editor": "a ticket type, for analysts and admins only (tests/web/test_studio_pages.py)",
    "api.definition_version": "diagrams are shared by all staff, not owned",
    "api.get_form": "forms are shared by staff and customers (start forms), not owned",
    "api.migrate_ticket_api": "analysts and admins only (403 for other roles, tests/migration); they work on "
    "process versions, every ticket of a type",
    "api.rollback_migration_api": "analysts and admins only (403 for other roles, tests/migration)",
    "api.migration_api": "analysts and admins only: a batch is of a process version, not owned",
    "api.definition_statistics": "figures of a shared diagram, not owned: analysts, managers and admins",
    "survey.show": "a signed capability link",
    "survey.answer": "a signed capability link",
    "portal.tracking_link": "a signed capability link (an onboarding e-mail's; tests/web/test_engagement.py)",
    # The studio (analysts and admins only; everyone else gets a 404): ticket types, not objects.
    "studio.draft": "analyst and admin only; a draft is the caller's own (GET, PUT, DELETE)",
    "studio.check_draft": "analyst and admin only; checks the files sent",
    "studio.run_tests": "analyst and admin only; runs the files sent (or the caller's own draft), writes nothing",
    "studio.deploy_draft": "analyst and admin only; deploys the caller's own draft",
    "studio.list_versions": "analyst and admin only",
    "studio.migration_dry_run_studio": "analyst and admin only (tests/studio/test_migrations.py)",
    "studio.start_migration_studio": "analyst and admin only (tests/studio/test_migrations.py)",
    "studio.migration_batch_studio": "analyst and admin only: a batch is of a process version, not owned",
    "studio.get_version": "analyst and admin only",
    "studio.download_version": "analyst and admin only",
    "studio.restore_version": "analyst and admin only; becomes the caller's own draft",
    "studio.retire": "analyst and admin only",
    "studio.unretire": "analyst and admin only",
    "studio.diff": "analyst and admin only",
    "studio.decision": "analyst and admin only; a deployed decision is no one's object",
    "dev.mail_message": "a caught mail's file name; admins in development only (tests/mail/test_dev_mail.py)",
    "static": "public files",
}


def test_every_route_with_an_object_id_is_covered(app):
    with_ids = {rule.endpoint for rule in app.url_map.iter_rules() if rule.arguments}
    assert with_ids - set(ROUTES) == set(), "add the new routes to ROUTES with their owner check"


@pytest.fixture
def objects(app):
    """Jane's return ticket (team returns) with an attachment, seen from outside."""
    deploy_shipped()
    returns_agent = make_user("alice", "agent", teams=("returns",), password="pw")
    make_user("dave", "agent", teams=("support",), password="pw")
    jane, jane_profile = make_customer_user("jane")
    make_customer_user("omar")
    ticket, _ = start_process("return", jane_profile.id, "Broken", RETURN_START, actor="jane")
    drain()
    task = db.session.execute(db.select(HumanTask).where(HumanTask.ticket_id == ticket.id)).scalar_one()
    attachment = add_photo(ticket.id, jane.id)
    db.session.commit()
    return {
        "ticket_id": ticket.id,
        "task_id": task.id,
        "attachment_id": attachment.id,
        "user_id": returns_agent.id,
        "team_id": db.session.execute(db.select(Team.id)).scalars().first(),
        "incident_id": 1,
        **PATH_VALUES,
    }


def _url(app, endpoint, objects):
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    url = rule.rule
    for name in rule.arguments:
        url = re.sub(rf"<(?:[a-z]+:)?{name}>", str(objects[name]), url)
    method = "GET" if "GET" in rule.methods else "POST"
    return method, url


def _call(client, method, url, headers=None):
    if method == "GET":
        return client.get(url, headers=headers or {})
    return client.post(
        url,
        headers=headers or {},
        json={} if url.startswith("/api/") else None,
        data=None if url.startswith("/api/") else {"csrf_token": _csrf(client)},
    )


def _csrf(client):
    page = (
        client.get("/inbox/").get_data(as_text=True)
        if client.get("/inbox/").status_code == 200
        else client.get("/portal/").get_data(as_text=True)
    )
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    return match.group(1) if match else ""


@pytest.mark.parametrize(
    "endpoint", sorted(e for e, owner in ROUTES.items() if "team" in owner and e.startswith("inbox."))
)
def test_inbox_route_is_404_for_an_agent_of_another_team(app, client, objects, endpoint):
    login(client, "dave")
    method, url = _url(app, endpoint, objects)
    assert _call(client, method, url).status_code == 404


@pytest.mark.parametrize(
    "endpoint", sorted(e for e, owner in ROUTES.items() if "team" in owner and e.startswith("api."))
)
def test_api_route_is_404_for_an_agent_of_another_team(app, client, objects, endpoint):
    from app.models import User

    token = token_for(db.session.execute(db.select(User).where(User.username == "dave")).scalar_one())
    method, url = _url(app, endpoint, objects)
    assert _call(client, method, url, {"Authorization": f"Bearer {token}"}).status_code == 404


@pytest.mark.parametrize(
    "endpoint", sorted(e for e, owner in ROUTES.items() if "customer" in owner and e.startswith("portal."))
)
def test_portal_route_is_404_for_another_customer(app, client, objects, endpoint):
    login(client, "omar")
    method, url = _url(app, endpoint, objects)
    assert _call(client, method, url).status_code == 404


@pytest.mark.parametrize(
    "endpoint", sorted(e for e, owner in ROUTES.items() if "customer" in owner and e.startswith("portal."))
)
def test_portal_route_is_404_for_staff(app, client, objects, endpoint):
    login(client, "alice")
    method, url = _url(app, endpoint, objects)
    assert _call(client, method, url).status_code == 404


def test_api_ticket_is_404_for_another_customers_token(app, client, objects):
    from app.models import User

    token = token_for(db.session.execute(db.select(User).where(User.username == "omar")).scalar_one())
    answer = client.get(
        f"/api/v1/tickets/{objects['ticket_id']}", headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 404


def test_the_owners_do_get_through(app, client, objects):
    """The same URLs work for the right people, so the 404s above are about ownership."""
    login(client, "alice")
    assert client.get(f"/inbox/tasks/{objects['task_id']}").status_code == 200
    assert client.get(f"/inbox/tickets/{objects['ticket_id']}").status_code == 200
    other = app.test_client()
    login(other, "jane")
    assert other.get(f"/portal/tickets/{objects['ticket_id']}").status_code == 200
    assert other.get(f"/portal/attachments/{objects['attachment_id']}").status_code == 200


def test_retrying_an_incident_needs_a_manager(app, client, objects):
    from app.models import User

    db.session.add(Incident(instance_id=1, ticket_id=objects["ticket_id"], kind="job", message="x"))
    db.session.commit()
    agent = token_for(db.session.execute(db.select(User).where(User.username == "alice")).scalar_one())
    assert (
        client.post("/api/v1/incidents/1/retry", headers={"Authorization": f"Bearer {agent}"}).status_code
        == 403
    )
