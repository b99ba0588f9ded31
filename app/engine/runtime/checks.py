"""The command checker hook: who may run a command on a task or a ticket is decided outside the engine.

As Camunda's `CommandChecker`: the app registers checkers (`create_app` registers
`app.access.POLICY`) and every command that acts for a person asks each of them before it
changes anything; a refusal becomes the command's error carrying the checker's reason
(`Conflict` 409 for the task commands, `Forbidden` 403 for cancelling a ticket). A command run
for nobody (the worker, the CLI: `user` None) is not checked. With no checker registered a
command run for a person fails rather than allowing everything.

A checker has one method per command, each returning a decision with `allowed` and `reason`:

    may_claim(user, task)          claim_task
    may_release(user, task)        release_task
    may_complete(user, task)       complete_task
    may_reassign(user, task, to)   reassign_task
    may_cancel(user, ticket)       cancel_instance
"""

from typing import Protocol

from flask import Flask, current_app

from app.engine.errors import EngineError

EXTENSION = "ticketflow_command_checkers"


class Decision(Protocol):
    allowed: bool
    reason: str


class CommandChecker(Protocol):
    def may_claim(self, user, task) -> Decision: ...

    def may_release(self, user, task) -> Decision: ...

    def may_complete(self, user, task) -> Decision: ...

    def may_reassign(self, user, task, assignee) -> Decision: ...

    def may_cancel(self, user, ticket) -> Decision: ...


def register_checker(app: Flask, checker: CommandChecker) -> None:
    """Have every command run in `app` for a person ask `checker` first (once per checker)."""
    checkers = app.extensions.setdefault(EXTENSION, [])
    if checker not in checkers:
        checkers.append(checker)


def check(question: str, error: type[EngineError], user, *objects) -> None:
    """Ask every registered checker `question` (`may_claim` ...); the first refusal raises `error(reason)`."""
    if user is None:
        return
    checkers = current_app.extensions.get(EXTENSION)
    if not checkers:
        raise RuntimeError("no command checker is registered (create_app registers app.access.POLICY)")
    for checker in checkers:
        decision = getattr(checker, question)(user, *objects)
        if not decision.allowed:
            raise error(decision.reason)
