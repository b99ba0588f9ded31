"""The studio's "Migrate tickets" JSON: a dry run, a batch of the movable tickets, its progress."""

import pytest

from app.worker import drain
from tests.factories import make_user
from tests.migration.diagrams import running_on_v1
from tests.studio.conftest import Studio

BASE = "/studio/api/types/movable/migrations"


@pytest.fixture
def tickets(app, clock, analyst):
    return running_on_v1("aad")


def test_dry_run_then_batch_of_the_movable_then_progress(tickets, analyst):
    dry = analyst.post(f"{BASE}/dry-run", {"source_version": 1, "target_version": 2})
    assert dry.status_code == 200
    body = dry.get_json()
    assert body["movable"] == tickets["a"] and body["blocked"][0]["element_id"] == "triage"
    started = analyst.post(BASE, {"source_version": 1, "target_version": 2, "ticket_ids": body["movable"]})
    assert started.status_code == 202
    batch = started.get_json()
    assert (batch["state"], batch["counts"]["total"]) == ("queued", 2)
    drain()
    done = analyst.get(f"/studio/api/migrations/{batch['id']}").get_json()
    assert (done["state"], done["counts"]["moved"], done["created_by"]) == ("done", 2, "ann")


def test_the_mapping_is_taken_into_account(tickets, analyst):
    body = {"source_version": 1, "target_version": 2, "mapping": {"triage": "sort"}}
    assert analyst.post(f"{BASE}/dry-run", body).get_json()["counts"] == {"movable": 3, "blocked": 0}


@pytest.mark.parametrize(
    "body, field",
    [
        ({"target_version": 2}, "source_version"),
        ({"source_version": 1, "target_version": True}, "target_version"),
        ({"source_version": 1, "target_version": 2, "mapping": [1]}, "mapping"),
        ({"source_version": 1, "target_version": 2, "ticket_ids": "1"}, "ticket_ids"),
    ],
)
def test_bad_input_is_a_422_naming_the_field(tickets, analyst, body, field):
    path = BASE if "ticket_ids" in body else f"{BASE}/dry-run"
    answer = analyst.post(path, body)
    assert answer.status_code == 422
    assert field in answer.get_json()["errors"]


def test_a_second_batch_on_the_same_ticket_is_a_409_naming_it(tickets, analyst):
    body = {"source_version": 1, "target_version": 2, "ticket_ids": tickets["a"]}
    assert analyst.post(BASE, body).status_code == 202
    again = analyst.post(BASE, body)
    assert again.status_code == 409
    assert f"ticket {tickets['a'][0]} is already in open migration batch" in again.get_json()["error"]


def test_agents_and_unknown_types_get_a_404(tickets, app, analyst):
    unknown = "/studio/api/types/nosuch/migrations/dry-run"
    assert analyst.post(unknown, {"source_version": 1, "target_version": 2}).status_code == 404
    make_user("alice", "agent", password="pw")
    agent = Studio(app, "alice")
    assert agent.post(f"{BASE}/dry-run", {"source_version": 1, "target_version": 2}).status_code == 404
    assert agent.get("/studio/api/migrations/1").status_code == 404
