"""The inbox list: views, filters, sortable columns and pages; its live counts (an htmx fragment) with
the "new" badge; and each person's saved filters."""

import math
from urllib.parse import parse_qsl, quote, urlencode

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.exc import OperationalError

from app.access import VIEWS, roles_required, scope_of
from app.clock import utcnow
from app.extensions import db
from app.inputs import ascii_int
from app.models import PRIORITIES, STAFF, SavedFilter, User
from app.ticket_list import status_label, statuses_of
from app.ticket_list.statuses import all_statuses
from app.transactions import write_transaction
from app.web.inbox.blueprint import bp
from app.web.inbox.pages import sla_of
from app.web.inbox.queries import (
    PAGE_SIZE,
    SLA_STATES,
    SORTS,
    Filters,
    counts,
    new_counts,
    page_rows,
    ticket_types,
)

MAX_SAVED_FILTERS = 50
# "Last looked" is written at most this often (a write per page view would cost a commit each time).
SEEN_EVERY_SECONDS = 60
FILTER_NAME_MAX = 80


def _user() -> User:
    return current_user._get_current_object()


def _view(requested: str, view_counts: dict) -> str:
    if requested in view_counts:
        return requested
    return "mine" if view_counts.get("mine") or not view_counts.get("team") else "team"


@bp.get("/")
@roles_required(*STAFF)
def index():
    """List the tasks of the signed-in agent and their teams."""
    user = _user()
    scope = scope_of(user)
    filters = Filters.from_args(request.args)
    now = utcnow()
    view_counts = counts(scope, filters, now)
    view = _view(request.args.get("view", ""), view_counts)
    total = view_counts[view]
    pages = max(1, math.ceil(total / PAGE_SIZE))
    page = min(max(ascii_int(request.args.get("page")) or 1, 1), pages)
    rows = page_rows(scope, view, filters, now, page)
    seen = user.inbox_seen_at
    saved = _saved_filters(user.id)
    page_html = render_template(
        "inbox/index.html",
        rows=rows,
        view=view,
        views={v: VIEWS[v] for v in view_counts},
        counts=view_counts,
        fresh={},
        filters=filters,
        page=page,
        pages=pages,
        total=total,
        slas={row.task.id: sla_of(row.ticket, now, row.first_response_at) for row in rows},
        links=_row_links(rows),
        sla_states=SLA_STATES,
        sorts=SORTS,
        priorities=PRIORITIES,
        types=ticket_types(),
        statuses=statuses_of(filters.type) if filters.type else all_statuses(),
        status_label=status_label,
        seen=seen,
        saved=saved,
        query=urlencode({"view": view, **filters.as_args()}),
        now=now,
    )
    if seen is None or (now - seen).total_seconds() >= SEEN_EVERY_SECONDS:
        try:
            with write_transaction():  # the person looked: what arrived until now is no longer new
                db.session.execute(db.update(User).where(User.id == user.id).values(inbox_seen_at=now))
        except OperationalError:  # a busy database: the badge stays a little longer, the page still shows
            db.session.rollback()
    return page_html


@bp.get("/counts")
@roles_required(*STAFF)
def live_counts():
    """The views with their counts and "new" badges: the fragment the inbox page polls (htmx)."""
    user = _user()
    scope = scope_of(user)
    filters = Filters.from_args(request.args)
    view_counts = counts(scope, filters, utcnow())
    return render_template(
        "inbox/_views.html",
        views={v: VIEWS[v] for v in view_counts},
        view=_view(request.args.get("view", ""), view_counts),
        counts=view_counts,
        fresh=new_counts(scope, user.inbox_seen_at),
        filters=filters,
    )


_SLOT = "0task0"


def _row_links(rows) -> dict[str, tuple[str, str]]:
    """Each row's task page and claim action. Built from one `url_for` each and the task's id put in
    its place: three `url_for` a row were a fifth of the page's rendering."""
    page, claim = url_for("inbox.task_page", task_id=_SLOT), url_for("inbox.claim", task_id=_SLOT)
    links = {}
    for row in rows:
        task_id = quote(row.task.id, safe="")
        links[row.task.id] = (page.replace(_SLOT, task_id), claim.replace(_SLOT, task_id))
    return links


def _saved_filters(user_id: int) -> list[SavedFilter]:
    return list(
        db.session.execute(
            db.select(SavedFilter)
            .where(SavedFilter.user_id == user_id)
            .order_by(SavedFilter.name)
            .limit(MAX_SAVED_FILTERS)
        ).scalars()
    )


def _clean_query(raw: str) -> str:
    """The inbox query string to keep: the view and the known filters only, in a canonical order."""
    args = dict(parse_qsl(raw[:1000], keep_blank_values=False))
    view = args.get("view", "")
    kept = {"view": view} if view in VIEWS else {}
    return urlencode({**kept, **Filters.from_args(args).as_args()})


@bp.post("/filters")
@roles_required(*STAFF)
def save_filter():
    """Keep the current filters under a name, in the person's sidebar (the same name replaces them)."""
    user = _user()
    name = " ".join((request.form.get("name") or "").split())
    query = _clean_query(request.form.get("query") or "")
    back = url_for("inbox.index") + ("?" + query if query else "")
    if not name:
        flash("Name the filter before saving it.", "error")
        return redirect(back)
    if len(name) > FILTER_NAME_MAX:
        flash(f"The filter's name is longer than {FILTER_NAME_MAX} characters; shorten it.", "error")
        return redirect(back)
    with write_transaction():
        found = db.session.execute(
            db.select(SavedFilter).where(SavedFilter.user_id == user.id, SavedFilter.name == name)
        ).scalar()
        if found is None:
            kept = db.session.execute(
                db.select(db.func.count()).select_from(SavedFilter).where(SavedFilter.user_id == user.id)
            ).scalar()
            if kept >= MAX_SAVED_FILTERS:
                flash(f"You keep {MAX_SAVED_FILTERS} filters already; delete one first.", "error")
                return redirect(back)
            db.session.add(SavedFilter(user_id=user.id, name=name, query=query))
        else:
            found.query = query
    flash(f"Filter “{name}” saved.", "success")
    return redirect(back)


@bp.post("/filters/<int:filter_id>/delete")
@roles_required(*STAFF)
def delete_filter(filter_id: int):
    """Delete one of the person's saved filters."""
    user = _user()
    with write_transaction():
        found = db.session.get(SavedFilter, filter_id)
        if found is None or found.user_id != user.id:
            abort(404)
        name = found.name
        db.session.delete(found)
    flash(f"Filter “{name}” deleted.", "success")
    return redirect(url_for("inbox.index"))
