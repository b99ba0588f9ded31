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
# operator name -> its parameters as (name, type, required), for the studio's properties panel.
PARAMETERS: dict[str, tuple[tuple[str, str, bool], ...]] = {}


def handler(name: str, parameters: tuple[tuple[str, str, bool], ...] = ()):
    """Register a function as the handler of an operator name, with the parameters it reads
    as (name, type as a diagram writes it: str int float bool list, required)."""

    def register(fn: Handler) -> Handler:
        HANDLERS[name] = fn
        PARAMETERS[name] = tuple(parameters)
        return fn

    return register
