"""Service-task handlers by operator name: plain functions `handler(params, ctx) -> dict`.

The worker calls them after commit, outside any engine command, inside a transaction of
their own. Handlers that move money or goods key their rows by `ctx.idempotency_key`, so a
retried or re-run job never pays or restocks twice.
"""

from collections.abc import Callable
from dataclasses import dataclass


class HandlerError(Exception):
    """A handler refuses its input or its provider failed; the job is retried, then an incident."""


@dataclass(frozen=True)
class HandlerContext:
    ticket_id: int | None
    instance_id: int
    idempotency_key: str
    attempt: int


Handler = Callable[[dict, HandlerContext], dict]
HANDLERS: dict[str, Handler] = {}


def handler(name: str):
    """Register a function as the handler of an operator name."""

    def register(fn: Handler) -> Handler:
        HANDLERS[name] = fn
        return fn

    return register


from app.handlers import calendar, credit, escalation, feedback, inventory, money, tickets  # noqa: E402,F401  (registration)
