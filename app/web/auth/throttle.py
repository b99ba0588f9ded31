"""Sign-in throttling: growing delays per (user name, address), a gentle brake per address.

- A pair (user name, client address) may fail SIGNIN_FREE_FAILURES times within SIGNIN_WINDOW
  seconds freely; after that each further try waits SIGNIN_FIRST_DELAY seconds after the last
  failure, doubling with every failure, capped at SIGNIN_MAX_DELAY. A refused try verifies no
  password and is not counted. A success forgets the pair's failures.
- Nothing is locked by user name alone: the right password from an address that has not failed
  works at once, so a stranger guessing someone's password cannot lock them out.
- An address with more than SIGNIN_ADDRESS_FREE_FAILURES failures in the window (one host trying
  many names) must wait SIGNIN_ADDRESS_DELAY seconds after its last failure: it slows a spray to
  one guess per delay but never locks out the people who share that address (an office NAT).

Every decision is logged on the `app.web.auth` logger: success (INFO), failure and throttled
(WARNING), with the user name and the address.
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app

from app.clock import utcnow
from app.extensions import db
from app.models import LoginAttempt


@dataclass(frozen=True)
class Verdict:
    """Whether a sign-in may be tried now; if not, how many seconds to wait."""

    wait_seconds: int = 0

    @property
    def allowed(self) -> bool:
        return self.wait_seconds <= 0


def _setting(name: str) -> int:
    return int(current_app.config[name])


def pair_delay(failures: int) -> int:
    """Seconds a pair waits after its last failure, having failed `failures` times."""
    over = failures - _setting("SIGNIN_FREE_FAILURES")
    if over < 0:
        return 0
    return min(_setting("SIGNIN_FIRST_DELAY") * 2 ** min(over, 30), _setting("SIGNIN_MAX_DELAY"))


def _failures(*conditions) -> tuple[int, datetime | None]:
    since = utcnow() - timedelta(seconds=_setting("SIGNIN_WINDOW"))
    count, last = db.session.execute(
        db.select(db.func.count(LoginAttempt.id), db.func.max(LoginAttempt.at)).where(
            LoginAttempt.at >= since, *conditions
        )
    ).one()
    return count, last


def verdict(username: str, remote_addr: str) -> Verdict:
    """May (username, remote_addr) try a password now?"""
    now = utcnow()
    waits = []
    count, last = _failures(LoginAttempt.username == username, LoginAttempt.remote_addr == remote_addr)
    if last is not None and pair_delay(count):
        waits.append((last + timedelta(seconds=pair_delay(count)) - now).total_seconds())
    count, last = _failures(LoginAttempt.remote_addr == remote_addr)
    if last is not None and count > _setting("SIGNIN_ADDRESS_FREE_FAILURES"):
        waits.append((last + timedelta(seconds=_setting("SIGNIN_ADDRESS_DELAY")) - now).total_seconds())
    return Verdict(max(0, math.ceil(max(waits, default=0))))


def record_failure(username: str, remote_addr: str) -> None:
    """Count a failed sign-in; forget this name's and this address's failures older than the window.

    Call inside a write transaction. The two deletes keep the table as small as the window allows
    (both use an index) without a separate clean-up job.
    """
    now = utcnow()
    db.session.add(LoginAttempt(username=username, remote_addr=remote_addr, at=now))
    forget = now - timedelta(seconds=_setting("SIGNIN_WINDOW"))
    for condition in (LoginAttempt.username == username, LoginAttempt.remote_addr == remote_addr):
        db.session.execute(db.delete(LoginAttempt).where(condition, LoginAttempt.at < forget))


def forget_failures(username: str, remote_addr: str) -> None:
    """A success from this address: its failures for this user name no longer count. Inside a write."""
    db.session.execute(
        db.delete(LoginAttempt).where(
            LoginAttempt.username == username, LoginAttempt.remote_addr == remote_addr
        )
    )
