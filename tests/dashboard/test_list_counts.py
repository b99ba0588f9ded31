"""The counts per status of a business-field filter come from `ticket_field_count`, and of whole
days of creation from `ticket_day_count`: they equal the list's own rows as tickets open through
the engine, change status, roll back, and after a rebuild."""

from collections import Counter
from datetime import UTC, datetime, timedelta

from app.extensions import db
from app.models import TicketDayCount, TicketFieldCount
from tests.dashboard.conftest import COMPLAINT_START, GENERAL_START
from tests.dashboard.ticket_rows import (  # noqa: F401
    assert_counts_match_the_rows,
    list_api_fixture,
    people_fixture,
    tickets_fixture,
)
from tests.factories import token_for

FILTERS = [
    {"field": "severity:high"},
    {"field": "severity:HIGH ", "type": "complaint"},
    {"field": "severity:low"},
    {"field": "category:delivery"},
    {"field": "category:delivery", "status": "closed"},
    {"field": "category:delivery", "type": "complaint"},
    {"order_number": "SO-1"},
    {"order_number": "so-2", "type": "return"},
    {"created_from": "2026-11-20", "created_to": "2026-11-22"},
    {"created_from": "2026-11-21"},
    {"created_to": "2026-11-21", "type": "complaint"},
    {"created_from": "2026-11-20", "created_to": "2026-11-23", "status": "closed"},
    {"created_from": "2026-11-21T12:00:00Z", "created_to": "2026-11-22"},  # within a day: counted live
    {"created_from": "2026-11-20", "priority": "urgent"},  # not a key of the day counts: live
]
DAYS = [datetime(2026, 11, 20, 23, 59, tzinfo=UTC) + timedelta(hours=13 * i) for i in range(6)]


def make_mix(tickets) -> list:
    made = []
    for i in range(12):
        fields = {"severity": ("high", "low")[i % 2], "category": "delivery" if i % 3 else "billing"}
        if i % 4 == 0:
            fields["order_number"] = f"SO-{1 + i % 3}"
        made.append(
            tickets(
                ticket_type=("complaint", "return", "general")[i % 3],
                status=("new", "in_progress", "closed")[i % 3],
                fields=fields,
                created=DAYS[i % 6],
            )
        )
    return made


def test_field_counts_equal_the_list_as_tickets_change(api, tickets, clock):
    made = make_mix(tickets)
    assert_counts_match_the_rows(api, FILTERS)
    assert api(field="severity:high")["counts"] == {"closed": 2, "in_progress": 2, "new": 2}
    assert api(created_from="2026-11-21", created_to="2026-11-21")["total"] == 2  # 12:59 on the 21st

    made[0].status = "closed"
    made[1].type = "general"
    db.session.commit()
    made[2].status = "in_progress"
    db.session.flush()  # two flushes in one transaction: counted from where it began
    made[2].status = "resolved"
    made[3].priority = "urgent"  # not a key of the field counts
    db.session.commit()
    made[4].status = "closed"
    db.session.flush()
    made[4].status = "in_progress"  # back where it began: nothing written
    db.session.commit()
    assert_counts_match_the_rows(api, FILTERS)


def test_a_rolled_back_change_is_not_counted(api, tickets, clock):
    made = make_mix(tickets)
    before = api(field="severity:high")["counts"]
    made[0].status = "rejected"
    db.session.flush()
    db.session.rollback()
    assert api(field="severity:high")["counts"] == before
    assert_counts_match_the_rows(api, FILTERS)


def test_the_engine_counts_the_fields_it_records(desk, client, clock):
    token = token_for(desk.manager)

    def api(**args):
        answer = client.get(
            "/api/v1/tickets", query_string=args, headers={"Authorization": f"Bearer {token}"}
        )
        assert answer.status_code == 200, answer.json
        return answer.json

    general = desk.open()
    complaint = desk.open("complaint")
    assert api(field="category:delivery")["counts"] == {general.status: 1}
    assert api(field=f"severity:{COMPLAINT_START['severity']}")["counts"] == {complaint.status: 1}
    today = general.created_at.date().isoformat()
    assert api(created_from=today, created_to=today)["counts"] == dict(
        sorted(Counter([general.status, complaint.status]).items())
    )
    desk.complete(general, {"answer": "Yes", "information_given": True})
    body = api(field=f"category:{GENERAL_START['category']}")
    assert body["counts"] == {body["tickets"][0]["status"]: 1}
    assert body["tickets"][0]["status"] != "new"
    assert_counts_match_the_rows(api, FILTERS)


def test_stats_rebuild_counts_the_fields_and_days_again(api, tickets, clock, runner):
    make_mix(tickets)
    before = api(field="category:delivery")["counts"]
    days = api(created_from="2026-11-20")["counts"]
    db.session.execute(TicketFieldCount.__table__.delete())  # as after a bulk import
    db.session.execute(TicketDayCount.__table__.delete())
    db.session.commit()
    assert api(field="category:delivery")["counts"] == {}
    assert api(created_from="2026-11-20")["counts"] == {}
    result = runner.invoke(args=["stats", "rebuild"])
    assert result.exit_code == 0, result.output
    assert api(field="category:delivery")["counts"] == before
    assert api(created_from="2026-11-20")["counts"] == days
    assert_counts_match_the_rows(api, FILTERS)
