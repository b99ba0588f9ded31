"""SLA configuration: business calendars per team, their holidays, and targets per ticket type and priority."""

from datetime import date

from sqlalchemy import CheckConstraint, Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.clock import utcnow
from app.extensions import db
from app.models.types import JSONType, UTCDateTime


class BusinessCalendar(db.Model):
    """A team's working hours (wall clock in `timezone`) and holidays; app/sla/calendar.py counts with it."""

    __tablename__ = "business_calendar"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_key: Mapped[str] = mapped_column(ForeignKey("team.key"), unique=True)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")  # IANA name
    hours = mapped_column(
        JSONType, default=dict
    )  # {"mon": [["09:00", "17:00"]], "sat": [["10:00", "14:00"]]}
    updated_at = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    holidays: Mapped[list["BusinessHoliday"]] = relationship(
        back_populates="calendar", cascade="all, delete-orphan", order_by="BusinessHoliday.day"
    )


class BusinessHoliday(db.Model):
    """A local date without working time in one calendar."""

    __tablename__ = "business_holiday"

    id: Mapped[int] = mapped_column(primary_key=True)
    calendar_id: Mapped[int] = mapped_column(ForeignKey("business_calendar.id"))
    day: Mapped[date] = mapped_column(Date)
    name: Mapped[str] = mapped_column(String(200))
    calendar: Mapped[BusinessCalendar] = relationship(back_populates="holidays")

    __table_args__ = (UniqueConstraint("calendar_id", "day", name="uq_business_holiday_calendar_day"),)


class SlaPolicy(db.Model):
    """Targets in business minutes for one ticket type and priority, counted on `team_key`'s calendar."""

    __tablename__ = "sla_policy"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_type: Mapped[str] = mapped_column(String(64))
    priority: Mapped[str] = mapped_column(String(16))
    first_response_minutes: Mapped[int] = mapped_column()
    resolution_minutes: Mapped[int] = mapped_column()
    team_key: Mapped[str | None] = mapped_column(ForeignKey("team.key"))  # None: the default calendar

    __table_args__ = (
        UniqueConstraint("ticket_type", "priority", name="uq_sla_policy_type_priority"),
        CheckConstraint("first_response_minutes > 0 AND resolution_minutes > 0", name="sla_policy_positive"),
    )
