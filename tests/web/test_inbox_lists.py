"""The inbox list (issue 12): every column sorts, the status filter is a choice list with labels, the
SLA column shows each target and both due dates labelled, the live counts fragment with its "new"
badge, saved filters, and a stale completion that names the holder and keeps the answer."""

from datetime import timedelta

from sqlalchemy import event

from app.clock import utcnow
from app.engine import claim_task, complete_task, release_task, start_process
from app.extensions import db
from app.models import HumanTask, SavedFilter, Ticket, TicketStat, User
from app.worker import drain
from tests.factories import csrf_of, deploy_shipped, login, make_customer, make_user
from tests.web.test_inbox import inbox, page_of, post


def _headers(page):
    return {th.xpath("string(.)").strip(" ▲▼"): th.get("aria-sort") for th in page.xpath("//table//th[a]")}


def test_every_column_header_is_a_sort_link_with_aria_sort(client, seed):
    seed(title="One", assignee="alice")
    login(client, "alice")
    page = page_of(client.get("/inbox/?view=mine"))
    headers = _headers(page)
    assert set(headers) == {
        "Task",
        "Ticket",
        "Customer",
        "Priority",
        "Status",
        "SLA due",
        "Task due",
        "Assignee",
    }
    assert headers["Task due"] == "ascending" and headers["Task"] == "none"
    link = page.xpath("//th[@aria-sort='ascending']/a/@href")[0]
    assert "dir=desc" in link  # clicking the sorted column flips it


def test_sort_by_sla_due_follows_the_sla_column_not_the_task_due(client, seed, clock):
    at = utcnow()
    seed(title="Later SLA", assignee="alice", due=at + timedelta(hours=1), sla_due=at + timedelta(days=16))
    seed(title="Sooner SLA", assignee="alice", due=at + timedelta(days=5), sla_due=at + timedelta(days=10))
    seed(title="No SLA", assignee="alice")
    login(client, "alice")
    assert inbox(client, view="mine", sort="sla")[0] == ["Sooner SLA", "Later SLA", "No SLA"]
    assert inbox(client, view="mine", sort="sla", dir="desc")[0] == ["Later SLA", "Sooner SLA", "No SLA"]
    assert inbox(client, view="mine")[0] == ["Later SLA", "Sooner SLA", "No SLA"]  # task due, the default


def test_sorting_by_any_column_keeps_one_stable_order(client, seed):
    for title in ("B", "A", "C"):
        seed(title=title, assignee="alice", customer=f"Customer {title}", priority="high")
    login(client, "alice")
    assert inbox(client, view="mine", sort="task")[0] == ["A", "B", "C"]
    assert inbox(client, view="mine", sort="customer", dir="desc")[0] == ["C", "B", "A"]
    by_priority = inbox(client, view="mine", sort="priority")[0]
    assert by_priority == inbox(client, view="mine", sort="priority")[0]  # ties: arrival, then id
    for column in ("ticket", "status", "assignee", "sla", "due"):
        assert sorted(inbox(client, view="mine", sort=column)[0]) == ["A", "B", "C"]


def test_status_filter_offers_the_statuses_of_the_chosen_type_with_labels(client, seed):
    seed(title="Working", assignee="alice", status="in_progress")
    seed(title="Fresh", assignee="alice", status="new")
    login(client, "alice")
    page = page_of(client.get("/inbox/?view=mine"))
    options = {o.get("value"): o.text for o in page.xpath("//select[@id='filter-status']/option")}
    assert options["in_progress"] == "In progress" and options[""] == "Any status"
    assert not page.xpath("//input[@id='filter-status']")  # no free text
    assert inbox(client, view="mine", status="in_progress")[0] == ["Working"]


def test_sla_column_shows_each_target_and_both_due_dates_labelled(client, seed, clock):
    at = utcnow()
    task = seed(
        title="Overdue",
        assignee="alice",
        due=at - timedelta(hours=2),
        sla_due=at + timedelta(days=3),
        sla_target=86400,
    )
    row = db.session.get(Ticket, task.ticket_id)
    row.first_response_due_at = at - timedelta(hours=1)
    row.sla_running_since = at - timedelta(hours=5)
    db.session.commit()
    login(client, "alice")
    page = page_of(client.get("/inbox/?view=mine"))
    cell = page.xpath("//td[@class='sla-cell']")[0]
    badges = {b.get("data-target"): b.text for b in cell.xpath(".//span[@data-target]")}
    assert badges["first_response"] == "First response breached"
    assert badges["resolution"] == "Resolution on track"
    assert page.xpath("string(//*[@data-due='sla'])").startswith("SLA due in 3 days · 26 Nov 2026 10:00 CET")
    task_due = page.xpath("string(//*[@data-due='task'])")
    assert task_due.startswith("Task due 2 hours ago · 23 Nov 2026 08:00 CET")
    assert "T07:00:00+00:00" in page.xpath("//*[@data-due='task']//time/@datetime")[0]
    assert "2026-11-23T07:00:00" not in page.xpath("string(//table)")  # no raw ISO shown


def test_a_first_response_in_time_counts_as_met(client, seed, clock):
    at = utcnow()
    task = seed(title="Answered", assignee="alice", sla_due=at + timedelta(days=3), sla_target=86400)
    row = db.session.get(Ticket, task.ticket_id)
    row.first_response_due_at, row.sla_running_since = at - timedelta(hours=1), at - timedelta(hours=5)
    db.session.add(
        TicketStat(ticket_id=row.id, type="return", opened_at=at, first_response_at=at - timedelta(hours=2))
    )
    db.session.commit()
    login(client, "alice")
    page = page_of(client.get("/inbox/?view=mine"))
    assert page.xpath("string(//span[@data-target='first_response'])") == "First response met"


# --- live counts and the "new" badge ------------------------------------------------------------


def test_counts_fragment_shows_what_arrived_since_the_last_look(client, seed, clock):
    seed(title="Old", team="returns")
    login(client, "alice")
    assert client.get("/inbox/?view=team").status_code == 200  # looked now
    fragment = client.get("/inbox/counts?view=team")
    assert fragment.status_code == 200
    html = fragment.get_data(as_text=True)
    assert "<html" not in html and 'hx-trigger="every 30s"' in html and "new</span>" not in html
    clock.shift(timedelta(minutes=5))
    seed(title="Arrived", team="returns")
    seed(title="For Carol", team="credit")  # not in Alice's views
    page = page_of(client.get("/inbox/counts?view=team"))
    assert page.xpath("string(//span[@data-new='team'])") == "1 new"
    assert page.xpath("string(//span[@data-view='team'])") == "2"
    listed = page_of(client.get("/inbox/?view=team"))  # looking clears it, the row says "new"
    assert listed.xpath("//tr[td//span[@class='badge new']]//td[1]/a/text()") == ["Arrived"]
    assert not page_of(client.get("/inbox/counts?view=team")).xpath("//span[@data-new]")


def test_counts_fragment_is_for_staff_only(client, seed):
    assert client.get("/inbox/counts").status_code in (302, 401)


# --- saved filters ----------------------------------------------------------------------------


def test_an_agent_saves_lists_and_deletes_a_filter(app, client, seed, people):
    seed(title="Urgent one", assignee="alice", priority="urgent")
    login(client, "alice")
    answer = post(
        client, "/inbox/filters", {"name": "  Urgent  mine ", "query": "view=mine&priority=urgent&x=1"}
    )
    assert answer.status_code == 302
    saved = db.session.execute(db.select(SavedFilter)).scalar_one()
    assert (saved.name, saved.query, saved.user_id) == (
        "Urgent mine",
        "view=mine&priority=urgent",
        people["alice"].id,
    )
    page = page_of(client.get("/inbox/"))
    assert page.xpath("//section[@class='card saved-filters']//a/@href") == [
        "/inbox/?view=mine&priority=urgent"
    ]
    bob = app.test_client()
    login(bob, "bob")
    assert not page_of(bob.get("/inbox/")).xpath("//section[@class='card saved-filters']//a")
    assert post(bob, f"/inbox/filters/{saved.id}/delete").status_code == 404  # not Bob's
    assert post(client, f"/inbox/filters/{saved.id}/delete").status_code == 302
    assert db.session.execute(db.select(SavedFilter)).scalar() is None


def test_saving_a_filter_needs_a_name_and_the_csrf_token(client, seed):
    login(client, "alice")
    answer = post(client, "/inbox/filters", {"name": "", "query": "view=mine"}, follow_redirects=True)
    assert "Name the filter" in answer.get_data(as_text=True)
    assert client.post("/inbox/filters", data={"name": "x", "query": ""}).status_code == 400
    assert db.session.execute(db.select(SavedFilter)).scalar() is None


# --- a stale completion -------------------------------------------------------------------------


def test_a_stale_completion_names_the_holder_and_keeps_what_was_typed(client, seed, people):
    task = seed(title="Formless", team="returns")
    login(client, "alice")
    token_page = client.get(f"/inbox/tasks/{task.id}").get_data(as_text=True)
    assert "Complete task" in token_page
    task.assignee_id = people["bob"].id
    db.session.commit()
    answer = client.post(
        f"/inbox/tasks/{task.id}",
        data={"csrf_token": csrf_of(token_page), "process_data": '{"note": "typed by Alice"}'},
    )
    assert answer.status_code == 409
    page = page_of(answer)
    assert "Bob holds this task now" in page.xpath("string(//div[@role='alert'])")
    assert task.id not in page.xpath("string(//div[@role='alert'])")
    assert page.xpath("string(//textarea[@id='process_data'])") == '{"note": "typed by Alice"}'
    assert not page.xpath("//button[text()='Complete task']")


def test_a_completion_after_someone_else_completed_names_them_and_when_and_shows_what_was_typed(
    client, app, clock
):
    deploy_shipped("general")
    alice = make_user("alice", "agent", teams=("support",), password="pw")
    bob = make_user("bob", "agent", teams=("support",), password="pw")
    bob.name = "Bob Berg"
    ticket, _ = start_process(
        "general",
        make_customer().id,
        "Norway?",
        {"question": "Do you ship to Norway?", "category": "delivery"},
    )
    drain()
    task = db.session.execute(db.select(HumanTask).where(HumanTask.ticket_id == ticket.id)).scalar_one()
    task_id = task.id
    login(client, "alice")
    token_page = client.get(f"/inbox/tasks/{task_id}").get_data(as_text=True)
    clock.shift(timedelta(minutes=5))
    if task.assignee_id == alice.id:  # the round robin gave it to her; she lets it go, Bob takes it
        release_task(task_id, alice)
    claim_task(task_id, bob)
    complete_task(task_id, {"answer": "Yes, within five days.", "information_given": True}, bob)
    answer = client.post(
        f"/inbox/tasks/{task_id}",
        data={
            "csrf_token": csrf_of(token_page),
            "answer": "We ship to Norway\nin 3 days.",
            "information_given": "true",
        },
    )
    assert answer.status_code == 409
    page = page_of(answer)
    said = page.xpath("string(//p[@class='completed-by'])")
    assert "Bob Berg completed “Answer question” 23 Nov 2026" in " ".join(said.split())
    assert "CET" in said and task_id not in said
    [typed] = page.xpath("//textarea[@readonly and @id=//label[text()='Answer']/@for]")
    assert typed.text == "We ship to Norway\nin 3 days."
    assert not page.xpath("//button[text()='Complete task']")


# --- the viewer's time zone ---------------------------------------------------------------------


def test_a_person_chooses_their_time_zone_and_an_unknown_one_is_refused(client, people):
    login(client, "alice")
    page = client.get("/account/settings").get_data(as_text=True)
    assert "Europe/Berlin" in page
    answer = post(client, "/account/settings", {"timezone": "Mars/Olympus"}, page_url="/account/settings")
    assert answer.status_code == 422 and "is not a time zone" in answer.get_data(as_text=True)
    assert db.session.get(User, people["alice"].id).timezone is None
    answer = post(client, "/account/settings", {"timezone": "America/New_York"}, page_url="/account/settings")
    assert answer.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, people["alice"].id).timezone == "America/New_York"


def _statements(client, url) -> int:
    seen = []

    def count(conn, cursor, statement, *args):
        seen.append(statement)

    db.session.remove()  # the request loads the signed-in person afresh, as each request in production does
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return len(seen)


def test_the_inbox_page_runs_a_handful_of_statements_however_many_rows(client, seed):
    for i in range(3):
        seed(title=f"Task {i}", assignee="alice", customer=f"Customer {i}")
    login(client, "alice")
    client.get("/inbox/")  # the first look after signing in
    few = _statements(client, "/inbox/?view=mine&sort=customer")
    for i in range(3, 20):
        seed(title=f"Task {i}", assignee="alice", customer=f"Customer {i}")
    assert _statements(client, "/inbox/?view=mine&sort=customer") == few <= 15
    assert _statements(client, "/inbox/counts?view=mine") <= 8


def test_sla_filter_follows_the_badges_a_breached_first_response_is_breached(client, seed, clock):
    at = utcnow()
    day = 8 * 3600
    late_reply = seed(title="Answered late", assignee="alice", sla_due=at + timedelta(days=3), sla_target=day)
    no_reply = seed(title="Not answered", assignee="alice", sla_due=at + timedelta(days=3), sla_target=day)
    soon = seed(title="Reply due soon", assignee="alice", sla_due=at + timedelta(days=3), sla_target=day)
    in_time = seed(title="Answered in time", assignee="alice", sla_due=at + timedelta(days=3), sla_target=day)
    seed(title="Late resolution", assignee="alice", sla_due=at - timedelta(minutes=5), sla_target=day)
    for task, due in (
        (late_reply, at - timedelta(hours=3)),
        (no_reply, at - timedelta(hours=1)),
        (soon, at + timedelta(minutes=20)),
        (in_time, at - timedelta(hours=3)),
    ):
        db.session.get(Ticket, task.ticket_id).first_response_due_at = due
    for task, responded in ((late_reply, at - timedelta(hours=2)), (in_time, at - timedelta(hours=4))):
        db.session.add(
            TicketStat(ticket_id=task.ticket_id, type="return", opened_at=at, first_response_at=responded)
        )
    db.session.commit()
    login(client, "alice")
    page = page_of(client.get("/inbox/?view=mine"))
    badge = page.xpath("string(//tr[contains(., 'Answered late')]//span[@data-target='first_response'])")
    assert badge == "First response breached"
    assert sorted(inbox(client, view="mine", sla="breached")[0]) == [
        "Answered late",
        "Late resolution",
        "Not answered",
    ]
    assert inbox(client, view="mine", sla="breached")[1]["mine"] == 3  # the counts agree
    assert inbox(client, view="mine", sla="at_risk")[0] == ["Reply due soon"]
    assert inbox(client, view="mine", sla="on_track")[0] == ["Answered in time"]


def test_each_row_links_its_own_task_and_a_queued_row_claims_it_from_the_list(client, seed):
    mine = seed(title="Mine", assignee="alice")
    queued = seed(title="Queued")
    login(client, "alice")
    page = page_of(client.get("/inbox/?view=team"))
    row = page.xpath(f"//tr[@data-task='{queued.id}']")[0]
    assert row.xpath(".//td[1]/a/@href") == [f"/inbox/tasks/{queued.id}"]
    form = row.xpath(".//form")[0]
    assert form.get("action") == f"/inbox/tasks/{queued.id}/claim"
    assert form.xpath("string(.//input[@name='next']/@value)") == f"/inbox/tasks/{queued.id}"
    fields = {i.get("name"): i.get("value") for i in form.xpath(".//input")}
    answer = client.post(form.get("action"), data=fields)
    assert answer.status_code == 302 and answer.headers["Location"].endswith(f"/inbox/tasks/{queued.id}")
    db.session.expire_all()
    assert db.session.get(HumanTask, queued.id).assignee_id == db.session.get(HumanTask, mine.id).assignee_id
    mine_row = page_of(client.get("/inbox/?view=mine")).xpath(f"//tr[@data-task='{mine.id}']")[0]
    assert mine_row.xpath(".//td[1]/a/@href") == [f"/inbox/tasks/{mine.id}"]
