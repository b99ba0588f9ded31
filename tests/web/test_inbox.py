"""The agents' inbox: views and who sees what, filters, counts, pages; claim, release, reassign;
the task page with its form, completing it, the 409 of a task done meanwhile; writing to the customer."""

import io
import re
from datetime import timedelta

import lxml.html
import pytest

from app.clock import utcnow
from app.engine import claim_task, complete_task, release_task, start_process
from app.extensions import db
from app.models import (
    Attachment,
    Comment,
    HistoryEvent,
    HumanTask,
    OutboxMessage,
    Team,
    TeamMember,
    Ticket,
)
from app.worker import drain
from tests.diagrams import user_task_process
from tests.engine.conftest import RETURN_START
from tests.factories import csrf_of, deploy_shipped, login, make_customer, make_user

# --- arrangement -----------------------------------------------------------------------------


def page_of(response):
    return lxml.html.fromstring(response.get_data(as_text=True))


def inbox(client, **args):
    """(task titles in order, {view: count}) of an inbox page."""
    response = client.get("/inbox/", query_string=args)
    assert response.status_code == 200
    page = page_of(response)
    titles = [a.text for a in page.xpath("//table[@class='inbox']//td[1]/a")]
    counts = {span.get("data-view"): int(span.text) for span in page.xpath("//span[@data-view]")}
    return titles, counts


def post(client, url, data=None, page_url=None, **kw):
    token = csrf_of(client.get(page_url or "/inbox/").get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **(data or {})}, **kw)


# --- who sees what ---------------------------------------------------------------------------


def test_agent_sees_own_tasks_and_unassigned_tasks_of_their_teams(client, seed):
    seed(title="Mine", assignee="alice"), seed(title="Queue"), seed(title="Bobs", assignee="bob")
    seed(title="Credit queue", team="credit")
    login(client, "alice")
    assert inbox(client, view="mine") == (["Mine"], {"mine": 1, "team": 1})
    assert inbox(client, view="team")[0] == ["Queue"]


def test_tasks_outside_any_team_are_open_to_every_agent(client, seed):
    seed(title="Anyone", team=None)
    login(client, "carol")
    assert inbox(client, view="team")[0] == ["Anyone"]


def test_a_team_lead_sees_everything_of_the_team(client, seed):
    seed(title="Bobs", assignee="bob"), seed(title="Queue"), seed(title="Credit", team="credit")
    login(client, "lena")
    titles, counts = inbox(client, view="all")
    assert sorted(titles) == ["Bobs", "Queue"] and counts["all"] == 2


def test_plain_agents_have_no_everything_view(client, seed):
    seed(title="Bobs", assignee="bob")
    login(client, "alice")
    assert inbox(client, view="all") == ([], {"mine": 0, "team": 0})


def test_managers_see_their_teams_and_admins_everything(client, seed):
    seed(title="Bobs", assignee="bob"), seed(title="Credit", team="credit", assignee="carol")
    login(client, "mike")
    assert inbox(client, view="all")[0] == ["Bobs"]
    client.post("/logout", data={"csrf_token": csrf_of(client.get("/inbox/").get_data(as_text=True))})
    login(client, "root")
    assert sorted(inbox(client, view="all")[0]) == ["Bobs", "Credit"]


@pytest.mark.parametrize(
    "method, suffix",
    [("get", ""), ("post", ""), ("post", "/claim"), ("post", "/release"), ("post", "/reassign")],
)
def test_a_task_of_another_team_is_404(client, seed, method, suffix):
    task = seed(team="credit", assignee="carol")
    login(client, "alice")
    url = f"/inbox/tasks/{task.id}{suffix}"
    response = client.get(url) if method == "get" else post(client, url, {"assignee": "1"})
    assert response.status_code == 404


def test_customers_get_404_and_strangers_the_sign_in(client, app, seed):
    assert client.get("/inbox/").status_code == 302
    make_user("cust", "customer", password="pw")
    login(client, "cust")
    assert client.get("/inbox/").status_code == 404


# --- filters, sorting, counts, pages ---------------------------------------------------------


def test_filters_by_ticket_type_priority_and_status(client, seed):
    seed(title="Credit urgent", ticket_type="credit", priority="urgent", assignee="alice")
    seed(title="Return low", priority="low", assignee="alice", status="awaiting_customer")
    login(client, "alice")
    assert inbox(client, type="credit")[0] == ["Credit urgent"]
    assert inbox(client, priority="low")[0] == ["Return low"]
    assert inbox(client, status="awaiting_customer")[0] == ["Return low"]


def test_customer_filter_searches_names(client, seed):
    (
        seed(title="A", customer="Anna Berg", assignee="alice"),
        seed(title="B", customer="Bert Smit", assignee="alice"),
    )
    login(client, "alice")
    assert inbox(client, customer="berg")[0] == ["A"]
    assert inbox(client, customer="%")[0] == []  # a wildcard is searched for literally


@pytest.mark.parametrize("most", [5000, 1], ids=["by-customer-ids", "too-many-customers-join"])
def test_customer_filter_counts_and_pages_the_same_either_way(client, seed, monkeypatch, most):
    # PostgreSQL reads the matching customers' ids first, unless more than CUSTOMER_IDS_MAX match.
    monkeypatch.setattr("app.web.inbox.queries.CUSTOMER_IDS_MAX", most)
    seed(title="A", customer="Anna Berg", assignee="alice")
    seed(title="B", customer="Bo Bergström", assignee="alice")
    seed(title="C", customer="Cy Smit", assignee="alice")
    seed(title="Q", customer="Quinn Berg")  # the queue: unassigned in alice's team
    login(client, "alice")
    titles, counts = inbox(client, view="mine", customer="BERG")
    assert titles == ["A", "B"] and counts["mine"] == 2 and counts["team"] == 1
    assert inbox(client, view="team", customer="berg")[0] == ["Q"]
    assert inbox(client, view="mine", customer="nobody")[1]["mine"] == 0


def test_sla_filter_tells_breached_at_risk_and_on_track_apart(client, seed, clock):
    now = utcnow()
    day = 8 * 3600
    seed(title="Late", assignee="alice", sla_due=now - timedelta(minutes=5), sla_target=day)
    seed(title="Close", assignee="alice", sla_due=now + timedelta(minutes=30), sla_target=day)
    seed(title="Fine", assignee="alice", sla_due=now + timedelta(days=3), sla_target=day)
    login(client, "alice")
    assert [inbox(client, sla=s)[0] for s in ("breached", "at_risk", "on_track")] == [
        ["Late"],
        ["Close"],
        ["Fine"],
    ]


def test_sorting_by_due_date_puts_tasks_without_one_last(client, seed, clock):
    now = utcnow()
    seed(title="None", assignee="alice"), seed(title="Later", assignee="alice", due=now + timedelta(days=2))
    seed(title="Soon", assignee="alice", due=now + timedelta(hours=1))
    login(client, "alice")
    assert inbox(client)[0] == ["Soon", "Later", "None"]


def test_sorting_by_priority_puts_urgent_first(client, seed):
    for priority in ("low", "urgent", "normal", "high"):
        seed(title=priority, priority=priority, assignee="alice")
    login(client, "alice")
    assert inbox(client, sort="priority")[0] == ["urgent", "high", "normal", "low"]


def test_counts_follow_the_filters(client, seed):
    seed(priority="high", assignee="alice"), seed(priority="low", assignee="alice"), seed(priority="high")
    login(client, "alice")
    assert inbox(client, priority="high")[1] == {"mine": 1, "team": 1}


def test_counts_of_several_teams_and_of_tasks_outside_any_team_add_up(client, seed):
    make_user("tess", "agent", teams=("returns", "credit"), lead=True, password="pw")
    seed(title="Returns queue"), seed(title="Credit queue", team="credit", priority="high")
    seed(title="Anyone", team=None, priority="high"), seed(title="Bobs", assignee="bob")
    seed(title="Carols", team="credit", assignee="carol", priority="high"), seed(title="Other", team="vip")
    login(client, "tess")
    titles, counts = inbox(client, view="team")
    assert sorted(titles) == ["Anyone", "Credit queue", "Returns queue"]
    assert counts == {"mine": 0, "team": 3, "all": 4}
    assert inbox(client, view="all", priority="high")[1] == {"mine": 0, "team": 2, "all": 2}


def test_pages_hold_25_tasks_and_keep_the_filters(client, seed):
    for n in range(60):
        seed(title=f"T{n:02}", assignee="alice", priority="high", due=utcnow() + timedelta(minutes=n))
    login(client, "alice")
    assert inbox(client, priority="high", page=3)[0] == [f"T{n}" for n in range(50, 60)]
    page = page_of(client.get("/inbox/", query_string={"priority": "high", "page": 2}))
    assert page.xpath("//a[@rel='next']/@href")[0] == "/inbox/?view=mine&page=3&priority=high"
    assert inbox(client, page=99)[0][0] == "T50"  # past the end: the last page


# --- claim, release, reassign ----------------------------------------------------------------


def test_claiming_takes_a_queued_task(client, seed, people):
    task = seed()
    login(client, "alice")
    response = post(client, f"/inbox/tasks/{task.id}/claim", follow_redirects=True)
    assert "The task is yours now." in response.get_data(as_text=True)
    assert db.session.get(HumanTask, task.id).assignee_id == people["alice"].id


def test_claiming_a_task_someone_holds_names_them(client, seed, people):
    task = seed(assignee="bob")
    login(client, "alice")
    response = post(client, f"/inbox/tasks/{task.id}/claim", follow_redirects=True)
    assert "Bob holds this task now" in response.get_data(as_text=True)
    assert db.session.get(HumanTask, task.id).assignee_id == people["bob"].id


def test_releasing_gives_the_task_back_to_the_team(client, seed):
    task = seed(assignee="alice")
    login(client, "alice")
    post(client, f"/inbox/tasks/{task.id}/release")
    db.session.expire_all()
    assert db.session.get(HumanTask, task.id).assignee_id is None


def test_reassigning_hands_the_task_to_a_teammate_only(client, seed, people):
    task = seed(assignee="alice")
    login(client, "alice")
    post(client, f"/inbox/tasks/{task.id}/reassign", {"assignee": str(people["carol"].id)})
    db.session.expire_all()
    assert db.session.get(HumanTask, task.id).assignee_id == people["alice"].id
    post(client, f"/inbox/tasks/{task.id}/reassign", {"assignee": str(people["bob"].id)})
    db.session.expire_all()
    assert db.session.get(HumanTask, task.id).assignee_id == people["bob"].id


# --- the task page and completing it ---------------------------------------------------------


@pytest.fixture
def review(app, people):
    """A real return ticket whose review task alice holds."""
    deploy_shipped("return")
    customer = make_customer(
        name="Jane Doe", tier="gold", tenure_months=40, order_count=85, open_balance=12.5
    )
    ticket, _ = start_process(
        "return",
        customer.id,
        "Shoes arrived damaged",
        {**RETURN_START, "preferred_resolution": "credit_note"},
        actor="jane",
    )
    drain()
    task = db.session.execute(db.select(HumanTask).where(HumanTask.ticket_id == ticket.id)).scalar_one()
    if task.assignee_id != people["alice"].id:
        release_task(task.id, people["root"])
        claim_task(task.id, people["alice"])
    db.session.add(Comment(ticket_id=ticket.id, author_kind="customer", body="The left shoe is torn."))
    db.session.commit()
    return db.session.get(HumanTask, task.id)


def test_task_page_shows_ticket_customer_conversation_timeline_and_form(client, review):
    login(client, "alice")
    page = page_of(client.get(f"/inbox/tasks/{review.id}"))
    text = page.text_content()
    assert "Shoes arrived damaged" in text and "wants to return 2 item(s) of order SO-1001" in text
    terms = page.xpath("//dl[contains(@class, 'profile')]/dt")
    profile = {dt.text: dt.getnext().text_content().strip() for dt in terms}
    assert profile["Tier"] == "gold" and profile["Orders"] == "85" and profile["Open balance"] == "12.50 EUR"
    assert "The left shoe is torn." in text
    assert "jane opened the ticket" in " ".join(
        page.xpath("//ol[@class='timeline']")[0].text_content().split()
    )
    assert page.xpath("//input[@name='decision'][@type='radio']")


def test_task_page_and_ticket_page_show_the_same_ticket_sidebar(client, review):
    db.session.add(Attachment(ticket_id=review.ticket_id, filename="receipt.pdf", size=2048, data=b"%PDF"))
    db.session.commit()
    login(client, "alice")
    asides = [
        " ".join(lxml.html.tostring(page_of(client.get(url)).xpath("//aside")[0], encoding="unicode").split())
        for url in (f"/inbox/tasks/{review.id}", f"/inbox/tickets/{review.ticket_id}")
    ]
    assert asides[0] == asides[1]
    aside = lxml.html.fromstring(asides[0])
    assert [h.text for h in aside.xpath(".//h2")] == ["Ticket", "Jane Doe", "Files"]
    assert aside.xpath(".//a[text()='receipt.pdf']/@href")[0].startswith("/inbox/attachments/")


def test_form_defaults_come_from_the_process_data(client, review):
    login(client, "alice")
    page = page_of(client.get(f"/inbox/tasks/{review.id}"))
    assert page.xpath("//input[@name='resolution'][@checked]/@value") == ["credit_note"]


def test_the_credit_decision_defaults_to_the_proposed_limit(client, app, people):
    deploy_shipped("credit")
    ticket, _ = start_process(
        "credit",
        make_customer().id,
        "Credit please",
        {"requested_amount": 5000, "purpose": "Stock"},
        actor="jane",
    )
    drain()
    review = db.session.execute(db.select(HumanTask).where(HumanTask.ticket_id == ticket.id)).scalar_one()
    complete_task(review.id, {"data_complete": True}, people["carol"])
    drain()
    decide = db.session.execute(db.select(HumanTask).where(HumanTask.ticket_id == ticket.id)).scalar_one()
    login(client, "carol")
    page = page_of(client.get(f"/inbox/tasks/{decide.id}"))
    limit = re.search(r"proposed limit ([0-9.]+)", decide.instructions).group(1)
    assert page.xpath("//input[@name='approved_amount']/@value") == [limit]


def test_completing_the_form_runs_the_process_on(client, review):
    login(client, "alice")
    url = f"/inbox/tasks/{review.id}"
    response = post(client, url, {"decision": "more_info", "question": "A photo, please?"}, page_url=url)
    assert response.status_code == 302
    assert db.session.get(HumanTask, review.id) is None
    drain()
    assert db.session.get(Ticket, review.ticket_id).status == "awaiting_customer"


def test_invalid_data_comes_back_inline_with_what_was_typed(client, review):
    login(client, "alice")
    url = f"/inbox/tasks/{review.id}"
    response = post(client, url, {"decision": "reject", "notes": "looked at photos"}, page_url=url)
    assert response.status_code == 422
    page = page_of(response)
    assert (
        page.xpath("//textarea[@name='rejection_reason']/following-sibling::p[@class='error']")[0].text
        == "this field is required"
    )
    assert page.xpath("//textarea[@name='notes']")[0].text == "looked at photos"
    assert page.xpath("//input[@name='decision'][@checked]/@value") == ["reject"]
    assert db.session.get(HumanTask, review.id) is not None


def test_a_task_completed_meanwhile_answers_409_with_a_way_back(client, review, people):
    login(client, "alice")
    url = f"/inbox/tasks/{review.id}"
    token = csrf_of(client.get(url).get_data(as_text=True))
    complete_task(review.id, {"decision": "accept", "resolution": "refund"}, people["mike"])
    response = client.post(url, data={"csrf_token": token, "decision": "accept", "resolution": "refund"})
    assert response.status_code == 409
    page = page_of(response)
    said = " ".join(page.xpath("string(//p[@class='completed-by'])").split())
    assert said.startswith("Mike completed “") and "before you did" in said
    assert page.xpath("//a[@href='/inbox/']")
    assert client.get(url).status_code == 409


def test_a_task_without_a_form_shows_a_complete_button(client, app, people):
    from app.engine import deploy

    deploy(user_task_process(), actor="test")
    ticket, _ = start_process("tiny", make_customer().id, "Anything", {}, actor="test")
    task = db.session.execute(db.select(HumanTask).where(HumanTask.ticket_id == ticket.id)).scalar_one()
    login(client, "carol")
    url = f"/inbox/tasks/{task.id}"
    page = page_of(client.get(url))
    assert [b.text for b in page.xpath("//form[@enctype]//button")] == ["Complete task"]
    assert post(client, url, page_url=url).status_code == 302
    assert db.session.get(HumanTask, task.id) is None


def test_files_attached_to_a_task_form_are_kept_with_the_ticket(client, app, people, tmp_path):
    from app.engine import deploy

    app.config["FORMS_DIR"] = tmp_path
    (tmp_path / "photo.json").write_text(
        '{"type": "object", "required": ["photo"], "properties": '
        '{"photo": {"type": "object", "x-widget": "file", "title": "Photo"}}}'
    )
    deploy(
        user_task_process(
            '<spiffworkflow:properties><spiffworkflow:property name="formJsonSchemaFilename" '
            'value="photo.json"/></spiffworkflow:properties>'
        ),
        actor="test",
    )
    ticket, _ = start_process("tiny", make_customer().id, "Photo", {}, actor="test")
    task = db.session.execute(db.select(HumanTask).where(HumanTask.ticket_id == ticket.id)).scalar_one()
    login(client, "alice")
    url = f"/inbox/tasks/{task.id}"
    response = post(
        client,
        url,
        {"photo": (io.BytesIO(b"\x89PNG data"), "dent.png")},
        page_url=url,
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    row = db.session.execute(db.select(Attachment)).scalar_one()
    assert (row.ticket_id, row.filename, row.size) == (ticket.id, "dent.png", 9)
    download = client.get(f"/inbox/attachments/{row.id}")
    assert download.data == b"\x89PNG data" and "attachment" in download.headers["Content-Disposition"]


# --- writing to the customer -----------------------------------------------------------------


def test_writing_to_the_customer_adds_a_message_and_an_email(client, review, people):
    login(client, "alice")
    url = f"/inbox/tasks/{review.id}"
    response = post(
        client,
        f"/inbox/tickets/{review.ticket_id}/messages",
        {"body": "We are looking into it.", "next": url},
        page_url=url,
    )
    assert response.headers["Location"] == url
    comment = db.session.execute(db.select(Comment).where(Comment.author_kind == "agent")).scalar_one()
    assert (comment.ticket_id, comment.author_id, comment.body) == (
        review.ticket_id,
        people["alice"].id,
        "We are looking into it.",
    )
    mail = db.session.execute(
        db.select(OutboxMessage).where(OutboxMessage.body.contains("looking into"))
    ).scalar_one()
    assert mail.recipient == "jane@example.com" and mail.subject.startswith(f"[Ticket #{review.ticket_id}]")


def test_writing_to_the_customer_is_on_the_ticket_timeline(client, review, people):
    login(client, "alice")
    post(
        client,
        f"/inbox/tickets/{review.ticket_id}/messages",
        {"body": "On its way."},
        page_url=f"/inbox/tickets/{review.ticket_id}",
    )
    [added] = db.session.execute(
        db.select(HistoryEvent).where(
            HistoryEvent.ticket_id == review.ticket_id, HistoryEvent.kind == "comment_added"
        )
    ).scalars()
    assert added.actor == "alice" and added.data["author_kind"] == "agent" and added.data["outbox_id"]
    page = client.get(f"/inbox/tickets/{review.ticket_id}").get_data(as_text=True)
    assert "wrote to the customer" in page


def test_an_empty_message_is_refused_and_nothing_is_stored(client, review):
    login(client, "alice")
    response = post(
        client, f"/inbox/tickets/{review.ticket_id}/messages", {"body": "  "}, follow_redirects=True
    )
    assert "Write a message before sending it." in response.get_data(as_text=True)
    assert db.session.execute(db.select(Comment).where(Comment.author_kind == "agent")).first() is None


def test_another_teams_ticket_is_404(client, review):
    login(client, "carol")
    assert client.get(f"/inbox/tickets/{review.ticket_id}").status_code == 404
    assert post(client, f"/inbox/tickets/{review.ticket_id}/messages", {"body": "hi"}).status_code == 404


@pytest.mark.parametrize("sort", ["due", "priority"])
def test_a_queue_of_two_teams_and_unteamed_tasks_pages_in_one_order(client, seed, people, sort):
    """The queue is three index ranges (each team's unassigned tasks, and those outside any team):
    its pages merge them in the page order, with the filters, at any depth."""
    credit = db.session.execute(db.select(Team).where(Team.key == "credit")).scalar_one()
    db.session.add(TeamMember(team_id=credit.id, user_id=people["alice"].id))
    db.session.commit()
    now = utcnow()
    for n in range(75):
        team = ("returns", "credit", None)[n % 3]
        priority = ("high", "low")[n % 2]
        seed(title=f"T{n:02}", team=team, priority=priority, due=now + timedelta(minutes=n))
    seed(title="Taken", team="returns", assignee="bob")
    login(client, "alice")
    order = sorted(range(75), key=lambda n: (n % 2, n)) if sort == "priority" else list(range(75))
    pages = [inbox(client, view="team", sort=sort, page=p)[0] for p in (1, 2, 3)]
    assert pages == [[f"T{n:02}" for n in order[i : i + 25]] for i in (0, 25, 50)]
    high = [f"T{n:02}" for n in range(0, 75, 2)]
    assert inbox(client, view="team", priority="high", page=2) == (high[25:], {"mine": 0, "team": 38})
