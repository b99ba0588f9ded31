"""The ticket list's counts per status from the pre-aggregated ticket_count: they equal the rows the
list itself returns, for every filter it answers, as tickets are added, changed and rolled back;
the CSV export reads every sort in batches; /metrics counts follow the same table."""

import csv
import io

import pytest
from prometheus_client.parser import text_string_to_metric_families

from app.extensions import db
from app.models import Ticket, TicketCount
from tests.dashboard.ticket_rows import (  # noqa: F401
    assert_counts_match_the_rows,
    list_api_fixture,
    people_fixture,
    tickets_fixture,
)
from tests.factories import login

FILTERS = [
    {},
    {"type": "complaint"},
    {"status": "closed"},
    {"priority": "urgent"},
    {"type": "return", "priority": "urgent"},
    {"team": "returns"},
    {"team": "credit"},
    {"sla": "breached"},
    {"type": "complaint", "sla": "breached"},
    {"team": "returns", "sla": "breached"},
    {"team": "credit", "status": "in_progress", "sla": "breached"},
    {"type": "complaint", "version": 1},
    {"type": "complaint", "version": 2},
    {"type": "return", "version": 2, "status": "closed"},
    {"type": "general", "version": 1, "sla": "breached"},
]


def make_mix(tickets) -> list:
    made = []
    for i in range(24):
        made.append(
            tickets(
                ticket_type=("complaint", "return", "general")[i % 3],
                version=1 + i % 2,
                status=("new", "in_progress", "closed", "cancelled")[i % 4],
                priority=("normal", "urgent")[i % 2],
                team=("returns", "credit", None)[i % 3 - 1 if i % 5 else 2],
                sla=("breached", "on_track", None, "met")[i % 4],
            )
        )
    for i, ticket in enumerate(made):  # SLA teams: some the same as their task's team, some not
        ticket.sla_team_key = ("returns", "credit", None, "support")[i % 4]
    made[1].sla_met = False  # a miss recorded on a clock that stopped
    db.session.commit()
    return made


def test_counts_equal_the_list_as_tickets_come_and_change(api, tickets, clock):
    made = make_mix(tickets)
    assert_counts_match_the_rows(api, FILTERS)

    made[0].status, made[0].priority = "closed", "urgent"
    made[2].sla_team_key = "credit"
    made[3].sla_met = False
    made[4].type = "return"
    db.session.commit()
    made[5].status = "in_progress"
    db.session.flush()  # two flushes in one transaction
    made[5].status = "closed"
    db.session.commit()
    assert_counts_match_the_rows(api, FILTERS)


def test_a_rolled_back_change_is_not_counted(api, tickets, clock):
    made = make_mix(tickets)
    before = api()["counts"]
    made[0].status = "rejected"
    db.session.flush()
    db.session.rollback()
    made[1].status = "rejected"
    db.session.rollback()
    assert api()["counts"] == before
    assert_counts_match_the_rows(api, FILTERS)


@pytest.mark.parametrize("sort", ["-created", "created", "id", "-id", "subject", "-priority", "closed"])
def test_csv_reads_every_sort_in_batches(client, people, tickets, clock, monkeypatch, api, sort):
    monkeypatch.setattr("app.ticket_list.listing.CSV_BATCH", 3)
    make_mix(tickets)
    login(client, "max", "pw")
    rows = list(
        csv.DictReader(io.StringIO(client.get(f"/dashboard/tickets.csv?sort={sort}").get_data(as_text=True)))
    )
    assert [int(r["id"]) for r in rows] == [t["id"] for t in api(sort=sort)["tickets"]]


def test_metrics_count_from_the_same_table(client, tickets, clock):
    make_mix(tickets)
    samples = {
        (s.name, s.labels.get("type")): s.value
        for family in text_string_to_metric_families(client.get("/metrics").get_data(as_text=True))
        for s in family.samples
    }
    for ticket_type in ("complaint", "return", "general"):
        of_type = db.session.execute(db.select(Ticket).where(Ticket.type == ticket_type)).scalars().all()
        assert samples[("ticketflow_tickets_opened_total", ticket_type)] == len(of_type)
        assert samples[("ticketflow_tickets_cancelled_total", ticket_type)] == sum(
            t.status == "cancelled" for t in of_type
        )
        assert samples[("ticketflow_tickets_closed_total", ticket_type)] == sum(
            t.status == "closed" for t in of_type
        )


def test_stats_rebuild_counts_the_tickets_again(api, tickets, clock, runner):
    make_mix(tickets)
    before = api()["counts"]
    db.session.execute(TicketCount.__table__.delete())  # as after a bulk import that bypassed the ORM
    db.session.commit()
    assert api()["counts"] == {}
    result = runner.invoke(args=["stats", "rebuild"])
    assert result.exit_code == 0, result.output
    assert "ticket_count rows" in result.output
    assert api()["counts"] == before
    assert_counts_match_the_rows(api, FILTERS)
