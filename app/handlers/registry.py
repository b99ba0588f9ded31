"""The handler registry: `@handler(name)` registers a function for an operator; `HANDLERS` maps them."""

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
