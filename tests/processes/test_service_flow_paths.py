"""Every path through the onboarding and the order flows, on the real engine with the clock moved.

The paths run through the same runner as the other shipped workflows (`test_paths.run`): each
step is a task completed, a message delivered or a timer come due, and after each the service
calls, the waits and a save-restore round trip are checked. The customer's engagement arrives as
the message `engagement` at the onboarding's event subprocess, which listens all along.
"""

import pytest

from app.engine import deliver_correlated_message, deploy, start_process
from app.engine.rules.assignment import ticket_inputs
from app.extensions import db
from app.handlers.engagement import read_tracking_token
from app.models import Customer, OutboxMessage
from app.worker import drain
from tests.factories import ROOT, deploy_shipped, make_customer, make_user
from tests.processes.shared import flows, xml
from tests.processes.test_paths import (  # noqa: F401  (recorded: a fixture the walk uses)
    ANSWERED_AFTER_REMINDER,
    PROFILE,
    SATISFIED,
    SILENT,
    UNHAPPY,
    Message,
    Timer,
    User,
    path,
    recorded,
    run,
    taken_flows,
)

# ---------------------------------------------------------------------------- onboarding
ONBOARDING_START = {"trigger": "registration", "product": "Kettle"}
ONBOARDING_OPENED = ["set_status_in_progress", "make_tracking_link", "notify_welcome"]
SET_UP = Message(
    "account_set_up",
    "customer_reply",
    {"message": "Please write to me about new kettles."},
    ["record_account_setup", "notify_setup_done"],
)
SETUP_REMINDER = Timer("setup_reminder_due", ["notify_setup_reminder"])
TUTORIAL_1, TUTORIAL_2, TUTORIAL_3 = (Timer(f"tutorial_{n}_due", [f"send_tutorial_{n}"]) for n in (1, 2, 3))
PROMOTIONS = [Timer(f"promotion_{n}_due", [f"send_promotion_{n}"]) for n in (1, 2)]
LINK_OPENED = Message(
    "engagement_received",
    "engagement",
    {"kind": "link_opened", "campaign": "tutorial_1"},
    ["record_engagement"],
)
PORTAL_VISIT = Message("engagement_received", "engagement", {"kind": "portal_visit"}, ["record_engagement"])
ENGAGED = Timer("onboarding_period_over", ["classify_engagement", "close_engaged"])
NOT_ENGAGED = Timer("onboarding_period_over", ["classify_engagement"])
REACH_OUT = User(
    "reach_out",
    "customer-success",
    {"contacted": True, "outcome": "needs_help", "notes": "Did not find the tutorials; sent a video."},
    ["close_not_engaged"],
)

# ---------------------------------------------------------------------------- order
ORDER = "B-2001"
ORDER_START = {"order_number": ORDER, "amount": 149.0, "payment_method": "card"}
ORDER_OPENED = ["notify_order_confirmation", "set_status_awaiting_payment", "request_payment"]
GOES_ON = ["notify_payment_confirmed", "set_status_in_progress", "request_label", "schedule_delivery_due"]
PAID = Message("payment_answer", "payment_processed", {"order_number": ORDER, "status": "paid"}, GOES_ON)
PAYMENT_FAILED = Message(
    "payment_answer",
    "payment_processed",
    {"order_number": ORDER, "status": "failed", "reason": "card declined"},
    ["notify_payment_failed"],
)
NO_PAYMENT_ANSWER = Timer("payment_answer_overdue", ["notify_payment_failed"])
BILLING_PAID = User(
    "resolve_payment", "billing", {"payment_outcome": "paid", "notes": "Paid by transfer."}, GOES_ON
)
BILLING_CANCELS = User(
    "resolve_payment",
    "billing",
    {"payment_outcome": "cancel", "cancellation_reason": "The card was declined twice."},
    ["notify_order_cancelled", "close_cancelled"],
)
LABELLED = Message("label_done", "label_created", {"order_number": ORDER, "label": "L-77"})
DISPATCHED = Message(
    "parcel_dispatched",
    "dispatched",
    {"order_number": ORDER, "carrier": "DHL", "tracking_number": "JD014600"},
    ["notify_tracking", "set_status_dispatched"],
)
DELIVERED = Message(
    "delivery_confirmed", "delivered", {"order_number": ORDER}, ["notify_delivered", "close_delivered"]
)
SHIPPED = [LABELLED, DISPATCHED]
LATE = ["notify_delivery_delayed"]
CHASED_DELIVERED = User(
    "chase_delivery",
    "support",
    {"delivery_status": "delivered", "notes": "The carrier confirmed it."},
    ["notify_delivered", "close_delivered"],
)
CHASED_IN_TRANSIT = User(
    "chase_delivery",
    "support",
    {"delivery_status": "in_transit", "notes": "Stuck at the hub."},
    ["reschedule_delivery_due"],
)
DELIVERED_STATUSES = ["awaiting_payment", "in_progress", "dispatched", "closed"]

PATHS = [
    path(
        "onboarding",
        "set_up_and_engaged",
        ONBOARDING_START,
        ONBOARDING_OPENED,
        [SET_UP, TUTORIAL_1, LINK_OPENED, TUTORIAL_2, TUTORIAL_3, *PROMOTIONS, ENGAGED],
        ["in_progress", "closed"],
        "engaged",
        {"record_account_setup": {"kind": "account_setup"}, "record_engagement": {"kind": "link_opened"}},
    ),
    path(
        "onboarding",
        "engaged_by_a_portal_visit_without_setup",
        {"trigger": "first_purchase"},
        ONBOARDING_OPENED,
        [SETUP_REMINDER, TUTORIAL_1, TUTORIAL_2, PORTAL_VISIT, TUTORIAL_3, *PROMOTIONS, ENGAGED],
        ["in_progress", "closed"],
        "engaged",
        {"record_engagement": {"kind": "portal_visit"}},
    ),
    path(
        "onboarding",
        "never_engaged_then_reached_out",
        ONBOARDING_START,
        ONBOARDING_OPENED,
        [SETUP_REMINDER, TUTORIAL_1, TUTORIAL_2, TUTORIAL_3, *PROMOTIONS, NOT_ENGAGED, REACH_OUT],
        ["in_progress", "closed"],
        "not_engaged",
    ),
    path(
        "order",
        "paid_shipped_delivered",
        ORDER_START,
        ORDER_OPENED,
        [PAID, *SHIPPED, DELIVERED, *SATISFIED],
        DELIVERED_STATUSES,
        "delivered",
        {
            "request_payment": {"system": "payments", "action": "capture", "reference": ORDER},
            "request_label": {"system": "warehouse", "action": "create_label", "reference": ORDER},
            "schedule_delivery_due": {"days": 5, "team": "support"},
        },
    ),
    path(
        "order",
        "payment_failed_then_paid_via_billing",
        ORDER_START,
        ORDER_OPENED,
        [PAYMENT_FAILED, BILLING_PAID, *SHIPPED, DELIVERED, *UNHAPPY],
        DELIVERED_STATUSES,
        "delivered",
    ),
    path(
        "order",
        "no_payment_answer_then_cancelled_by_billing",
        ORDER_START,
        ORDER_OPENED,
        [NO_PAYMENT_ANSWER, BILLING_CANCELS],
        ["awaiting_payment", "closed"],
        "order_cancelled",
    ),
    path(
        "order",
        "label_overdue_chased_then_delivered",
        ORDER_START,
        ORDER_OPENED,
        [PAID, Timer("label_overdue", LATE), CHASED_IN_TRANSIT, DELIVERED, *SILENT],
        ["awaiting_payment", "in_progress", "closed"],
        "delivered",
        {"reschedule_delivery_due": {"days": 5, "team": "support"}},
    ),
    path(
        "order",
        "dispatch_overdue_carrier_confirms_delivery",
        ORDER_START,
        ORDER_OPENED,
        [PAID, LABELLED, Timer("dispatch_overdue", LATE), CHASED_DELIVERED, *ANSWERED_AFTER_REMINDER],
        ["awaiting_payment", "in_progress", "closed"],
        "delivered",
    ),
    path(
        "order",
        "delivery_overdue_twice",
        ORDER_START,
        ORDER_OPENED,
        [
            PAID,
            *SHIPPED,
            Timer("delivery_overdue", LATE),
            CHASED_IN_TRANSIT,
            Timer("delivery_overdue", LATE),
            CHASED_DELIVERED,
            *SATISFIED,
        ],
        DELIVERED_STATUSES,
        "delivered",
    ),
]


@pytest.fixture
def walk(app, clock, recorded):  # noqa: F811  (the imported fixture)
    """run(path) on the shipped onboarding and order flows, with the shipped assignment rules."""
    deploy_shipped("onboarding", "order")
    deploy((ROOT / "processes" / "assignment.dmn").read_bytes(), actor="test")
    agent = make_user(
        "alice",
        "agent",
        teams=("support", "billing", "customer-success"),
        lead=True,
        skills="success,billing",
    )
    customer = make_customer(name="Ada Lovelace", **PROFILE)
    return lambda p: run(p, agent, customer, recorded, clock)


@pytest.mark.parametrize("path", PATHS, ids=lambda p: f"{p.process}-{p.name}")
def test_path_sets_statuses_and_calls_services_in_order(walk, path):
    done = walk(path)
    statuses = [params for _, operator, params in done.calls if operator == "ticket.set_status"]
    assert [params["status"] for params in statuses] == path.statuses
    assert statuses[-1].get("resolution") == path.resolution
    assert (done.ticket.status, done.ticket.resolution) == (path.statuses[-1], path.resolution)
    for task, expected in path.params.items():
        [params] = [params for name, _, params in done.calls if name == task][:1]
        assert {k: params[k] for k in expected} == expected
    for _, operator, params in done.calls:
        if operator == "notify.customer":
            assert params["body"].startswith("Dear Ada Lovelace,")
            assert "{" not in params["subject"] + params["body"]


@pytest.mark.parametrize("process", ["onboarding", "order"])
def test_the_paths_together_take_every_sequence_flow(walk, process):
    taken = set()
    for p in (p for p in PATHS if p.process == process):
        taken |= taken_flows(process, walk(p).pairs)
    assert {f.get("id") for f in flows(xml(process))} - taken == set()


def test_the_verdict_is_stored_on_the_customer_profile_and_read_by_the_rules(walk):
    customer_id = walk(PATHS[2]).ticket.customer_id
    db.session.expire_all()
    assert db.session.get(Customer, customer_id).engagement == "not_engaged"
    assert db.session.get(Customer, customer_id).profile()["engagement"] == "not_engaged"
    walk(PATHS[0])
    db.session.expire_all()
    customer = db.session.get(Customer, customer_id)
    assert customer.engagement == "engaged" and customer.last_engaged_at is not None
    assert ticket_inputs("general", customer.profile(), {})["engagement"] == "engaged"


ENGAGEMENT_PRIORITY = b"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="priority_definitions" name="Ticket priority"
  namespace="https://ticketflow.example/dmn">
  <decision id="priority" name="Ticket priority">
    <decisionTable id="priority_table" hitPolicy="FIRST">
      <input id="in_engagement" label="Onboarding verdict">
        <inputExpression id="in_engagement_expr" typeRef="string"><text>engagement</text></inputExpression>
      </input>
      <output id="out_priority" label="Priority" name="priority" typeRef="string" />
      <rule id="priority_rule_1">
        <description>a customer who did not engage: at least high</description>
        <inputEntry id="priority_rule_1_engagement"><text>"not_engaged"</text></inputEntry>
        <outputEntry id="priority_rule_1_priority"><text>"high"</text></outputEntry>
      </rule>
    </decisionTable>
  </decision>
</definitions>
"""


def test_a_priority_rule_reads_the_onboarding_verdict(app):
    deploy_shipped("general")
    deploy(ENGAGEMENT_PRIORITY, actor="test")
    engaged, silent = (
        make_customer(name="Ada Lovelace", tier="standard"),
        make_customer(name="Bo Ek", tier="standard"),
    )
    engaged.engagement, silent.engagement = "engaged", "not_engaged"
    db.session.commit()
    question = {"question": "Where is my parcel?", "category": "delivery"}
    assert start_process("general", silent.id, "Parcel?", question)[0].priority == "high"
    assert start_process("general", engaged.id, "Parcel?", question)[0].priority == "normal"


def test_a_customer_is_not_classified_before_the_period_ends(walk):
    other = make_customer(name="Grace Hopper")
    start_process("onboarding", other.id, "Welcome", {"trigger": "registration"}, actor="test")
    drain()
    assert db.session.get(Customer, other.id).engagement is None


def test_every_onboarding_mail_carries_the_tickets_tracking_link(walk):
    done = walk(PATHS[2])
    bodies = [
        params["body"]
        for name, _, params in done.calls
        if name.startswith(("send_tutorial", "send_promotion"))
    ]
    assert len(bodies) == 5
    for body in bodies:
        token = body.split("/portal/e/", 1)[1].split("?", 1)[0]
        assert read_tracking_token(token) == done.ticket.id


def test_order_messages_find_their_ticket_by_the_order_number_alone(app, clock):
    deploy_shipped("order")
    make_user("alice", "agent", teams=("support", "billing"))
    customer = make_customer()
    first, _ = start_process("order", customer.id, "Order B-1", {**ORDER_START, "order_number": "B-1"})
    second, _ = start_process("order", customer.id, "Order B-2", {**ORDER_START, "order_number": "B-2"})
    drain()
    delivery = deliver_correlated_message("payment_processed", {"order_number": "B-2", "status": "paid"})
    assert (delivery["ticket_id"], delivery["element_id"]) == (second.id, "payment_answer")
    drain()
    subjects = (
        db.session.execute(
            db.select(OutboxMessage.subject)
            .where(OutboxMessage.ticket_id == second.id)
            .order_by(OutboxMessage.id)
        )
        .scalars()
        .all()
    )
    assert subjects[-1].endswith("Payment received for order B-2")
    assert db.session.get(type(first), first.id).status == "awaiting_payment"
