"""Typed errors of engine commands; the API and pages turn each into one clear 4xx answer."""

from dataclasses import dataclass


@dataclass
class Problem:
    """One thing wrong with a diagram, named by its BPMN element id when there is one."""

    element_id: str | None
    message: str
    file: str | None = None

    def as_dict(self) -> dict:
        return {"file": self.file, "element_id": self.element_id, "message": self.message}

    def in_file(self, name: str | None) -> "Problem":
        """The same problem, naming the bundle file it is in (kept when already named)."""
        return self if self.file or name is None else Problem(self.element_id, self.message, name)


class EngineError(Exception):
    """Base of every error a command raises on purpose."""

    status = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class NotFound(EngineError):
    status = 404


class Forbidden(EngineError):
    """The command checker refused the person this command (403); the message says who may."""

    status = 403


class TaskNotOpen(EngineError):
    """The task was completed, cancelled or escalated meanwhile (409)."""

    status = 409


class Conflict(EngineError):
    status = 409


class AlreadyAnswered(Conflict):
    """A single-use request (a survey link) was answered already (409)."""


class AmbiguousMessage(Conflict):
    """Several waiting instances match a message sent without a ticket id (409).

    `matches` lists them: `{ticket_id, instance_id, element_id}` each, oldest wait first.
    """

    def __init__(self, name: str, matches: list[dict]):
        tickets = ", ".join(
            str(m["ticket_id"] if m["ticket_id"] is not None else f"instance {m['instance_id']}")
            for m in matches
        )
        super().__init__(
            f"{len(matches)} waiting tickets match message '{name}' ({tickets}); "
            "send its ticket_id or more correlation keys"
        )
        self.matches = matches


class InvalidData(EngineError):
    """Submitted data does not satisfy the form; `errors` maps field to message (422)."""

    status = 422

    def __init__(self, errors: dict[str, str], message: str = "the data does not satisfy the form"):
        super().__init__(message)
        self.errors = errors


class DiagramRejected(EngineError):
    """A diagram failed a deploy check; `problems` lists every one (422)."""

    status = 422

    def __init__(self, problems: list[Problem]):
        super().__init__(
            "; ".join(
                f"{p.file + ': ' if p.file else ''}{p.element_id or 'diagram'}: {p.message}" for p in problems
            )
        )
        self.problems = problems


class StepFailed(EngineError):
    """An engine step (a condition, a script, a timer) failed; nothing was saved (422).

    `missing` names the variable or key the step read and the process data did not have.
    """

    status = 422

    def __init__(self, element_id: str | None, message: str, missing: str | None = None):
        super().__init__(message)
        self.element_id = element_id
        self.missing = missing

    def as_dict(self) -> dict:
        found = {"element_id": self.element_id, "message": self.message}
        return {**found, "missing": self.missing} if self.missing else found
