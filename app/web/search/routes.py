"""`GET /search?q=`: tickets by number, customer name or e-mail, or order number, in the caller's
scope (app.ticket_list.search); an exact ticket number the caller may see opens that ticket."""

from flask import redirect, render_template, request
from flask_login import current_user

from app.access import roles_required, scope_of, ticket_condition
from app.models import STAFF
from app.ticket_list import status_label
from app.ticket_list.search import MAX_QUERY, search_tickets, ticket_number
from app.web.dashboard.access import may_use_dashboard
from app.web.search.blueprint import bp


def ticket_url(ticket_id: int, dashboard: bool) -> str:
    """Where a ticket opens: the dashboard's ticket page for those who use the dashboard, else the inbox's."""
    return f"/dashboard/tickets/{ticket_id}" if dashboard else f"/inbox/tickets/{ticket_id}"


@bp.get("/search")
@roles_required(*STAFF)
def search():
    """Search tickets; jump straight to the ticket when the number matches exactly."""
    query = (request.args.get("q") or "").strip()[:MAX_QUERY]
    scope = scope_of(current_user)
    dashboard = may_use_dashboard(scope, current_user.role)
    results = search_tickets(ticket_condition(scope, current_user.username), query) if query else []
    number = ticket_number(query) if query else None
    if number is not None and any(r.ticket.id == number for r in results):
        return redirect(ticket_url(number, dashboard))
    return render_template(
        "search/results.html",
        query=query,
        results=results,
        dashboard=dashboard,
        ticket_url=ticket_url,
        status_label=status_label,
    )
