"""Approval limits and the four-eyes check: does an amount need a second approver?

`limit_of(user)` is what a person may grant alone: their own limit when an admin set one, else
the highest limit of their role and (for team leads) of the role "lead"; no row means 0, so an
unconfigured system asks for a second approver rather than paying out.

The handlers `credit.check_approval` and `refund.check_approval` run as service tasks before the
money moves. They read who decided from the ticket's history (never from the form) and the
limit from the `approval_limit` table, so a gateway after them decides on figures nobody could
type into a form. They run inline, in the command that reaches them: when that command is the
deciding task's completion, its `task_completed` row is written only at the commit, and the
engine passes who completed it in `ctx.completed_now`.
"""

from decimal import Decimal, InvalidOperation

from app.extensions import db
from app.handlers.common import money, text, ticket_of
from app.handlers.registry import HandlerContext, HandlerRefused, handler
from app.models import ApprovalLimit, HistoryEvent, TeamMember, User

ZERO = Decimal("0.00")


def limit_of(user: User | None) -> Decimal:
    """What `user` may approve alone: their own limit, else the best of their role's and "lead"'s."""
    if user is None:
        return ZERO
    own = db.session.execute(db.select(ApprovalLimit.amount).where(ApprovalLimit.user_id == user.id)).scalar()
    if own is not None:
        return Decimal(own)
    roles = [user.role]
    leads = db.session.execute(
        db.select(TeamMember.team_id)
        .where(TeamMember.user_id == user.id, TeamMember.is_lead.is_(True))
        .limit(1)
    ).scalar()
    if leads is not None:
        roles.append("lead")
    amounts = db.session.execute(
        db.select(ApprovalLimit.amount).where(ApprovalLimit.role.in_(roles))
    ).scalars()
    return max((Decimal(a) for a in amounts), default=ZERO)


def decided_by(ctx: HandlerContext, ticket_id: int, element_id: str) -> User | None:
    """Who completed the user task `element_id` last on this instance: the running command, when it
    did (inline), else the history."""
    username = (
        ctx.completed_now.get(element_id)
        or db.session.execute(
            db.select(HistoryEvent.actor)
            .where(
                HistoryEvent.ticket_id == ticket_id,
                HistoryEvent.instance_id == ctx.instance_id,
                HistoryEvent.kind == "task_completed",
                HistoryEvent.element_id == element_id,
            )
            .order_by(HistoryEvent.id.desc())
            .limit(1)
        ).scalar()
    )
    if not username:
        return None
    return db.session.execute(db.select(User).where(User.username == username)).scalar()


def _figure(params: dict, name: str) -> Decimal | None:
    """An optional amount parameter as Decimal (None when absent or not a number)."""
    value = params.get(name)
    if value is None or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        return None


def _check(
    amount: Decimal,
    ceiling: Decimal | None,
    ceiling_name: str,
    ctx: HandlerContext,
    element: str,
    limited: bool,
) -> dict:
    ticket = ticket_of(ctx)
    person = decided_by(ctx, ticket.id, element)
    limit = limit_of(person)
    reasons, code = [], ticket.currency
    if ceiling is not None and amount > ceiling:
        reasons.append(f"{amount} {code} is above the {ceiling_name} {ceiling} {code}")
    if limited and amount > limit:
        who = person.username if person else "nobody known"
        reasons.append(f"{amount} {code} is above the approval limit of {who} ({limit} {code})")
    return {
        "required": bool(reasons),
        "reason": "; ".join(reasons)
        or f"within the {ceiling_name}" + (" and the approval limit" if limited else ""),
        "amount": float(amount),
        "ceiling": float(ceiling) if ceiling is not None else None,
        "limit": float(limit),
        "proposer": person.username if person else None,
        "proposer_name": person.name if person else None,
        "currency": code,
    }


@handler(
    "credit.check_approval",
    parameters=(("amount", "float", True), ("proposed", "float", False), ("decided_in", "str", True)),
    inline=True,
)
def check_credit_approval(params: dict, ctx: HandlerContext) -> dict:
    """Whether a credit of `amount` needs a second approver: above the assessment's `proposed`
    limit or above the approval limit of whoever completed the task `decided_in`."""
    proposed = _figure(params, "proposed")
    return _check(money(params), proposed, "proposed limit", ctx, text(params, "decided_in"), limited=True)


@handler(
    "refund.check_approval",
    parameters=(("amount", "float", True), ("decided_in", "str", True)),
    inline=True,
)
def check_refund_approval(params: dict, ctx: HandlerContext) -> dict:
    """Whether a refund of `amount` needs a second approver: above the order amount the ticket
    recorded when it opened (the lower of its `order_amount` and its `amount`). `decided_in`
    names the task whose person proposed it (shown to the approver)."""
    recorded = ticket_of(ctx).data or {}
    known = [f for f in (_figure(recorded, "order_amount"), _figure(recorded, "amount")) if f is not None]
    ceiling = min(known, default=None)  # the lower of the two when the ticket records both
    if ceiling is None:
        raise HandlerRefused("the ticket records no order amount to check the refund against")
    return _check(money(params), ceiling, "order amount", ctx, text(params, "decided_in"), limited=False)
