"""Fault injection for the fault suite (faults/, `make faults`): named crash points that exist
only when `TICKETFLOW_FAULT` is set in the environment. Without it `point()` returns at once
and `install()` registers nothing.

`TICKETFLOW_FAULT=name:action[:nth]` (several separated by commas):

- `name` is a point: `after_provider_call` (the worker ran a handler, its result is not
  committed), `before_complete_job` (the handler's rows are committed, the job is not marked
  done), `mid_timer_fire` (a timer's command has written, not committed), `mid_task_completion`
  (a web request completing a task has written, not committed);
- `action` is `kill` (SIGKILL to this process, as `kill -9`: nothing is cleaned up) or `pause`
  (wait one second, so a test can signal the process while it is in there);
- `nth` (default 1): act on that pass of the point in this process, not before and not after.

Every time a point acts it says so on stderr (`fault point NAME reached`), before it acts.
"""

import os
import signal
import sys
import time

ENV = "TICKETFLOW_FAULT"
POINTS = ("after_provider_call", "before_complete_job", "mid_timer_fire", "mid_task_completion")
_plan: dict[str, tuple[str, int]] = {}
_passes: dict[str, int] = {}
_installed = False


def _parse(raw: str) -> dict[str, tuple[str, int]]:
    plan = {}
    for part in filter(None, (p.strip() for p in raw.split(","))):
        bits = part.split(":")
        name, action, nth = bits[0], (bits[1:2] or ["kill"])[0], (bits[2:3] or ["1"])[0]
        if name not in POINTS or action not in ("kill", "pause") or not nth.isdigit():
            raise ValueError(
                f"{ENV}={raw!r}: '{part}' is not point:kill|pause[:nth] with a point of {POINTS}"
            )
        plan[name] = (action, int(nth))
    return plan


def active() -> bool:
    return bool(os.environ.get(ENV))


def point(name: str) -> None:
    """Pass the crash point `name`: act on it if the plan says this is the pass to act on."""
    if not _plan:
        if not active():
            return
        _plan.update(_parse(os.environ[ENV]))
    planned = _plan.get(name)
    if planned is None:
        return
    _passes[name] = _passes.get(name, 0) + 1
    action, nth = planned
    if _passes[name] != nth:
        return
    print(f"fault point {name} reached (pass {nth}, {action})", file=sys.stderr, flush=True)
    if action == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(1.0)


def install(_app) -> None:
    """Register the points that sit inside transactions (after a flush, before the commit)."""
    global _installed
    if not active() or _installed:
        return
    _installed = True
    from flask import has_request_context, request
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    from app.logs import current_context

    _plan.update(_parse(os.environ[ENV]))

    @event.listens_for(Session, "after_flush")
    def _mid_transaction(_session, _flush_context):
        if "timer_id" in current_context():
            point("mid_timer_fire")
        elif has_request_context() and request.method == "POST" and request.path.endswith("/complete"):
            point("mid_task_completion")
