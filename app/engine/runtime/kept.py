"""What a command loads stays in the session until the command ends, so it is read once.

SQLAlchemy's identity map holds objects weakly: a row the command loaded and let go of (the
team's members after the assignee was chosen, the ticket after `save`) is gone from it, and the
next `session.get` of the same row sends another SELECT. While a command runs (`runner.run_command`
calls `begin` and `end`), every object the session loads or adds is kept here, so a second look
at it is a dictionary lookup. Outside a command nothing is kept: a page or an export that reads
thousands of rows lets them go as before.
"""

from sqlalchemy import event
from sqlalchemy.orm import Session

_KEPT = "ticketflow_kept"  # session.info: the objects the running command loaded or added


def begin(session) -> None:
    """Start keeping what the session loads (a command starts)."""
    session.info[_KEPT] = []


def end(session) -> None:
    """Let go of what the command loaded (it committed or rolled back)."""
    session.info.pop(_KEPT, None)


@event.listens_for(Session, "loaded_as_persistent")
@event.listens_for(Session, "transient_to_pending")
def _keep(session, instance) -> None:
    kept = session.info.get(_KEPT)
    if kept is not None:
        kept.append(instance)
