"""Sign-in with Argon2id passwords, throttled per (user, address); sign-out, which ends every
session of the user. The session is renewed at sign-in; `next` may only name a page of this site.
"""

import logging
from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from app.accounts import end_sessions
from app.extensions import db
from app.models import User
from app.passwords import hash_password, verify_password
from app.transactions import write_transaction
from app.web.auth import throttle
from app.web.auth.blueprint import bp

log = logging.getLogger(__name__)
_DUMMY_HASH = "$argon2id$v=19$m=65536,t=3,p=4$n5xfoHQ3zUXqTtt7kxrksg$UMrTRx443OrCvOXqh2WlGJkl0vuB11EIaOVDJnW3a5k"  # unknown users cost a real verify
MAX_NEXT = 2000


def check_password(user: User | None, password: str) -> tuple[bool, bool]:
    """(matches, stale): Argon2id; an unknown user costs the same time as a wrong password."""
    matches, stale = verify_password(
        user.password_hash if user and user.password_hash else _DUMMY_HASH, password
    )
    if not matches or user is None or not user.password_hash:
        return False, False
    return True, stale


def safe_next(target: str) -> str | None:
    """`target` if it is a path on this site, None otherwise.

    Browsers drop tabs and newlines inside a URL, strip leading control characters and read a
    backslash as a slash, so `/\\t/evil.example` or `/\\\\evil.example` would leave the site: any
    control, space-like or backslash character refuses the target, as does anything that
    starts with `//` or carries a scheme or a host.
    """
    if not target or len(target) > MAX_NEXT or not target.startswith("/") or target.startswith("//"):
        return None
    if any(c == "\\" or c.isspace() or not c.isprintable() for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/") or parts.path.startswith("//"):
        return None
    return target


def _wait_text(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    return f"{round(seconds / 60)} minutes"


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Show the sign-in form; sign in."""
    if current_user.is_authenticated:
        return redirect(url_for("home"))
    if request.method != "POST":  # GET, and HEAD from link checkers: no sign-in attempt
        return render_template("auth/login.html", username="")
    username = request.form.get("username", "").strip()[:80]
    password = request.form.get("password", "")
    remote = (request.remote_addr or "unknown")[:64]
    verdict = throttle.verdict(username, remote)
    if not verdict.allowed:
        log.warning("sign-in throttled: user=%r addr=%s wait=%ss", username, remote, verdict.wait_seconds)
        flash(f"Too many failed sign-ins. Wait {_wait_text(verdict.wait_seconds)} and try again.", "error")
        page = render_template("auth/login.html", username=username)
        return page, 429, {"Retry-After": str(verdict.wait_seconds)}
    user = db.session.execute(db.select(User).where(User.username == username)).scalar()
    matches, stale = check_password(user, password)
    if matches and user.active:
        with write_transaction():
            throttle.forget_failures(username, remote)
            if stale:
                user.password_hash = hash_password(password)
        log.info("sign-in succeeded: user=%r addr=%s", username, remote)
        session.clear()  # a new session at sign-in: no fixation
        login_user(user)
        return redirect(safe_next(request.args.get("next", "")) or url_for("home"))
    with write_transaction():
        throttle.record_failure(username, remote)
    log.warning("sign-in failed: user=%r addr=%s", username, remote)
    flash("Unknown user name or wrong password.", "error")
    return render_template("auth/login.html", username=username), 401


@bp.post("/logout")
@login_required
def logout():
    """Sign out: end this and every other session of the user."""
    user = current_user._get_current_object()
    with write_transaction():
        end_sessions(user)
    log.info("signed out: user=%r (every session ended)", user.username)
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))
