"""An analyst migrates running return tickets to version 2 in the studio (the real server, Chromium).

Version 2 of the return flow (tests/migration/return_v2.py) adds an inspection step and replaces
the second approver's task. Tickets wait at the review and at the goods' arrival; one waits at the
replaced task. In the Versions tab's "Migrate tickets" panel the analyst runs a dry run (the movable
tickets, and the one that cannot move, grouped by its element and state), starts the batch of the
movable ones and watches the progress bar while the worker moves them chunk by chunk, to the end;
one ticket that reached the replaced task after the dry run is listed as a failure, with why.
A manager moves one ticket from its dashboard page and rolls it back.

With SCREENSHOTS=1 the dry run and the progress are saved to docs/screenshots/.
"""

import re

from playwright.sync_api import expect

from app.engine import complete_task, deploy, run_migration_chunk, start_process
from app.extensions import db
from app.models import HumanTask, ProcessDefinition, ProcessInstance, User
from app.worker import drain
from tests.browser.test_portal_browser import sign_in
from tests.browser.test_studio import BUNDLE, WATCH, shot
from tests.browser.test_studio_live import unexpected
from tests.engine.conftest import RETURN_START
from tests.factories import deploy_shipped, make_customer, make_user, set_limits
from tests.migration.return_v2 import return_v2

ACCEPT = {"decision": "accept", "resolution": "refund"}
RECEIVED = {"item_received": True, "condition": "used", "refund_amount": 50}


def _step(ticket_id, data, agent):
    task = db.session.execute(db.select(HumanTask).where(HumanTask.ticket_id == ticket_id)).scalar_one()
    complete_task(task.id, data, agent)
    drain()


def _agent():
    return db.session.execute(db.select(User).where(User.username == "alice")).scalar_one()


def _running_tickets(app):
    """Ten return tickets on version 1 (six at the review, four at the goods' arrival) and one at the
    second approver's task, which version 2 replaces; then version 2 is deployed."""
    deploy_shipped("return")
    set_limits({"agent": 1000, "lead": 10000})
    agent = make_user("alice", "agent", teams=("returns",))
    make_user("carol", "agent", teams=("customer-success",), lead=True)
    customer = make_customer()
    ids = [start_process("return", customer.id, f"Return {n}", RETURN_START)[0].id for n in range(11)]
    drain()
    for ticket_id in ids[6:]:
        _step(ticket_id, ACCEPT, agent)
    _step(ids[10], {**RECEIVED, "refund_amount": 150}, agent)  # above the order: a second approver
    deploy(return_v2(), actor="ana")
    return ids


def _version_of(ticket_id):
    db.session.rollback()  # a fresh read: the server wrote in its own thread
    return db.session.execute(
        db.select(ProcessDefinition.version)
        .join(ProcessInstance, ProcessInstance.definition_id == ProcessDefinition.id)
        .where(ProcessInstance.ticket_id == ticket_id)
    ).scalar_one()


def test_analyst_dry_runs_and_migrates_the_movable_tickets(app, clock, new_page):
    assert BUNDLE.exists(), "the studio's bundle is missing: run `make studio`"
    ids = _running_tickets(app)
    make_user("ana", "analyst", password="pw")
    page = new_page()
    page.add_init_script(WATCH)
    errors = []
    page.on("console", lambda msg: errors.append(msg) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(page, "ana")
    page.goto("/studio/types/return")
    page.wait_for_selector("#studio-editor[data-ready=true]")
    page.get_by_role("tab", name="Versions").click()
    panel = page.locator("#migrate")
    expect(panel).to_be_visible()
    expect(page.get_by_label("From version")).to_have_value("1")
    expect(page.get_by_label("to version")).to_have_value("2")

    page.get_by_role("button", name="Dry run").click()
    expect(panel.locator(".migrate-movable")).to_contain_text("Can move: 10 ticket(s)")
    blocked = panel.locator("#migrate-blocked tbody tr")
    expect(blocked).to_have_count(1)
    expect(blocked).to_contain_text("approve_refund")
    expect(blocked).to_contain_text("READY")
    expect(blocked).to_contain_text(f"1: {ids[10]}")
    panel.scroll_into_view_if_needed()
    shot(page, "studio-migrate-dry-run.png")

    # Meanwhile an agent takes one of them to the second approver's task, which version 2 replaced.
    _step(ids[9], {**RECEIVED, "refund_amount": 150}, _agent())
    page.get_by_role("button", name="Migrate 10 movable tickets").click()
    counts = panel.locator("#migrate-counts")
    expect(counts).to_contain_text("0 of 10 moved")
    run_migration_chunk(size=4)  # the worker's first chunk
    expect(counts).to_contain_text("Moving: 4 of 10 moved")
    expect(panel.locator("#migrate-bar")).to_have_attribute("value", "4")
    shot(page, "studio-migrate-progress.png")
    drain()  # the worker moves the rest
    expect(counts).to_contain_text(re.compile(r"Done: 9 of 10 moved · 1 failed · 0 skipped"))
    expect(panel.locator("#migrate-bar")).to_have_attribute("value", "10")
    expect(panel.locator("#migrate-failures li")).to_have_text(
        [re.compile(rf"Ticket {ids[9]}: .*'approve_refund' \(READY\) is not in the target")]
    )
    expect(page.locator("#status")).to_contain_text("Migration finished: 9 ticket(s) moved.")
    running = page.locator("#versions tbody tr td:nth-child(6)")
    expect(running).to_have_text(["9", "2"])  # the versions' running counts follow
    panel.locator("#migrate-failures").scroll_into_view_if_needed()
    shot(page, "studio-migrate-done.png")

    assert [_version_of(t) for t in ids] == [2] * 9 + [1, 1]
    assert page.evaluate("window.__violations") == []
    assert unexpected(errors) == []


def test_manager_moves_one_ticket_from_its_dashboard_page_and_rolls_it_back(app, clock, new_page):
    ids = _running_tickets(app)
    make_user("max", "manager", password="pw")
    page = new_page()
    page.add_init_script(WATCH)
    errors = []
    page.on("console", lambda msg: errors.append(msg) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(page, "max")
    page.goto(f"/dashboard/tickets/{ids[10]}")
    actions = page.locator("#migrate-ticket")
    expect(actions).to_contain_text("Dry run: cannot move")
    expect(actions).to_contain_text("approve_refund")
    expect(page.get_by_role("button", name="Move to version 2")).to_be_disabled()

    page.goto(f"/dashboard/tickets/{ids[6]}")
    expect(actions).to_contain_text("Dry run: can move")
    actions.scroll_into_view_if_needed()
    shot(page, "dashboard-move-to-version.png")
    page.get_by_role("button", name="Move to version 2").click()
    expect(page.get_by_text(f"Ticket #{ids[6]} moved from version 1 to version 2.")).to_be_visible()
    expect(page.locator(".timeline")).to_contain_text("moved the process from version 1 to version 2")
    assert _version_of(ids[6]) == 2
    page.get_by_role("button", name="Roll back to version 1").click()
    expect(page.get_by_text(f"Ticket #{ids[6]} is back on version 1.")).to_be_visible()
    assert _version_of(ids[6]) == 1
    assert page.evaluate("window.__violations") == []
    assert unexpected(errors) == []
