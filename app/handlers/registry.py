"""The handler registry: `@handler(name)` registers a function for an operator; `HANDLERS` maps them."""

from collections.abc import Callable
from dataclasses import dataclass, field


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
    element_id: str | None = None  # the service task's BPMN id
    # Inline only: the user tasks (BPMN id -> username) that the running command completed on this
    # instance, whose `task_completed` rows are written at its commit (a job reads them from history).
    completed_now: dict = field(default_factory=dict)


Handler = Callable[[dict, HandlerContext], dict]
HANDLERS: dict[str, Handler] = {}
# operator name -> its parameters as (name, type, required), for the studio's properties panel.
PARAMETERS: dict[str, tuple[tuple[str, str, bool], ...]] = {}
# Operators whose whole effect stays in our database (the ticket's rows, history, outbox rows the
# worker sends later): the engine runs them inside the command that reaches their task.
INLINE: set[str] = set()


def handler(name: str, parameters: tuple[tuple[str, str, bool], ...] = (), *, inline: bool = False):
    """Register a function as the handler of an operator name, with the parameters it reads
    as (name, type as a diagram writes it: str int float bool list, required).

    `inline=True` declares that the handler's effect stays in our database: the engine runs it
    inside the command that reaches its task, so it commits or rolls back with that command
    (exactly once, no job, no second transaction). When it raises, the command is rolled back
    and run again with that task left to the worker as a job, with its retry policy. Handlers
    whose effect leaves the database, or that move money (a provider may be called), stay jobs with idempotency keys.
    """

    def register(fn: Handler) -> Handler:
        HANDLERS[name] = fn
        PARAMETERS[name] = tuple(parameters)
        if inline:
            INLINE.add(name)
        else:
            INLINE.discard(name)
        return fn

    return register
