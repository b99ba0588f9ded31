"""Service-task handlers by operator name: plain functions `handler(params, ctx) -> dict`.

The worker calls them after commit, outside any engine command, inside a transaction of
their own; handlers registered with `inline=True` (effects that stay in our database) run inside
the engine command that reaches their task instead. Handlers that move money or goods key their
rows by `ctx.idempotency_key`, so a retried or re-run job never pays or restocks twice. A
handler raises `HandlerRefused` for input it refuses (an incident at once) and `HandlerError`
for a failure a later try may not have (retried by the task's retry policy).
"""

from app.handlers import (  # noqa: F401  (registration)
    approval,
    backoffice,
    calendar,
    credit,
    engagement,
    escalation,
    feedback,
    inventory,
    money,
    tickets,
)
from app.handlers.registry import (
    HANDLERS,
    INLINE,
    PARAMETERS,
    Handler,
    HandlerContext,
    HandlerError,
    HandlerRefused,
    handler,
)

__all__ = [
    "HANDLERS",
    "INLINE",
    "PARAMETERS",
    "Handler",
    "HandlerContext",
    "HandlerError",
    "HandlerRefused",
    "handler",
]
