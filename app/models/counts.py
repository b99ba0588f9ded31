"""Pre-aggregated counts of the ticket list's filters that `ticket_count` does not hold."""

from datetime import date

from sqlalchemy import Date, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.ticket import FIELD_NAME_MAX, FIELD_VALUE_MAX


class TicketFieldCount(db.Model):
    """How many tickets of each type and status have a start field `name` equal to `value` (as
    `ticket_field` stores it): kept up to date by `app/stats/list_counts.py` in the transaction
    that creates a ticket or changes its status, so the counts per status of a list filtered on a
    business field read a few rows instead of looking up every match's status."""

    __tablename__ = "ticket_field_count"

    name: Mapped[str] = mapped_column(String(FIELD_NAME_MAX), primary_key=True)
    value: Mapped[str] = mapped_column(String(FIELD_VALUE_MAX), primary_key=True)
    type: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[str] = mapped_column(String(32), primary_key=True)
    n: Mapped[int] = mapped_column(default=0)


class TicketDayCount(db.Model):
    """How many tickets opened on each UTC day have each type and status: kept up to date with
    `ticket_field_count` (app/stats/list_counts.py), so the counts per status of a list filtered on
    whole days of creation read a row per day instead of every ticket of the range."""

    __tablename__ = "ticket_day_count"

    day: Mapped[date] = mapped_column(Date, primary_key=True)  # the UTC day of ticket.created_at
    type: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[str] = mapped_column(String(32), primary_key=True)
    n: Mapped[int] = mapped_column(default=0)
