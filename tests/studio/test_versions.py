"""Versions and retirement through HTTP: a studio type is live at once; v2 leaves v1's tickets on v1."""

import io
import zipfile

import pytest

from app.engine import complete_task
from app.extensions import db
from app.models import HumanTask, ProcessDefinition, ProcessInstance, Ticket
from app.worker import drain
from tests.factories import login, make_customer_user, make_user, token_for


def _open(client, token, key="warranty"):
    return client.post(
        "/api/v1/tickets",
        json={"type": key, "subject": "Broken kettle", "data": {"description": "It leaks"}},
        headers={"Authorization": f"Bearer {token}"},
    )


@pytest.fixture
def live(app, analyst):
    """The type `warranty` made from the template and deployed as version 1, with a comment."""
    analyst.post("/studio/api/types", {"key": "warranty", "name": "Warranty claim"})
    assert analyst.post("/studio/api/types/warranty/deploy", {"comment": "first cut"}).status_code == 200
    return analyst


def test_a_deployed_type_is_in_the_portal_and_the_api_at_once(app, live):
    user, _ = make_customer_user("jane")
    portal = app.test_client()
    login(portal, "jane")
    page = portal.get("/portal/new").get_data(as_text=True)
    assert "Warranty claim" in page and 'href="/portal/new/warranty"' in page
    assert "Tell us what you need." in portal.get("/portal/new/warranty").get_data(as_text=True)
    answer = _open(app.test_client(), token_for(user))
    assert answer.status_code == 201, answer.get_json()
    drain()
    ticket_id = answer.get_json()["id"]
    task = db.session.execute(db.select(HumanTask).where(HumanTask.ticket_id == ticket_id)).scalar_one()
    assert task.name == "handle_request"


def test_version_two_leaves_running_tickets_on_version_one(app, live):
    user, _ = make_customer_user("jane")
    agent = make_user("alice", "agent", teams=("support",), password="pw")
    ticket_id = _open(app.test_client(), token_for(user)).get_json()["id"]
    drain()
    files = live.get("/studio/api/types/warranty/draft").get_json()["files"]
    changed = files["warranty.bpmn"].replace('name="Handle the request"', 'name="Handle the claim"')
    assert (
        live.put(
            "/studio/api/types/warranty/draft", {"files": {**files, "warranty.bpmn": changed}}
        ).status_code
        == 200
    )
    assert live.post("/studio/api/types/warranty/deploy", {"comment": "clearer name"}).get_json() == {
        "version": 2,
        "unchanged": False,
    }
    versions = live.get("/studio/api/types/warranty/versions").get_json()["versions"]
    assert [(v["version"], v["comment"], v["running"], v["deployed_by"]) for v in versions] == [
        (2, "clearer name", 0, "ann"),
        (1, "first cut", 1, "ann"),
    ]
    listed = live.get("/studio/api/types").get_json()["types"][0]
    assert listed["latest_version"] == 2 and listed["running"] == {"1": 1}
    instance = db.session.execute(
        db.select(ProcessInstance).where(ProcessInstance.ticket_id == ticket_id)
    ).scalar_one()
    assert db.session.get(ProcessDefinition, instance.definition_id).version == 1
    task = db.session.execute(db.select(HumanTask).where(HumanTask.ticket_id == ticket_id)).scalar_one()
    complete_task(task.id, {}, agent)
    drain()
    assert db.session.get(Ticket, ticket_id).status in ("closed", "resolved", "done")
    assert live.get("/studio/api/types/warranty/versions").get_json()["versions"][1]["running"] == 0


def test_a_version_opens_downloads_and_restores_as_the_draft(live):
    one = live.get("/studio/api/types/warranty/versions/1").get_json()
    assert one["version"] == 1 and set(one["files"]) == {"warranty.bpmn", "warranty_start.json"}
    assert '"description"' in one["files"]["warranty_start.json"]
    assert "x-order" not in one["files"]["warranty_start.json"]
    download = live.get("/studio/types/warranty/versions/1.zip")
    assert download.status_code == 200 and download.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(download.data)) as archive:
        assert sorted(archive.namelist()) == ["warranty.bpmn", "warranty_start.json"]
        assert archive.read("warranty.bpmn").decode() == one["files"]["warranty.bpmn"]
    assert live.get("/studio/api/types/warranty/versions/9").status_code == 404
    assert live.get("/studio/types/warranty/versions/9.zip").status_code == 404
    assert live.post("/studio/api/types/warranty/versions/1/restore").get_json() == {"restored": True}
    draft = live.get("/studio/api/types/warranty/draft").get_json()
    assert draft["saved"] is True and draft["base_version"] == 1 and draft["files"] == one["files"]
    assert live.post("/studio/api/types/warranty/deploy", {}).get_json() == {"version": 1, "unchanged": True}


def test_a_retired_type_opens_no_tickets_and_running_ones_finish(app, live):
    user, _ = make_customer_user("jane")
    token = token_for(user)
    running = _open(app.test_client(), token).get_json()["id"]
    drain()
    assert live.post("/studio/api/types/warranty/retire").get_json() == {"retired": True}
    assert live.get("/studio/api/types").get_json()["types"][0]["retired"] is True
    listed = app.test_client().get(
        "/api/v1/process-definitions", headers={"Authorization": f"Bearer {token}"}
    )
    assert [d["retired"] for d in listed.get_json()["definitions"] if d["key"] == "warranty"] == [True]
    refused = _open(app.test_client(), token)
    assert refused.status_code == 422 and "retired" in refused.get_json()["errors"]["type"]
    portal = app.test_client()
    login(portal, "jane")
    assert "Warranty claim" not in portal.get("/portal/new").get_data(as_text=True)
    assert portal.get("/portal/new/warranty").status_code == 404
    agent = make_user("alice", "agent", teams=("support",), password="pw")
    task = db.session.execute(db.select(HumanTask).where(HumanTask.ticket_id == running)).scalar_one()
    complete_task(task.id, {}, agent)
    drain()
    assert db.session.get(Ticket, running).status in ("closed", "resolved", "done")
    assert live.post("/studio/api/types/warranty/unretire").get_json() == {"retired": False}
    assert _open(app.test_client(), token).status_code == 201


def test_retiring_an_unknown_type_is_404(live):
    assert live.post("/studio/api/types/nothing_here/retire").status_code == 404
    assert live.post("/studio/api/types/bad-key/retire").status_code == 404
