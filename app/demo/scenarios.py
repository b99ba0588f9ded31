"""What happens to each demo ticket: its start data and the steps customers and agents take.

A scenario is a list of steps, each done a while after the one before (`Step.after`, hours):
complete the open user task (one of `names`) with `data`, a customer reply, a rating of the
satisfaction survey, or cancelling the ticket. The mix follows the shipped types' paths
(docs/workflows.md): returns approved (refund or credit note), refused, asked for more
information (answered or not); credit approved, denied, with missing data; general questions
answered at once or worked on over several rounds; complaints answered in time or escalated when
the first response is late. A share of every agent step is slow (days), which breaches SLAs.
"""

import random
from dataclasses import dataclass, field

FIRST_NAMES = "Ada Ben Chloe Dev Eva Finn Gia Hugo Ines Jon Kai Lea Milo Nora Omar Pia Rui Sara Tom Uma Vic Wen Yan Zoe".split()
LAST_NAMES = "Berg Costa Dubois Eriksen Fischer Garcia Haddad Ito Jansen Kowalski Larsen Mensah Novak Okafor Rossi Silva Tanaka Weber".split()
TIERS = ("standard",) * 6 + ("silver",) * 3 + ("gold",) * 2 + ("platinum",)
TYPE_MIX = (
    ("return", 30),
    ("general", 25),
    ("complaint", 17),
    ("credit", 13),
    ("order", 10),
    ("onboarding", 5),
)
SLOW_SHARE = 0.05  # agent steps that wait days instead of hours
RATED_SHARE = 0.7  # closed tickets whose survey gets an answer

SUBJECTS = {
    "return": [
        "Kettle leaks",
        "Wrong size shoes",
        "Parcel arrived damaged",
        "Not as described",
        "Changed my mind",
    ],
    "general": [
        "Do you ship to Norway?",
        "Where is my parcel?",
        "Invoice address",
        "Password reset",
        "Gift wrapping?",
    ],
    "complaint": [
        "Courier was rude",
        "Late delivery again",
        "Charged twice",
        "Nobody answered",
        "Broken on arrival",
    ],
    "order": ["Your order", "Order confirmation"],
    "onboarding": ["Welcome", "Welcome aboard"],
    "credit": [
        "Credit line for spring stock",
        "Higher limit please",
        "Trade account",
        "Credit for a new shop",
    ],
}
COMMENTS = {
    5: ["Quick and friendly.", "Sorted in no time, thanks!", "Great service."],
    4: ["Good, a bit slow.", "Fine overall.", "Helpful agent."],
    3: ["It was okay.", "Took a while.", "Answer was vague."],
    2: ["It took far too long.", "I had to ask twice.", "Not really solved."],
    1: ["Nobody cared.", "Still waiting for my money.", "Worst service ever."],
}
RATINGS_ON_TIME = (5, 5, 5, 5, 4, 4, 4, 3, 3, 2)
RATINGS_LATE = (5, 4, 4, 3, 3, 3, 2, 2, 1, 1)


@dataclass
class Step:
    """One action on a ticket, `after` hours after the previous one (pushed into office hours for staff)."""

    kind: str  # task | reply | rate | cancel | message (data: {"name", "payload"}, from another system)
    after: float
    names: tuple[str, ...] = ()
    data: dict = field(default_factory=dict)
    staff: bool = True


@dataclass
class Scenario:
    ticket_type: str
    subject: str
    data: dict
    steps: list[Step]
    path: str


def customer(rng: random.Random, i: int) -> dict:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    return {
        "name": f"{first} {last}",
        "email": f"{first.lower()}.{last.lower()}{i}@example.com",
        "tier": rng.choice(TIERS),
        "tenure_months": rng.randint(0, 96),
        "order_count": rng.randint(1, 250),
        "on_time_payment_ratio": round(rng.uniform(0.6, 1.0), 2),
        "open_balance": round(rng.choice((0, 0, 0, rng.uniform(10, 900))), 2),
    }


def _agent_hours(rng: random.Random, typical: float) -> float:
    if rng.random() < SLOW_SHARE:
        return rng.uniform(3, 8) * 24
    return rng.expovariate(1 / typical)


def _task(rng, names, data, typical: float) -> Step:
    return Step("task", _agent_hours(rng, typical), tuple(names.split()), data)


def _reply(rng) -> Step:
    return Step("reply", rng.uniform(1, 40), data={"message": "Here is what you asked for."}, staff=False)


def _weighted(rng, options):
    return rng.choices([o for o, _ in options], weights=[w for _, w in options])[0]


def pick(rng: random.Random) -> Scenario:
    """A new ticket: its type, start data and path."""
    ticket_type = _weighted(rng, TYPE_MIX)
    subject = rng.choice(SUBJECTS[ticket_type])
    return {
        "return": _return,
        "credit": _credit,
        "general": _general,
        "complaint": _complaint,
        "order": _order,
        "onboarding": _onboarding,
    }[ticket_type](rng, subject)


def _return(rng, subject) -> Scenario:
    resolution = rng.choice(("refund", "refund", "credit_note"))
    data = {
        "order_number": f"SO-{rng.randint(10000, 99999)}",
        "items": [{"sku": rng.choice(("KET-1", "SHOE-42", "MUG-2", "LAMP-7")), "qty": rng.randint(1, 3)}],
        "reason": rng.choice(("damaged", "wrong_item", "not_as_described", "no_longer_needed")),
        "amount": round(rng.uniform(9, 400), 2),
        "preferred_resolution": resolution,
    }
    accept = _task(rng, "review_request", {"decision": "accept", "resolution": resolution}, 6)
    receive = Step(
        "task",
        rng.uniform(20, 70),
        ("receive_item",),
        {"item_received": True, "condition": "used", "refund_amount": data["amount"]},
    )
    ask = _task(rng, "review_request", {"decision": "more_info", "question": "A photo of the damage?"}, 6)
    path = _weighted(
        rng, (("accepted", 50), ("rejected", 20), ("more_info", 16), ("no_response", 8), ("cancelled", 2))
    )
    steps = {
        "accepted": [accept, receive],
        "rejected": [
            _task(rng, "review_request", {"decision": "reject", "rejection_reason": "Used goods."}, 6)
        ],
        "more_info": [ask, _reply(rng), accept, receive],
        "no_response": [ask],
        "cancelled": [Step("cancel", rng.uniform(1, 20), staff=False)],
    }[path]
    return Scenario("return", subject, data, steps, f"return {path}")


def _credit(rng, subject) -> Scenario:
    requested = float(rng.choice((1000, 2500, 5000, 12000, 30000)))
    data = {
        "requested_amount": requested,
        "purpose": "Stock",
        "company_name": f"{rng.choice(LAST_NAMES)} GmbH",
    }
    amount = (
        0.0 if rng.random() < 0.05 else round(requested * rng.choice((0.5, 0.8, 1.0)), 2)
    )  # 0: an incident
    decide = (
        _task(rng, "decide_credit", {"decision": "approve", "approved_amount": amount}, 10)
        if rng.random() < 0.6
        else _task(rng, "decide_credit", {"decision": "deny", "notes": "Too many open invoices."}, 10)
    )
    ok = _task(rng, "review_credit_data", {"data_complete": True}, 6)
    missing = _task(rng, "review_credit_data", {"data_complete": False, "missing_fields": "Your tax id."}, 6)
    path = _weighted(rng, (("decided", 70), ("missing_data", 20), ("no_response", 8), ("cancelled", 2)))
    steps = {
        "decided": [ok, decide],
        "missing_data": [missing, _reply(rng), ok, decide],
        "no_response": [missing],
        "cancelled": [Step("cancel", rng.uniform(1, 20), staff=False)],
    }[path]
    return Scenario("credit", subject, data, steps, f"credit {path}")


def _general(rng, subject) -> Scenario:
    data = {
        "question": subject,
        "category": rng.choice(("order", "delivery", "payment", "product", "account")),
    }
    answered = {"answer": "Here is the answer.", "information_given": True}
    not_yet = {"answer": "Checking with the warehouse.", "information_given": False}
    path = _weighted(rng, (("answered", 70), ("kept_working", 25), ("cancelled", 5)))
    steps = {
        "answered": [_task(rng, "answer_question", answered, 4)],
        "kept_working": [
            _task(rng, "answer_question", not_yet, 4),
            *([_task(rng, "answer_question", not_yet, 12)] if rng.random() < 0.4 else []),
            _task(rng, "answer_question", answered, 12),
        ],
        "cancelled": [Step("cancel", rng.uniform(1, 20), staff=False)],
    }[path]
    return Scenario("general", subject, data, steps, f"general {path}")


def _complaint(rng, subject) -> Scenario:
    data = {"description": subject, "severity": rng.choice(("low", "medium", "medium", "high", "critical"))}
    escalated = rng.random() < 0.35
    first = Step(
        "task",
        rng.uniform(6, 30) if escalated else rng.uniform(0.2, 1.5),
        ("initial_response", "lead_initial_response"),
        {"response": "We are sorry; we are looking into it."},
    )
    outcome = rng.choice(("satisfactory", "satisfactory", "unsatisfactory"))
    steps = [
        first,
        _task(rng, "review_complaint", {"findings": "The courier confirmed it."}, 5),
        _task(
            rng, "resolve_complaint", {"resolution_summary": "We changed the courier.", "outcome": outcome}, 8
        ),
    ]
    return Scenario(
        "complaint", subject, data, steps, "complaint escalated" if escalated else "complaint answered"
    )


def _message(after: float, name: str, payload: dict) -> Step:
    return Step("message", after, data={"name": name, "payload": payload}, staff=False)


def _order(rng, subject) -> Scenario:
    number = f"SO-{rng.randint(100000, 999999)}"
    data = {
        "order_number": number,
        "amount": round(rng.uniform(15, 400), 2),
        "payment_method": rng.choice(("card", "card", "paypal", "invoice")),
    }
    path = _weighted(rng, (("delivered", 65), ("payment_failed", 15), ("cancelled", 5), ("late", 15)))
    paid = _message(rng.uniform(0.05, 2), "payment_processed", {"order_number": number, "status": "paid"})
    failed = _message(
        rng.uniform(0.05, 2),
        "payment_processed",
        {"order_number": number, "status": "failed", "reason": rng.choice(("card declined", "expired card"))},
    )
    shipped = [
        _message(rng.uniform(4, 20), "label_created", {"order_number": number}),
        _message(
            rng.uniform(2, 12),
            "dispatched",
            {
                "order_number": number,
                "carrier": rng.choice(("DHL", "UPS", "DPD")),
                "tracking_number": f"TR{number[3:]}",
            },
        ),
    ]
    delivered = _message(rng.uniform(24, 72), "delivered", {"order_number": number})
    billing_paid = _task(rng, "resolve_payment", {"payment_outcome": "paid", "notes": "Paid by transfer."}, 6)
    steps = {
        "delivered": [paid, *shipped, delivered],
        "payment_failed": [failed, billing_paid, *shipped, delivered],
        "cancelled": [
            failed,
            _task(
                rng,
                "resolve_payment",
                {"payment_outcome": "cancel", "cancellation_reason": "No payment arrived."},
                6,
            ),
        ],
        "late": [
            paid,
            *shipped,
            Step(
                "task",
                24 * 8,
                ("chase_delivery",),
                {"delivery_status": "delivered", "notes": "Carrier confirmed."},
            ),
        ],
    }[path]
    if path != "cancelled":
        steps += feedback_steps(rng, f"order {path}")
    return Scenario("order", subject, data, steps, f"order {path}")


def _onboarding(rng, subject) -> Scenario:
    data = {"trigger": rng.choice(("registration", "first_purchase"))}
    path = _weighted(rng, (("engaged", 60), ("not_engaged", 40)))
    steps = {
        "engaged": [
            Step(
                "reply", rng.uniform(1, 40), data={"message": "E-mail me about offers, please."}, staff=False
            ),
            _message(rng.uniform(30, 120), "engagement", {"kind": "link_opened", "campaign": "tutorial_1"}),
        ],
        "not_engaged": [
            Step(
                "task",
                24 * 36,
                ("reach_out",),
                {"contacted": True, "outcome": "needs_help", "notes": "Sent a video tutorial."},
            )
        ],
    }[path]
    return Scenario("onboarding", subject, data, steps, f"onboarding {path}")


def feedback_steps(rng: random.Random, path: str) -> list[Step]:
    """The survey answer (or none) after a ticket closes: the survey goes out a day after closing."""
    if path.endswith(("no_response", "cancelled")) or rng.random() > RATED_SHARE:
        return []
    after = 24 + (
        rng.uniform(1, 60) if rng.random() < 0.8 else rng.uniform(80, 200)
    )  # before or after the reminder
    return [Step("rate", after, staff=False)]


def rating(rng: random.Random, late: bool) -> tuple[int, str]:
    value = rng.choice(RATINGS_LATE if late else RATINGS_ON_TIME)
    return value, rng.choice(COMMENTS[value]) if rng.random() < 0.6 else ""


def follow_up(rng: random.Random) -> Step:
    data = {
        "contacted": True,
        "outcome": rng.choice(("resolved", "compensated", "unreachable")),
        "notes": "Called them.",
    }
    return _task(rng, "follow_up", data, 10)
