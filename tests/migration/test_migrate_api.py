"""POST /api/v1/migrations/dry-run and POST /api/v1/tickets/{id}/migrate: analysts and admins only,
4xx naming the field or the element."""

import pytest

from app.extensions import db
from app.models import HistoryEvent, HumanTask
from tests.api.conftest import staff  # noqa: F401  (fixture)
from tests.migration.diagrams import running_on_v1


@pytest.fixture
def tickets(app, clock, staff):  # noqa: F811
    return {path: ids[0] for path, ids in running_on_v1("ad").items()}


DRY = "/api/v1/migrations/dry-run"


def test_dry_run_lists_movable_and_grouped_reasons(tickets, staff):  # noqa: F811
    res = staff["analyst"].post(DRY, {"process_key": "movable", "source_version": 1, "target_version": 2})
    assert res.status_code == 200
    body = res.get_json()
    assert body["movable"] == [tickets["a"]]
    assert body["blocked"][0]["element_id"] == "triage"
    assert body["blocked"][0]["tickets"] == [tickets["d"]]
    res = staff["admin"].post(
        DRY,
        {"process_key": "movable", "source_version": 1, "target_version": 2, "mapping": {"triage": "sort"}},
    )
    assert sorted(res.get_json()["movable"]) == sorted(tickets.values())


@pytest.mark.parametrize("role", ["agent", "manager"])
def test_other_roles_are_refused(tickets, staff, role):  # noqa: F811
    res = staff[role].post(DRY, {"process_key": "movable", "source_version": 1, "target_version": 2})
    assert res.status_code == 403
    res = staff[role].post(f"/api/v1/tickets/{tickets['a']}/migrate", {"target_version": 2})
    assert res.status_code == 403


@pytest.mark.parametrize(
    "body, field",
    [
        ({"source_version": 1, "target_version": 2}, "process_key"),
        ({"process_key": "movable", "target_version": 2}, "source_version"),
        ({"process_key": "movable", "source_version": 1, "target_version": "2"}, "target_version"),
        ({"process_key": "movable", "source_version": 1, "target_version": 2, "mapping": []}, "mapping"),
        (
            {"process_key": "movable", "source_version": 1, "target_version": 2, "mapping": {"a": 1}},
            "mapping.a",
        ),
        ({"process_key": "movable", "source_version": 1, "target_version": 1}, "target_version"),
    ],
)
def test_bad_dry_run_input_names_the_field(tickets, staff, body, field):  # noqa: F811
    res = staff["analyst"].post(DRY, body)
    assert res.status_code == 422
    assert field in res.get_json()["errors"]


def test_unknown_version_is_404_naming_the_field(tickets, staff):  # noqa: F811
    res = staff["analyst"].post(DRY, {"process_key": "movable", "source_version": 1, "target_version": 9})
    assert res.status_code == 404
    assert "target_version" in res.get_json()["error"]


def test_migrate_one_ticket(tickets, staff):  # noqa: F811
    url = f"/api/v1/tickets/{tickets['d']}/migrate"
    res = staff["analyst"].post(url, {"target_version": 2})
    assert res.status_code == 409
    assert "'triage' (READY)" in res.get_json()["error"]
    res = staff["analyst"].post(url, {"target_version": 2, "mapping": {"triage": "sort"}})
    assert res.status_code == 200
    assert res.get_json() == {"ticket_id": tickets["d"], "from_version": 1, "to_version": 2}
    name = db.session.execute(db.select(HumanTask.name).where(HumanTask.ticket_id == tickets["d"])).scalar()
    assert name == "sort"
    row = db.session.execute(
        db.select(HistoryEvent).where(HistoryEvent.kind == "instance_migrated")
    ).scalar_one()
    assert row.actor == "ana"
    assert staff["analyst"].post("/api/v1/tickets/999999/migrate", {"target_version": 2}).status_code == 404
    assert staff["analyst"].post(url, {}).status_code == 422
