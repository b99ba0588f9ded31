"""POST /api/v1/migrations and GET /api/v1/migrations/{id}: bulk batches the worker runs in chunks,
resumable, one open batch per ticket; POST /api/v1/tickets/{id}/migrate/rollback."""

from datetime import timedelta

import pytest

from app.clock import utcnow
from app.engine import run_migration_chunk
from app.extensions import db
from app.models import HistoryEvent, MigrationBatch, MigrationBatchItem
from app.worker import drain
from tests.api.conftest import staff  # noqa: F401  (fixture)
from tests.migration.diagrams import running_on_v1

BATCHES = "/api/v1/migrations"
BODY = {"process_key": "movable", "source_version": 1, "target_version": 2}


@pytest.fixture
def tickets(app, clock, staff):  # noqa: F811
    return running_on_v1("aabbcd")


def test_batch_moves_the_movable_and_lists_why_the_others_failed(tickets, staff):  # noqa: F811
    res = staff["analyst"].post(BATCHES, BODY)
    assert res.status_code == 202, res.get_json()
    batch = res.get_json()
    assert res.headers["Location"].endswith(f"/api/v1/migrations/{batch['id']}")
    assert batch["state"] == "queued"
    assert batch["counts"] == {"total": 6, "moved": 0, "failed": 0, "skipped": 0, "pending": 6}
    drain()
    done = staff["analyst"].get(f"{BATCHES}/{batch['id']}").get_json()
    assert done["state"] == "done"
    assert done["counts"] == {"total": 6, "moved": 4, "failed": 2, "skipped": 0, "pending": 0}
    failed = {f["ticket_id"]: f["reason"] for f in done["failures"]}
    assert set(failed) == {tickets["c"][0], tickets["d"][0]}
    assert "'prep' (COMPLETED)" in failed[tickets["c"][0]]
    assert "'triage' (READY)" in failed[tickets["d"][0]]
    moved = db.session.execute(
        db.select(HistoryEvent.ticket_id).where(HistoryEvent.kind == "instance_migrated")
    ).scalars()
    assert sorted(moved) == sorted(tickets["a"] + tickets["b"])


def test_batch_of_picked_tickets_counts_those_no_longer_there_as_skipped(tickets, staff):  # noqa: F811
    staff["analyst"].post(f"/api/v1/tickets/{tickets['a'][1]}/migrate", {"target_version": 2})
    res = staff["analyst"].post(BATCHES, {**BODY, "ticket_ids": tickets["a"]})
    assert res.status_code == 202
    drain()
    done = staff["analyst"].get(f"{BATCHES}/{res.get_json()['id']}").get_json()
    assert done["counts"] == {"total": 2, "moved": 1, "failed": 0, "skipped": 1, "pending": 0}


def test_a_ticket_in_an_open_batch_is_refused_by_a_second_one_naming_it(tickets, staff):  # noqa: F811
    assert staff["analyst"].post(BATCHES, {**BODY, "ticket_ids": tickets["a"]}).status_code == 202
    res = staff["admin"].post(BATCHES, {**BODY, "ticket_ids": [tickets["b"][0], tickets["a"][1]]})
    assert res.status_code == 409
    assert f"ticket {tickets['a'][1]} is already in open migration batch" in res.get_json()["error"]
    drain()  # the first batch is done: its tickets are free again
    res = staff["admin"].post(BATCHES, {**BODY, "ticket_ids": [tickets["b"][0]]})
    assert res.status_code == 202


def test_the_database_refuses_a_second_claim_on_a_ticket(tickets, staff):  # noqa: F811
    batch = staff["analyst"].post(BATCHES, {**BODY, "ticket_ids": tickets["a"][:1]}).get_json()
    db.session.add(MigrationBatchItem(batch_id=batch["id"], ticket_id=tickets["a"][0], claim=tickets["a"][0]))
    with pytest.raises(Exception, match="(?i)unique"):
        db.session.commit()
    db.session.rollback()


def test_a_batch_resumes_after_a_crash_and_done_items_stay_done(tickets, staff, clock):  # noqa: F811
    batch = staff["analyst"].post(BATCHES, BODY).get_json()
    assert run_migration_chunk(size=2) == 2
    part = staff["analyst"].get(f"{BATCHES}/{batch['id']}").get_json()
    assert part["state"] == "running"
    assert part["counts"]["moved"] == 2 and part["counts"]["pending"] == 4
    # a worker dies holding the lease: nobody touches the batch until the lease lapses
    row = db.session.get(MigrationBatch, batch["id"])
    row.lease_until = utcnow() + timedelta(seconds=60)
    db.session.commit()
    assert drain() == 0
    clock.shift(timedelta(seconds=61))
    drain()
    done = staff["analyst"].get(f"{BATCHES}/{batch['id']}").get_json()
    assert done["counts"] == {"total": 6, "moved": 4, "failed": 2, "skipped": 0, "pending": 0}
    moves = db.session.execute(
        db.select(db.func.count()).select_from(HistoryEvent).where(HistoryEvent.kind == "instance_migrated")
    ).scalar()
    assert moves == 4


def test_batch_size_is_bounded(tickets, staff, app):  # noqa: F811
    app.config["MIGRATION_BATCH_MAX"] = 3
    res = staff["analyst"].post(BATCHES, BODY)
    assert res.status_code == 422
    assert "at most 3" in res.get_json()["error"]


@pytest.mark.parametrize(
    "body, field",
    [
        ({**BODY, "ticket_ids": []}, "ticket_ids"),
        ({**BODY, "ticket_ids": ["1"]}, "ticket_ids"),
        ({**BODY, "ticket_ids": [999999]}, "ticket_ids"),
        ({**BODY, "filter": {"colour": "red"}}, "filter.colour"),
        ({**BODY, "filter": {"status": "no-such"}}, "ticket_ids"),
        ({**BODY, "target_version": 1}, "target_version"),
    ],
)
def test_bad_batch_input_is_a_422_naming_the_field(tickets, staff, body, field):  # noqa: F811
    res = staff["analyst"].post(BATCHES, body)
    assert res.status_code == 422, res.get_json()
    assert field in res.get_json()["errors"]


def test_unknown_batch_is_a_404_and_other_roles_are_refused(tickets, staff):  # noqa: F811
    assert staff["analyst"].get(f"{BATCHES}/999").status_code == 404
    assert staff["manager"].post(BATCHES, BODY).status_code == 403
    assert staff["agent"].get(f"{BATCHES}/1").status_code == 403


def test_rollback_route_moves_back_and_refuses_with_the_reason(tickets, staff, clock):  # noqa: F811
    first, second = tickets["a"]
    rollback = f"/api/v1/tickets/{first}/migrate/rollback"
    res = staff["analyst"].post(rollback, {})
    assert res.status_code == 409
    assert "no migration to roll back" in res.get_json()["error"]
    staff["analyst"].post(f"/api/v1/tickets/{first}/migrate", {"target_version": 2})
    res = staff["analyst"].post(rollback, {})
    assert res.status_code == 200
    assert res.get_json() == {"ticket_id": first, "from_version": 2, "to_version": 1}
    assert staff["manager"].post(f"/api/v1/tickets/{second}/migrate/rollback", {}).status_code == 403
