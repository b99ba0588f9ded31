"""The ticket list's statements on a database the dashboard bench loaded, one filter at a time:
`python -m bench.dashboard_plans --database URL [--filter NAME]`.

For each filter of bench/dashboard_bench.py it prints the median time of the counts per status
and of the page (ids, then rows), and the plans of the counts and the page's ids (EXPLAIN QUERY
PLAN / EXPLAIN) on one line each. Load a database with
`python -m bench.dashboard_bench --database sqlite=sqlite:////tmp/x.db --tickets N ...` first.
"""

import argparse
from datetime import timedelta

from werkzeug.datastructures import MultiDict

from app import create_app
from app.clock import utcnow
from app.extensions import db
from app.models import Customer, Ticket, TicketField, User
from app.ticket_list import list_page, parse_filters, status_counts
from app.ticket_list.conditions import filter_conditions
from app.ticket_list.listing import _base, _order
from bench.ticket_list_plans import plan, timed
from bench.world import quiet_logging


def filters_of_the_data() -> dict[str, dict]:
    """The bench's filters, with values that exist in the loaded data."""
    alice = db.session.execute(db.select(User.id).where(User.username == "alice")).scalar()
    customer = db.session.execute(db.select(Customer).order_by(Customer.id.desc()).limit(1)).scalar()
    name, value = db.session.execute(
        db.select(TicketField.name, TicketField.value)
        .where(TicketField.name != "order_number")
        .order_by(TicketField.ticket_id.desc())
        .limit(1)
    ).one()
    today, month_ago = utcnow().date(), (utcnow() - timedelta(days=30)).date()
    return {
        "none": {},
        "type": {"type": "complaint"},
        "type+version": {"type": "return", "version": "1"},
        "status": {"status": "closed"},
        "state=waiting_customer": {"state": "waiting_customer"},
        "state=incident": {"state": "incident"},
        "team": {"team": "support"},
        "assignee": {"assignee_id": str(alice)},
        "sla=breached": {"sla": "breached"},
        "priority": {"priority": "urgent"},
        "type+sla": {"type": "complaint", "sla": "breached"},
        "customer prefix": {"customer": customer.name.split()[0].lower()},
        "customer_id": {"customer_id": str(customer.id)},
        "created 30 days": {"created_from": month_ago.isoformat(), "created_to": today.isoformat()},
        "closed 30 days": {"closed_from": month_ago.isoformat(), "closed_to": today.isoformat()},
        "field": {"field": f"{name}:{value}"},
        "sort=priority": {"sort": "priority"},
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.dashboard_plans", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--database", required=True, help="a SQLAlchemy URL of a loaded bench database")
    parser.add_argument("--filter", action="append", default=[], help="only these filters (by name)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    app = create_app({"SQLALCHEMY_DATABASE_URI": args.database})
    quiet_logging()
    with app.app_context():
        now = utcnow()
        for name, query in filters_of_the_data().items():
            if args.filter and name not in args.filter:
                continue
            filters = parse_filters(MultiDict(query))
            counts_ms = timed(lambda f=filters: status_counts(db.true(), f, now), args.repeat)
            page_ms = timed(lambda f=filters: list_page(db.true(), f, now), args.repeat)
            ids = _base(True, filters, now, [Ticket.id]).order_by(*_order(filters)).limit(50)
            status = db.func.coalesce(Ticket.status, "")
            counts = (
                db.select(status, db.func.count()).where(*filter_conditions(filters, now)).group_by(status)
            )
            print(f"{name:24} counts {counts_ms:8.1f} ms  page {page_ms:8.1f} ms", flush=True)
            print(f"{'':24} page plan: {plan(ids)}")
            print(f"{'':24} counts plan: {plan(counts)}", flush=True)


if __name__ == "__main__":
    main()
