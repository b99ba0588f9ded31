"""Money-moving handlers: refunds, credit notes and credit balances, each written once.

With `PAYMENT_PROVIDER_URL` set, the provider pays first (over HTTP, with the job's idempotency
key, app/handlers/provider.py) and the ledger row records it; otherwise the row is the payment.
"""

from decimal import Decimal

from app.clock import utcnow
from app.extensions import db
from app.handlers import provider
from app.handlers.common import money, ticket_of
from app.handlers.registry import HandlerContext, handler
from app.models import LedgerEntry


def _write_once(kind: str, amount: Decimal, ctx: HandlerContext) -> dict:
    existing = db.session.execute(
        db.select(LedgerEntry).where(LedgerEntry.idempotency_key == ctx.idempotency_key)
    ).scalar()
    reference = None
    if existing is None:
        ticket = ticket_of(ctx)
        if provider.provider_url():  # paid by the provider first, once per key; then recorded
            reference = provider.pay(
                kind, amount, ticket.currency, ticket.id, ticket.customer_id, ctx.idempotency_key
            )
        existing = LedgerEntry(
            kind=kind,
            ticket_id=ticket.id,
            customer_id=ticket.customer_id,
            amount=amount,
            currency=ticket.currency,
            idempotency_key=ctx.idempotency_key,
            created_at=utcnow(),
        )
        db.session.add(existing)
        db.session.flush()  # a concurrent duplicate fails here on the UNIQUE key
    return {
        "ledger_id": existing.id,
        "amount": float(existing.amount),
        "currency": existing.currency,
        "kind": existing.kind,
        **({"provider_id": reference} if reference else {}),
    }


@handler("refund.issue", parameters=(("amount", "float", True),))
def issue_refund(params: dict, ctx: HandlerContext) -> dict:
    """Refund `amount` to the ticket's customer."""
    return _write_once("refund", money(params), ctx)


@handler("credit_note.issue", parameters=(("amount", "float", True),))
def issue_credit_note(params: dict, ctx: HandlerContext) -> dict:
    """Issue a credit note of `amount` to the ticket's customer."""
    return _write_once("credit_note", money(params), ctx)


@handler("credit.assign_balance", parameters=(("amount", "float", True),))
def assign_credit_balance(params: dict, ctx: HandlerContext) -> dict:
    """Grant the customer a credit balance of `amount`."""
    return _write_once("credit_balance", money(params), ctx)
