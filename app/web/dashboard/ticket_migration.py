"""`/dashboard/tickets/<id>/migrate` and `…/migrate/rollback`: a manager or admin moves one ticket to
the newest version of its type (after the page's dry run for it), or rolls its last migration back.

Both are engine commands (`migrate_instance`, `rollback_migration`); a refusal is flashed with the
engine's reason (the element and its state, or what the ticket did since) and nothing changes.
"""

from flask import abort, flash, request

from app.engine import EngineError, migrate_instance, rollback_migration
from app.inputs import ascii_int
from app.web.dashboard.access import dashboard_required
from app.web.dashboard.blueprint import bp
from app.web.dashboard.migration_offer import MIGRATORS
from app.web.dashboard.ticket import _back, _said, _user, visible_ticket


def _migrator_only() -> None:
    if _user().role not in MIGRATORS:
        abort(404)


@bp.post("/tickets/<int:ticket_id>/migrate")
@dashboard_required
def migrate_ticket(ticket_id: int, scope):
    """Move the ticket's process to the version in the form (managers and admins)."""
    _migrator_only()
    found = visible_ticket(ticket_id, scope)
    target = ascii_int(request.form.get("target_version", ""), 1_000_000)
    if target is None:
        flash("The ticket was not moved: target_version: choose a version.", "error")
        return _back(found.id)
    try:
        moved = migrate_instance(found.id, target, actor=_user().username)
    except EngineError as exc:
        flash(f"The ticket was not moved: {_said(exc)}", "error")
        return _back(found.id)
    flash(
        f"Ticket #{found.id} moved from version {moved['from_version']} to version {moved['to_version']}.",
        "success",
    )
    return _back(found.id)


@bp.post("/tickets/<int:ticket_id>/migrate/rollback")
@dashboard_required
def rollback_ticket_migration(ticket_id: int, scope):
    """Move a migrated ticket back to its previous version, while it has not moved on since."""
    _migrator_only()
    found = visible_ticket(ticket_id, scope)
    try:
        moved = rollback_migration(found.id, actor=_user().username)
    except EngineError as exc:
        flash(f"The migration was not rolled back: {_said(exc)}", "error")
        return _back(found.id)
    flash(f"Ticket #{found.id} is back on version {moved['to_version']}.", "success")
    return _back(found.id)
