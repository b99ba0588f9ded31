"""Putting returned items back into stock, once per job."""

from app.clock import utcnow
from app.extensions import db
from app.handlers.registry import HandlerContext, HandlerRefused, handler
from app.models import StockMovement


@handler("inventory.restock", parameters=(("items", "list", True),), inline=True)
def restock(params: dict, ctx: HandlerContext) -> dict:
    """Record each returned item (`items`: [{sku, qty}]) as a stock movement."""
    items = params.get("items")
    if not isinstance(items, list):
        raise HandlerRefused("parameter 'items' must be a list of {sku, qty}")
    total = 0
    for index, item in enumerate(items):
        sku, qty = (item or {}).get("sku"), (item or {}).get("qty")
        if not isinstance(sku, str) or not isinstance(qty, int) or qty <= 0:
            raise HandlerRefused(f"items[{index}] needs a sku and a positive integer qty")
        key = f"{ctx.idempotency_key}:{index}"
        exists = db.session.execute(
            db.select(StockMovement.id).where(StockMovement.idempotency_key == key)
        ).scalar()
        if exists is None:
            db.session.add(
                StockMovement(
                    ticket_id=ctx.ticket_id, sku=sku, quantity=qty, idempotency_key=key, created_at=utcnow()
                )
            )
        total += qty
    return {"restocked": total}
