"""Assignment state: where each team's round robin stands, and who worked on which ticket."""

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.clock import utcnow
from app.extensions import db
from app.models.types import UTCDateTime


class AssignmentCursor(db.Model):
    """One row per team: the member its round robin handed the last task to."""

    __tablename__ = "assignment_cursor"

    team_id: Mapped[int] = mapped_column(ForeignKey("team.id", ondelete="CASCADE"), primary_key=True)
    last_user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    updated_at = mapped_column(UTCDateTime, default=utcnow)


class TicketAgent(db.Model):
    """Who worked on a ticket in a team: the ticket's next task in that team goes back to them."""

    __tablename__ = "ticket_agent"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"), primary_key=True)
    team_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    updated_at = mapped_column(UTCDateTime, default=utcnow)
