"""The SLA clock of a ticket: started when it opens, paused while waiting on the customer,
stopped when it closes, shown as on track / at risk / breached / met.

The `clock` fixture starts on Monday 2026-11-23 09:00 UTC; without a policy row a high-priority
ticket (the world's customer is gold) gets 8 business hours to first response and 16 to
resolution on the default calendar (Monday to Friday, 09:00-17:00 UTC).
"""

from datetime import UTC, datetime

import pytest

from app.clock import utcnow
from app.extensions import db
from app.models import BusinessCalendar, SlaPolicy, Team
from app.passwords import hash_password
from app.sla import (
    add_business_days_for_team,
    add_business_time,
    business_seconds_between,
    calendar_for,
    on_status,
    policy_for,
    retarget,
    set_calendar,
    set_policy,
    sla_state,
)
from app.sla.calendar import SlaConfigError
from app.sla.demo import POLICIES, seed_sla_demo
from tests.engine.conftest import RETURN_START, World
from tests.factories import TEAMS, deploy_shipped, login, make_customer, make_team, make_user, token_for

HOUR = 3600
WEEKDAYS_9_TO_5 = {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}


@pytest.fixture
def world(app):
    """The engine tests' world: the shipped workflows, an agent in every team, a gold customer."""
    deploy_shipped()
    return World(agent=make_user("alice", "agent", teams=TEAMS), customer=make_customer())


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def state(world, ticket) -> str:
    return sla_state(world.reload(ticket), utcnow())["state"]


def test_opening_a_ticket_sets_first_response_and_resolution_due_in_business_time(world, clock):
    ticket = world.open("return", RETURN_START)
    assert ticket.priority == "high"
    assert ticket.first_response_due_at == utc(2026, 11, 23, 17)
    assert ticket.sla_due_at == utc(2026, 11, 24, 17)
    assert sla_state(ticket, utcnow()) == {
        "due_at": utc(2026, 11, 24, 17),
        "state": "on_track",
        "first_response_due_at": utc(2026, 11, 23, 17),
    }


def test_a_ticket_opened_on_friday_evening_counts_from_monday_morning(world, clock):
    clock.move_to(utc(2026, 11, 27, 19))
    ticket = world.open("return", RETURN_START)
    assert ticket.first_response_due_at == utc(2026, 11, 30, 17)
    assert ticket.sla_due_at == utc(2026, 12, 1, 17)


def test_the_policy_sets_targets_and_the_team_whose_calendar_counts(world, clock):
    set_calendar("returns", WEEKDAYS_9_TO_5, "Europe/Berlin", {"2026-11-24": "Team day"})
    set_policy("return", "high", 60, 8 * 60, "returns")
    db.session.commit()
    ticket = world.open("return", RETURN_START)  # Monday 09:00 UTC is 10:00 in Berlin
    assert ticket.first_response_due_at == utc(2026, 11, 23, 10)
    # 7 hours on Monday, none on the Tuesday holiday, the last hour on Wednesday 09:00-10:00 Berlin.
    assert ticket.sla_due_at == utc(2026, 11, 25, 9)


def test_a_start_takes_the_row_of_its_priority_among_the_types_policies(world, clock):
    """A start reads its type's policies with the type (one statement): the row of the priority
    the rules chose counts, the other priorities' rows do not, and a change between two starts
    is taken by the second."""
    set_policy("return", "urgent", 15, 60, "returns")
    set_policy("return", "low", 20 * 60, 40 * 60)
    db.session.commit()
    defaults = world.open("return", RETURN_START)  # high: no row of its own, the defaults
    assert (
        defaults.priority,
        defaults.first_response_due_at,
        defaults.sla_due_at,
        defaults.sla_team_key,
    ) == (
        "high",
        utc(2026, 11, 23, 17),
        utc(2026, 11, 24, 17),
        None,
    )
    set_policy("return", "high", 60, 2 * 60)  # no team: the default calendar
    db.session.commit()
    own = world.open("return", RETURN_START)
    assert (own.first_response_due_at, own.sla_due_at, own.sla_team_key) == (
        utc(2026, 11, 23, 10),
        utc(2026, 11, 23, 11),
        None,
    )
    assert policy_for("return", "urgent").team_key == "returns"


def test_waiting_on_the_customer_pauses_the_clock_and_the_reply_moves_the_due_time(world, clock):
    ticket = world.open("return", RETURN_START)
    first_due = ticket.sla_due_at
    clock.move_to(utc(2026, 11, 23, 11))
    world.complete(ticket, "review_request", {"decision": "more_info", "question": "A photo, please?"})
    paused = world.reload(ticket)
    assert (paused.status, paused.sla_due_at) == ("awaiting_customer", None)
    assert sla_state(paused, utcnow())["state"] == "paused"

    clock.move_to(utc(2026, 11, 26, 15))  # Thursday: days later, long past the first due time
    assert state(world, ticket) == "paused"
    world.reply(ticket, "Here it is")
    resumed = world.reload(ticket)
    waited = business_seconds_between(calendar_for(None), utc(2026, 11, 23, 11), utc(2026, 11, 26, 15))
    assert waited == 28 * HOUR
    assert (
        resumed.sla_due_at
        == add_business_time(calendar_for(None), first_due, waited)
        == utc(2026, 11, 30, 13)
    )
    assert resumed.sla_consumed_seconds == 2 * HOUR
    assert state(world, ticket) == "on_track"


def test_missing_data_pauses_a_credit_ticket(world, clock):
    ticket = world.open("credit", {"requested_amount": 500, "purpose": "Stock"})
    world.complete(ticket, "review_credit_data", {"data_complete": False, "missing_fields": "Tax id"})
    assert world.reload(ticket).status == "missing_data"
    assert state(world, ticket) == "paused"


def test_state_moves_from_on_track_to_at_risk_to_breached(world, clock):
    ticket = world.open("return", RETURN_START)  # 16 business hours, due Tuesday 17:00
    clock.move_to(utc(2026, 11, 24, 12, 59))  # 4h01 left: more than a quarter
    assert state(world, ticket) == "on_track"
    clock.move_to(utc(2026, 11, 24, 13, 1))  # less than a quarter left
    assert state(world, ticket) == "at_risk"
    clock.move_to(utc(2026, 11, 24, 17))  # due now: not yet late
    assert state(world, ticket) == "at_risk"
    clock.move_to(utc(2026, 11, 24, 17, 0, 1))
    assert state(world, ticket) == "breached"


def test_a_short_target_is_at_risk_in_its_last_business_hour(world, clock):
    set_policy("return", "high", 30, 2 * 60)
    db.session.commit()
    ticket = world.open("return", RETURN_START)  # due 11:00; a quarter would be 30 minutes
    clock.move_to(utc(2026, 11, 23, 9, 59))
    assert state(world, ticket) == "on_track"
    clock.move_to(utc(2026, 11, 23, 10, 1))
    assert state(world, ticket) == "at_risk"


def test_a_ticket_closed_in_time_has_met_its_sla(world, clock):
    ticket = world.open("return", RETURN_START)
    clock.move_to(utc(2026, 11, 24, 16))
    world.complete(ticket, "review_request", {"decision": "reject", "rejection_reason": "Worn shoes"})
    closed = world.reload(ticket)
    assert (closed.status, closed.sla_met, closed.sla_consumed_seconds) == ("closed", True, 15 * HOUR)
    clock.move_to(utc(2026, 12, 10, 9))  # long after: still met
    assert sla_state(world.reload(ticket), utcnow()) == {
        "due_at": utc(2026, 11, 24, 17),
        "state": "met",
        "first_response_due_at": utc(2026, 11, 23, 17),
    }


def test_a_ticket_closed_late_has_breached_its_sla(world, clock):
    ticket = world.open("return", RETURN_START)
    clock.move_to(utc(2026, 11, 25, 10))
    world.complete(ticket, "review_request", {"decision": "reject", "rejection_reason": "Worn shoes"})
    assert world.reload(ticket).sla_met is False
    assert state(world, ticket) == "breached"


def test_closing_on_the_weekend_after_a_friday_deadline_is_late(world, clock):
    clock.move_to(utc(2026, 11, 26, 9))  # Thursday: due Friday 17:00
    ticket = world.open("return", RETURN_START)
    clock.move_to(utc(2026, 11, 28, 10))  # Saturday: no business time passed since, but it is late
    world.complete(ticket, "review_request", {"decision": "reject", "rejection_reason": "Worn shoes"})
    assert state(world, ticket) == "breached"


def test_a_ticket_paused_after_its_due_time_stays_breached_when_resumed(world, clock):
    ticket = world.open("return", RETURN_START)
    clock.move_to(utc(2026, 11, 25, 10))  # past Tuesday 17:00
    world.complete(ticket, "review_request", {"decision": "more_info", "question": "A photo, please?"})
    world.reply(ticket, "Here it is")
    resumed = world.reload(ticket)
    assert (resumed.sla_met, resumed.sla_due_at) == (False, utc(2026, 11, 25, 10))
    assert state(world, ticket) == "breached"


def test_a_repeated_status_changes_nothing(world, clock):
    ticket = world.open("return", RETURN_START)
    clock.move_to(utc(2026, 11, 23, 11))
    on_status(ticket, "awaiting_customer", utcnow())
    clock.move_to(utc(2026, 11, 23, 15))
    on_status(ticket, "awaiting_customer", utcnow())  # a retried job
    on_status(ticket, "in_progress", utcnow())
    due = ticket.sla_due_at
    clock.move_to(utc(2026, 11, 23, 16))
    on_status(ticket, "in_progress", utcnow())
    assert (ticket.sla_consumed_seconds, ticket.sla_due_at) == (2 * HOUR, due)


def test_raising_the_priority_applies_the_new_target_to_the_time_left(world, clock):
    set_policy("return", "urgent", 60, 4 * 60)
    db.session.commit()
    ticket = world.open("return", RETURN_START)
    clock.move_to(utc(2026, 11, 23, 10))
    ticket.priority = "urgent"
    retarget(ticket, utcnow())
    assert (ticket.sla_target_seconds, ticket.sla_due_at) == (4 * HOUR, utc(2026, 11, 23, 13))


def test_the_api_ticket_carries_its_sla(world, clock, client):
    ticket = world.open("return", RETURN_START)
    token = token_for(make_user("max", "manager"))
    clock.move_to(utc(2026, 11, 24, 14))
    answer = client.get(f"/api/v1/tickets/{ticket.id}", headers={"Authorization": f"Bearer {token}"})
    assert answer.json["sla"] == {"due_at": "2026-11-24T17:00:00+00:00", "state": "at_risk"}


def test_business_days_for_a_team_use_its_calendar_or_the_default(app):
    make_team("returns")
    set_calendar("returns", {**WEEKDAYS_9_TO_5, "sat": [["10:00", "14:00"]]}, "Europe/Berlin")
    friday = utc(2026, 11, 27, 10)  # 11:00 in Berlin
    assert add_business_days_for_team("returns", friday, 1) == utc(2026, 11, 28, 10)  # Saturday 11:00 Berlin
    assert add_business_days_for_team("nobody", friday, 1) == utc(2026, 11, 30, 10)
    assert add_business_days_for_team(None, friday, 2) == utc(2026, 12, 1, 10)


def test_a_calendar_that_cannot_work_is_refused_and_nothing_is_stored(app):
    make_team("returns")
    with pytest.raises(SlaConfigError) as refused:
        set_calendar("returns", {"sun": []}, "Europe/Nowhere")
    assert set(refused.value.errors) == {"hours", "timezone"}
    with pytest.raises(SlaConfigError) as refused:
        set_calendar("ghosts", WEEKDAYS_9_TO_5)
    assert set(refused.value.errors) == {"team_key"}
    assert db.session.execute(db.select(BusinessCalendar)).first() is None


def test_a_policy_with_wrong_values_is_refused_naming_each_field(app):
    with pytest.raises(SlaConfigError) as refused:
        set_policy("return", "whenever", 0, "ten", "ghosts")
    assert set(refused.value.errors) == {
        "priority",
        "first_response_minutes",
        "resolution_minutes",
        "team_key",
    }
    assert db.session.execute(db.select(SlaPolicy)).first() is None


def test_without_a_policy_row_the_defaults_apply_by_priority(app):
    assert [
        (t.first_response_minutes, t.resolution_minutes)
        for t in map(lambda p: policy_for("order", p), ("urgent", "high", "normal", "low"))
    ] == [(240, 480), (480, 960), (480, 2400), (960, 4800)]


def test_demo_seed_gives_each_team_a_calendar_and_each_type_four_targets_once(app):
    for key in ("returns", "credit", "support", "customer-success"):
        make_team(key)
    assert seed_sla_demo() == 4 + 16
    assert seed_sla_demo() == 0
    returns = calendar_for("returns")
    assert returns.timezone == "Europe/Berlin" and returns.holidays[datetime(2026, 12, 25).date()]
    assert {t for (t,) in db.session.execute(db.select(SlaPolicy.ticket_type))} == set(POLICIES)
    assert policy_for("complaint", "urgent").team_key == "support"
    assert db.session.execute(db.select(db.func.count(Team.id))).scalar() == 4


def test_at_risk_counts_business_time_alike_on_the_badge_and_in_every_list_filter(world, clock, client):
    """Opened Wednesday 13:00, a high ticket is due Friday 13:00 (16 business hours) and at risk from
    Thursday 17:00 (4 business hours left): through Thursday night the wall clock shows 19 hours
    left, yet the badge, the ticket list's filter and the inbox's filter all say "at risk"."""
    set_policy("return", "high", 16 * 60, 16 * 60, "returns")  # no first response due meanwhile
    db.session.commit()
    clock.move_to(utc(2026, 11, 25, 13))
    ticket = world.open("return", RETURN_START)
    assert (ticket.sla_due_at, ticket.sla_at_risk_at) == (utc(2026, 11, 27, 13), utc(2026, 11, 26, 17))
    token = token_for(make_user("max", "manager"))
    world.agent.password_hash = hash_password("pw")
    db.session.commit()
    login(client, world.agent.username)

    def states() -> tuple:
        listed = {
            state: [
                row["id"]
                for row in client.get(
                    "/api/v1/tickets",
                    query_string={"sla": state},
                    headers={"Authorization": f"Bearer {token}"},
                ).json["tickets"]
            ]
            for state in ("on_track", "at_risk")
        }
        inbox = {
            state: "No tasks here"
            not in client.get("/inbox/", query_string={"view": "mine", "sla": state}).text
            for state in ("on_track", "at_risk")
        }
        return sla_state(world.reload(ticket), utcnow())["state"], listed, inbox

    clock.move_to(utc(2026, 11, 26, 16))
    assert states() == (
        "on_track",
        {"on_track": [ticket.id], "at_risk": []},
        {"on_track": 1, "at_risk": 0},
    )
    clock.move_to(utc(2026, 11, 26, 23))
    assert states() == (
        "at_risk",
        {"on_track": [], "at_risk": [ticket.id]},
        {"on_track": 0, "at_risk": 1},
    )
