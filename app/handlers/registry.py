"""The handler registry: `@handler(name)` registers a function for an operator; `HANDLERS` maps them."""

from collections.abc import Callable
from dataclasses import dataclass


class HandlerError(Exception):
    """A handler could not do its work this time (its provider failed or was not reachable, what
    it needs is not there yet): the job is retried by its retry policy, then an incident.

    Any other exception a handler lets out is treated the same way.
    """


class HandlerRefused(HandlerError):
    """A handler refuses its input (a missing or malformed parameter, an amount that is not an
    amount, no ticket): trying again cannot help, so the job opens an incident at once, with
    this reason, and is never retried by its policy."""


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
