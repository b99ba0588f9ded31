"""Demo SLA configuration for `flask seed`: a calendar per demo team and targets for the four ticket types."""

from app.extensions import db
from app.models import BusinessCalendar, SlaPolicy, Team
from app.sla.store import set_calendar, set_policy

WEEKDAYS_9_TO_5 = {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
# Public holidays in Berlin, 2026 and 2027.
BERLIN_HOLIDAYS = {
    "2026-01-01": "Neujahr",
    "2026-03-08": "Internationaler Frauentag",
    "2026-04-03": "Karfreitag",
    "2026-04-06": "Ostermontag",
    "2026-05-01": "Tag der Arbeit",
    "2026-05-14": "Christi Himmelfahrt",
    "2026-05-25": "Pfingstmontag",
    "2026-10-03": "Tag der Deutschen Einheit",
    "2026-12-25": "1. Weihnachtstag",
    "2026-12-26": "2. Weihnachtstag",
    "2027-01-01": "Neujahr",
    "2027-03-08": "Internationaler Frauentag",
    "2027-03-26": "Karfreitag",
    "2027-03-29": "Ostermontag",
    "2027-05-01": "Tag der Arbeit",
    "2027-05-06": "Christi Himmelfahrt",
    "2027-05-17": "Pfingstmontag",
    "2027-10-03": "Tag der Deutschen Einheit",
    "2027-12-25": "1. Weihnachtstag",
    "2027-12-26": "2. Weihnachtstag",
}
CALENDARS = {  # team key -> (hours, time zone)
    "returns": ({**WEEKDAYS_9_TO_5, "sat": [["10:00", "14:00"]]}, "Europe/Berlin"),
    "credit": ({day: [["08:00", "16:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}, "Europe/Berlin"),
    "support": (
        {
            **{day: [["08:00", "12:30"], ["13:00", "20:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
            "sat": [["10:00", "14:00"]],
        },
        "Europe/Berlin",
    ),
    "customer-success": (WEEKDAYS_9_TO_5, "Europe/Berlin"),
}
HOUR, DAY = 60, 8 * 60  # business minutes; a business day is 8 business hours
POLICIES = {  # ticket type -> (team whose calendar counts, {priority: (first response, resolution)})
    "return": (
        "returns",
        {
            "urgent": (2 * HOUR, 1 * DAY),
            "high": (4 * HOUR, 2 * DAY),
            "normal": (1 * DAY, 3 * DAY),
            "low": (2 * DAY, 5 * DAY),
        },
    ),
    "credit": (
        "credit",
        {
            "urgent": (4 * HOUR, 2 * DAY),
            "high": (1 * DAY, 3 * DAY),
            "normal": (1 * DAY, 5 * DAY),
            "low": (2 * DAY, 10 * DAY),
        },
    ),
    "general": (
        "support",
        {
            "urgent": (1 * HOUR, 4 * HOUR),
            "high": (2 * HOUR, 1 * DAY),
            "normal": (4 * HOUR, 2 * DAY),
            "low": (1 * DAY, 5 * DAY),
        },
    ),
    "complaint": (
        "support",
        {
            "urgent": (1 * HOUR, 1 * DAY),
            "high": (2 * HOUR, 2 * DAY),
            "normal": (4 * HOUR, 3 * DAY),
            "low": (1 * DAY, 5 * DAY),
        },
    ),
}


def seed_sla_demo() -> int:
    """Add the demo calendars (for teams that exist) and targets that are missing; returns rows added."""
    added = 0
    for team_key, (hours, zone) in CALENDARS.items():
        team = db.session.execute(db.select(Team.id).where(Team.key == team_key)).scalar()
        present = db.session.execute(
            db.select(BusinessCalendar.id).where(BusinessCalendar.team_key == team_key)
        ).scalar()
        if team is not None and present is None:
            set_calendar(team_key, hours, zone, BERLIN_HOLIDAYS)
            added += 1
    for ticket_type, (team_key, targets) in POLICIES.items():
        for priority, (first_response, resolution) in targets.items():
            present = db.session.execute(
                db.select(SlaPolicy.id).where(
                    SlaPolicy.ticket_type == ticket_type, SlaPolicy.priority == priority
                )
            ).scalar()
            if present is None:
                set_policy(ticket_type, priority, first_response, resolution, team_key)
                added += 1
    return added
