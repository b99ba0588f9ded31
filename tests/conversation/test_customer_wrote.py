"""A customer who writes outside a question (6): the team hears of it; a lately closed ticket reopens."""

from datetime import timedelta

from app.engine import READ_TASK, add_comment, complete_task, deploy
from app.extensions import db
from app.models import DailyStat, HistoryEvent, Ticket, TicketStat
from app.stats.rebuild import rebuild
from tests.dashboard.test_aggregates import snapshot
from tests.factories import ROOT, csrf_of, login


def _write(desk, ticket, body="One more thing: the parcel was wet."):
    add_comment(ticket.id, desk.user, body)
    db.session.expire_all()
    return db.session.get(Ticket, ticket.id)


def _kinds(ticket) -> list[str]:
    return list(
        db.session.execute(
            db.select(HistoryEvent.kind).where(HistoryEvent.ticket_id == ticket.id).order_by(HistoryEvent.id)
        ).scalars()
    )


def test_a_message_mid_process_flags_the_ticket_and_gives_its_team_a_task(desk):
    ticket = desk.open()
    ticket = _write(desk, ticket)
    assert ticket.customer_unread_since is not None and ticket.status == "in_progress"
    [read] = [t for t in desk.tasks(ticket) if t.name == READ_TASK]
    assert (read.title, read.team) == ("Read the customer's message", "support")
    assert "customer_message_flagged" in _kinds(ticket)
    _write(desk, ticket, "And another thing.")
    assert len([t for t in desk.tasks(ticket) if t.name == READ_TASK]) == 1  # one task per ticket


def test_completing_the_task_marks_the_message_read(desk):
    ticket = _write(desk, desk.open())
    [read] = [t for t in desk.tasks(ticket) if t.name == READ_TASK]
    assert complete_task(read.id, {}, desk.agent) == []
    db.session.expire_all()
    ticket = db.session.get(Ticket, ticket.id)
    assert ticket.customer_unread_since is None and ticket.status == "in_progress"
    assert [t.name for t in desk.tasks(ticket)] == ["initial_response"]  # the process's own task is untouched


def test_a_message_on_a_lately_closed_ticket_reopens_it_for_its_team(desk, clock):
    ticket = desk.closed_complaint()
    clock.shift(timedelta(days=3))
    ticket = _write(desk, ticket)
    assert (ticket.status, ticket.resolution, ticket.closed_at) == ("in_progress", None, None)
    [read] = [t for t in desk.tasks(ticket) if t.name == READ_TASK]
    assert read.team == "customer-success"  # the team that worked on it last
    assert "ticket_reopened" in _kinds(ticket)
    complete_task(read.id, {}, desk.agent)
    db.session.expire_all()
    ticket = db.session.get(Ticket, ticket.id)
    assert (ticket.status, ticket.resolution) == ("closed", "satisfactory")  # closed again as it was
    assert ticket.closed_at is not None and ticket.customer_unread_since is None


def test_a_reopen_counts_for_the_dashboards_reopen_rate(app, desk, clock):
    ticket = desk.closed_complaint()
    _write(desk, ticket)
    assert db.session.execute(db.select(db.func.sum(DailyStat.reopened))).scalar() == 1
    assert db.session.get(TicketStat, ticket.id).reopens == 1


def test_an_old_closed_ticket_is_not_reopened_but_its_team_gets_a_task(desk, clock):
    ticket = desk.closed_complaint()
    clock.shift(timedelta(days=15))  # REOPEN_DAYS is 14
    ticket = _write(desk, ticket)
    assert (ticket.status, ticket.resolution) == ("closed", "satisfactory")
    assert [t.name for t in desk.tasks(ticket) if t.name == READ_TASK] == [READ_TASK]
    assert ticket.customer_unread_since is not None


def test_the_type_says_for_how_many_days_a_message_reopens_it(desk, clock):
    source = (ROOT / "processes" / "complaint.bpmn").read_text()
    marker = '<bpmn:process id="complaint"'
    start = source.index(marker)
    head_end = source.index(">", start) + 1
    with_property = (
        source[:head_end]
        + '<bpmn:extensionElements><spiffworkflow:properties><spiffworkflow:property name="reopen.days" '
        'value="0"/></spiffworkflow:properties></bpmn:extensionElements>' + source[head_end:]
    )
    deploy(with_property.encode(), actor="test")
    ticket = desk.closed_complaint()
    ticket = _write(desk, ticket)
    assert ticket.status == "closed"  # reopen.days = 0: never reopened, a task instead
    assert [t.name for t in desk.tasks(ticket) if t.name == READ_TASK] == [READ_TASK]


def test_the_team_sees_the_badge_and_the_view_and_marks_the_message_read(client, desk):
    ticket = desk.closed_complaint()
    _write(desk, ticket)
    login(client, "alice")
    inbox = client.get("/inbox/?view=team").get_data(as_text=True)
    assert "customer wrote" in inbox and "Read the customer&#39;s message" in inbox
    view = client.get("/inbox/customer-wrote").get_data(as_text=True)
    assert f"#{ticket.id} Rude courier" in view
    page = client.get(f"/inbox/tickets/{ticket.id}").get_data(as_text=True)
    assert "Unread message from Jane Doe" in page and "reopened" in page
    client.post(f"/inbox/tickets/{ticket.id}/read", data={"csrf_token": csrf_of(page)})
    assert f"#{ticket.id} Rude courier" not in client.get("/inbox/customer-wrote").get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).status == "closed"


def test_the_customer_writes_on_a_closed_ticket_in_the_portal(client, desk):
    ticket = desk.closed_complaint()
    login(client, "jane")
    page = client.get(f"/portal/tickets/{ticket.id}").get_data(as_text=True)
    sent = client.post(
        f"/portal/tickets/{ticket.id}/messages",
        data={"message": "The voucher did not arrive.", "csrf_token": csrf_of(page)},
        follow_redirects=True,
    )
    assert "our team was told" in sent.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).customer_unread_since is not None


def test_the_aggregates_of_a_reopen_and_a_second_close_equal_a_replay_of_the_history(desk, clock):
    ticket = desk.closed_complaint()
    clock.shift(timedelta(days=1))
    ticket_id = _write(desk, ticket).id
    [read] = [t for t in desk.tasks(ticket) if t.name == READ_TASK]
    clock.shift(timedelta(hours=2))
    complete_task(read.id, {}, desk.agent)
    kept = snapshot()
    rebuild(db.session)
    db.session.commit()
    assert snapshot() == kept
    assert db.session.get(TicketStat, ticket_id).reopens == 1


def test_the_reading_task_page_says_completing_it_marks_the_message_read(client, desk):
    ticket = _write(desk, desk.open())
    [read] = [t for t in desk.tasks(ticket) if t.name == READ_TASK]
    login(client, "alice")
    page = client.get(f"/inbox/tasks/{read.id}").get_data(as_text=True)
    assert "Completing this task marks the customer's message as read." in page
    assert 'name="process_data"' not in page
    done = client.post(f"/inbox/tasks/{read.id}", data={"csrf_token": csrf_of(page)})
    assert done.status_code == 302
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).customer_unread_since is None
