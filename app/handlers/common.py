"""Small helpers the handlers share: reading parameters and the ticket of a job."""

from decimal import Decimal, InvalidOperation

from app.extensions import db
from app.handlers.registry import HandlerContext, HandlerRefused
from app.models import Ticket


def ticket_of(ctx: HandlerContext) -> Ticket:
    ticket = db.session.get(Ticket, ctx.ticket_id) if ctx.ticket_id else None
    if ticket is None:
        raise HandlerRefused("the job has no ticket")
    return ticket


def money(params: dict, name: str = "amount") -> Decimal:
    """A positive amount with two decimals, or HandlerRefused naming the parameter."""
    try:
        value = Decimal(str(params.get(name))).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise HandlerRefused(f"parameter '{name}' must be a number, got {params.get(name)!r}") from None
    if value <= 0:
        raise HandlerRefused(f"parameter '{name}' must be positive, got {value}")
    return value


def text(params: dict, name: str, required: bool = True) -> str | None:
    value = params.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        raise HandlerRefused(f"parameter '{name}' must be a non-empty string")
    return value
