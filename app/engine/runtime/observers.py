"""The command observer hook: the app watches commands (their duration, their outcome) from outside.

As the command checkers (checks.py): the app registers observers (`create_app` registers the
metrics' latency histogram, app/metrics) and `run_command` tells each of them, once per
outermost command, its name, how long it took in seconds (retries included) and how it ended:
`ok`, `error` (the command raised, nothing was saved) or `conflict` (every retry lost a race).
An observer that fails is logged and ignored: watching never changes what a command does.
"""

import logging
from collections.abc import Callable

from flask import Flask, current_app, has_app_context

log = logging.getLogger(__name__)
EXTENSION = "ticketflow_command_observers"
Observer = Callable[[str, float, str], None]


def register_observer(app: Flask, observer: Observer) -> None:
    """Have every command run in `app` reported to `observer(name, seconds, outcome)` (once per observer)."""
    observers = app.extensions.setdefault(EXTENSION, [])
    if observer not in observers:
        observers.append(observer)


def command_name(body: Callable) -> str:
    """The command a body belongs to: `start_process` for `start_process.<locals>.body`."""
    qualname = getattr(body, "__qualname__", "") or "command"
    return qualname.split(".<locals>", 1)[0].rsplit(".", 1)[-1]


def notify(body: Callable, seconds: float, outcome: str) -> None:
    """Tell every registered observer how the command of `body` went."""
    if not has_app_context():
        return
    for observer in current_app.extensions.get(EXTENSION, ()):
        try:
            observer(command_name(body), seconds, outcome)
        except Exception:  # an observer never breaks a command
            log.exception("command observer %r failed", observer)
