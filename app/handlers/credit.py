"""Credit risk assessment: a score from the customer's profile and a proposed credit limit."""

from app.handlers.common import ticket_of
from app.handlers.registry import HandlerContext, handler


def score_profile(tenure_months: int, order_count: int, on_time_ratio: float, open_balance: float) -> int:
    """0-100: tenure (30), order volume (25), payment history (35), minus open balance (<=25)."""
    tenure = min(max(tenure_months, 0), 36) / 36 * 30
    volume = min(max(order_count, 0), 60) / 60 * 25
    payment = min(max(on_time_ratio, 0.0), 1.0) * 35
    balance_penalty = min(max(open_balance, 0.0) / 2000 * 25, 25)
    return max(0, min(100, round(tenure + volume + payment + 10 - balance_penalty)))


@handler("credit.assess", inline=True)
def assess_credit(params: dict, ctx: HandlerContext) -> dict:
    """Score the ticket's customer and propose a credit limit."""
    customer = ticket_of(ctx).customer
    score = score_profile(
        customer.tenure_months, customer.order_count, customer.on_time_payment_ratio, customer.open_balance
    )
    risk = "low" if score >= 70 else "medium" if score >= 45 else "high"
    proposed = {"low": score * 50.0, "medium": score * 20.0, "high": 0.0}[risk]
    return {"score": score, "risk": risk, "proposed_limit": round(proposed, 2)}
